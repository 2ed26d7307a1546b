import Foundation
import HTTPServer
import Testing
@testable import HelmCertServer
import TestSupport

/// Lines recorded by an event loop (``AuditLog/record(_:atEndOf:then:)``): written at the end of the loop's turn,
/// by the loop itself when the destination takes them at once, else by the writer thread, in order.
@Suite("Audit lines written at the end of a loop's turn")
struct AuditLogTurnTests {
    typealias Completions = AuditLogTests.Completions

    static func entry(_ user: String) -> AuditEntry {
        var entry = AuditLogTests.ordinary
        entry.user = user
        return entry
    }

    static func users(in bytes: [UInt8]) throws -> [String] {
        try String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { line in
            let object = try JSONDecoder().decode([String: AuditLogTests.JSONValue].self, from: Data(line.utf8))
            guard case .string(let user) = object["user"] else { return "?" }
            return user
        }
    }

    @Test("a turn's lines wait for its end, then a pipe with room takes them together, in order, completed before end() returns")
    func writtenAtTheEndOfTheTurn() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        let log = try AuditLog(path: fifo.path)
        let turn = EventLoopTurn()
        let completions = Completions()
        for user in ["a", "b", "c"] {
            #expect(log.record(Self.entry(user), atEndOf: turn, then: completions.add))
        }
        #expect(completions.values.isEmpty, "completed before the turn ended")
        #expect(fifo.drain().isEmpty, "written before the turn ended")
        turn.end()
        #expect(completions.values == [true, true, true], "the loop wrote them itself: no writer thread to wait for")
        #expect(try Self.users(in: fifo.drain()) == ["a", "b", "c"])
    }

    @Test("a regular file: the turn's lines go to the writer thread (a file system can stall a write), in order")
    func fileLinesGoToTheWriterThread() throws {
        let dir = try TemporaryDirectory("audit-turn")
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.log"))
        let turn = EventLoopTurn()
        let completions = Completions()
        for user in ["a", "b"] { #expect(log.record(Self.entry(user), atEndOf: turn, then: completions.add)) }
        turn.end()
        #expect(completions.wait(for: 10, count: 2) == [true, true])
        #expect(try Self.users(in: dir.read("audit.log")) == ["a", "b"])
    }

    @Test("a full pipe: the turn's lines go to the writer thread behind what it holds, and complete once it drains")
    func fullPipeFallsBackInOrder() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        let log = try AuditLog(path: fifo.path)
        var filler = AuditLogTests.longest
        filler.user = "filler"
        #expect(log.recordAndWait(filler), "the first line fits the empty pipe")
        let turn = EventLoopTurn()
        let completions = Completions()
        var long = AuditLogTests.longest
        long.user = "long"
        #expect(log.record(long, atEndOf: turn, then: completions.add))
        #expect(log.record(Self.entry("short"), atEndOf: turn, then: completions.add))
        turn.end()
        #expect(completions.values.isEmpty, "completed before the pipe could take the lines")
        // The writer thread now holds lines: the next turn's line queues behind them, even though it would fit.
        #expect(log.record(Self.entry("next"), atEndOf: turn, then: completions.add))
        turn.end()
        #expect(completions.values.isEmpty)
        let drained = fifo.drain(for: 1)
        #expect(completions.wait(for: 2, count: 3) == [true, true, true])
        #expect(try Self.users(in: drained + fifo.drain()).map { $0.hasPrefix("uuu") ? "cut" : $0 } == ["filler", "long", "short", "next"])
    }

    @Test("lines in turn batches count against queueCapacity; a refused one's completion never runs")
    func batchesCountAgainstCapacity() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        let log = try AuditLog(path: fifo.path, queueCapacity: 2)
        let turn = EventLoopTurn()
        let completions = Completions()
        #expect(log.record(Self.entry("a"), atEndOf: turn, then: completions.add))
        #expect(log.record(Self.entry("b"), atEndOf: turn, then: completions.add))
        #expect(!log.record(Self.entry("c"), atEndOf: turn) { _ in Issue.record("a refused line's completion ran") })
        #expect(!log.record(Self.entry("d")) { _ in Issue.record("a refused line's completion ran") })
        turn.end()
        #expect(completions.values == [true, true])
        #expect(log.record(Self.entry("e"), atEndOf: turn, then: completions.add), "room again once written")
        turn.end()
        #expect(try Self.users(in: fifo.drain()) == ["a", "b", "e"])
    }

    @Test("a destination that refuses the write: the turn's lines complete with false")
    func failedWrite() throws {
        let log = try AuditLog(path: "/dev/full")
        let turn = EventLoopTurn()
        let completions = Completions()
        #expect(log.record(Self.entry("a"), atEndOf: turn, then: completions.add))
        turn.end()
        #expect(completions.wait(for: 10) == [false])
    }

    @Test("which destinations a loop writes itself: pipes (reopened non-blocking) and sockets; not files or terminals")
    func directWriteByDestination() throws {
        let dir = try TemporaryDirectory("audit-direct")
        defer { dir.remove() }
        let file = open(dir.file("audit.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        defer { close(file) }
        #expect(AuditDirectWrite(for: file) == .unavailable, "a regular file")

        var pipeFDs: [Int32] = [0, 0]
        try #require(pipe(&pipeFDs) == 0)
        defer { pipeFDs.forEach { close($0) } }
        let forPipe = AuditDirectWrite(for: pipeFDs[1])
        defer { forPipe.close() }
        guard case .nonBlocking(let reopened) = forPipe else { Issue.record("a pipe: \(forPipe)"); return }
        #expect(reopened != pipeFDs[1], "a descriptor of its own")
        #expect(fcntl(reopened, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(pipeFDs[1], F_GETFL) & O_NONBLOCK == 0, "the shared descriptor was left blocking")
        #expect(write(reopened, "x", 1) == 1)
        var byte: UInt8 = 0
        #expect(read(pipeFDs[0], &byte, 1) == 1 && byte == UInt8(ascii: "x"), "the same pipe")

        var pair: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { pair.forEach { close($0) } }
        #expect(AuditDirectWrite(for: pair[0]) == .send(pair[0]))

        let null = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(null) }
        #expect(AuditDirectWrite(for: null) == .unavailable, "a character device (a terminal's master reopens as a new one)")
    }
}
