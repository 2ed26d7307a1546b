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

    @Test("a turn's lines wait for its end, then go out together in order, completed before end() returns")
    func writtenAtTheEndOfTheTurn() throws {
        let dir = try TemporaryDirectory("audit-turn")
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.log"))
        let turn = EventLoopTurn()
        let completions = Completions()
        for user in ["a", "b", "c"] {
            #expect(log.record(Self.entry(user), atEndOf: turn, then: completions.add))
        }
        #expect(completions.values.isEmpty, "completed before the turn ended")
        #expect(try dir.read("audit.log").isEmpty, "written before the turn ended")
        turn.end()
        #expect(completions.values == [true, true, true], "the loop wrote them itself: no writer thread to wait for")
        #expect(try Self.users(in: dir.read("audit.log")) == ["a", "b", "c"])
    }

    @Test("a pipe with room takes the turn's lines at once, without the writer thread")
    func pipeWithRoom() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        let log = try AuditLog(path: fifo.path)
        let turn = EventLoopTurn()
        let completions = Completions()
        for user in ["a", "b"] { #expect(log.record(Self.entry(user), atEndOf: turn, then: completions.add)) }
        turn.end()
        #expect(completions.values == [true, true])
        #expect(try Self.users(in: fifo.drain()) == ["a", "b"])
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
        let dir = try TemporaryDirectory("audit-turn-capacity")
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.log"), queueCapacity: 2)
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
        #expect(try Self.users(in: dir.read("audit.log")) == ["a", "b", "e"])
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

    @Test("which destinations a loop writes itself: pipes, sockets and local files; not an unknown file system")
    func directWriteByDestination() throws {
        let dir = try TemporaryDirectory("audit-direct")
        defer { dir.remove() }
        let file = open(dir.file("audit.log"), O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        defer { close(file) }
        #expect(AuditDirectWrite(for: file) == .localFile(file), "a file in \(dir.file(""))")

        var pipeFDs: [Int32] = [0, 0]
        try #require(pipe(&pipeFDs) == 0)
        defer { pipeFDs.forEach { close($0) } }
        let forPipe = AuditDirectWrite(for: pipeFDs[1])
        defer { forPipe.close() }
        guard case .nonBlocking(let reopened) = forPipe else { Issue.record("a pipe: \(forPipe)"); return }
        #expect(reopened != pipeFDs[1], "a descriptor of its own")
        #expect(fcntl(reopened, F_GETFL) & O_NONBLOCK != 0)
        #expect(fcntl(pipeFDs[1], F_GETFL) & O_NONBLOCK == 0, "the shared descriptor was left blocking")

        var pair: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        defer { pair.forEach { close($0) } }
        #expect(AuditDirectWrite(for: pair[0]) == .send(pair[0]))

        // procfs stands in for a file system not known to be local (NFS, FUSE, …): the writer thread writes.
        let proc = open("/proc/self/status", O_RDONLY | O_CLOEXEC)
        defer { close(proc) }
        #expect(AuditDirectWrite(for: proc) == .unavailable)
    }
}
