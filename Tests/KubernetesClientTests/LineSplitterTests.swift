import Testing
@testable import KubernetesClient

@Suite struct LineSplitterTests {
    @Test func returnsCompleteLinesAndKeepsThePartialOne() {
        var splitter = LineSplitter()
        #expect(splitter.append(Array("{\"a\":1}\n{\"b\"".utf8)) == [Array("{\"a\":1}".utf8)])
        #expect(splitter.hasPartialLine)
        #expect(splitter.append(Array(":2}\r\n\n".utf8)) == [Array("{\"b\":2}".utf8)])
        #expect(!splitter.hasPartialLine)
    }

    @Test func splitsManyLinesInOneChunkAndOneLineOverManyChunks() {
        var splitter = LineSplitter()
        #expect(splitter.append(Array("1\n2\n3\n".utf8)).count == 3)
        var lines: [[UInt8]] = []
        for byte in "abcdef\n".utf8 { lines += splitter.append([byte]) }
        #expect(lines == [Array("abcdef".utf8)])
    }
}
