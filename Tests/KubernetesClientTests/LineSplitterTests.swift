import Testing
@testable import KubernetesClient

@Suite struct LineSplitterTests {
    @Test func returnsCompleteLinesAndKeepsThePartialOne() throws {
        var splitter = LineSplitter(maxLineBytes: 100)
        #expect(try splitter.append(Array("{\"a\":1}\n{\"b\"".utf8)) == [Array("{\"a\":1}".utf8)])
        #expect(splitter.hasPartialLine)
        #expect(try splitter.append(Array(":2}\r\n\n".utf8)) == [Array("{\"b\":2}".utf8)])
        #expect(!splitter.hasPartialLine)
    }

    @Test func splitsManyLinesInOneChunkAndOneLineOverManyChunks() throws {
        var splitter = LineSplitter(maxLineBytes: 100)
        #expect(try splitter.append(Array("1\n2\n3\n".utf8)).count == 3)
        var lines: [[UInt8]] = []
        for byte in "abcdef\n".utf8 { lines += try splitter.append([byte]) }
        #expect(lines == [Array("abcdef".utf8)])
    }

    @Test func aLineOfExactlyTheLimitIsAcceptedInPiecesOrWhole() throws {
        var splitter = LineSplitter(maxLineBytes: 8)
        #expect(try splitter.append(Array("1234".utf8)).isEmpty)
        #expect(try splitter.append(Array("5678\n12345678\n".utf8)) == [Array("12345678".utf8), Array("12345678".utf8)])
    }

    @Test func aLineOneByteOverTheLimitThrowsBeforeItsNewlineArrives() throws {
        var splitter = LineSplitter(maxLineBytes: 8)
        _ = try splitter.append(Array("12345678".utf8))
        #expect(throws: LineSplitter.LineTooLong(maxLineBytes: 8)) { try splitter.append(Array("9".utf8)) }
        #expect(!splitter.hasPartialLine, "the over-long line's bytes are let go")
    }

    @Test func aStreamWithoutNewlinesIsRefusedOnceItPassesTheLimitNotBufferedOn() throws {
        var splitter = LineSplitter(maxLineBytes: 4096)
        let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 1000)
        var chunksTaken = 0
        do {
            for _ in 0..<100 {
                _ = try splitter.append(chunk)
                chunksTaken += 1
            }
            Issue.record("100 000 bytes without a newline were accepted")
        } catch {
            #expect(error.maxLineBytes == 4096)
        }
        #expect(chunksTaken == 4)
    }
}
