import Foundation
import Logging
import Synchronization
import Testing
import TestSupport
@testable import HelmCertServer

/// A stand-in file: what `read` returns or throws, and what `apply` does, set by the test between looks.
private final class FakeFile: Sendable {
    struct Gone: Error, CustomStringConvertible {
        var description: String
    }
    struct Refused: Error, CustomStringConvertible {
        var description: String { "does not load" }
    }

    let contents = Mutex<Result<[UInt8], Gone>>(.success([1]))
    let refuses = Mutex<Set<[UInt8]>>([])
    let applied = Mutex<[[UInt8]]>([])
    let failures = Mutex<[String]>([])

    func watch(initial: [UInt8]? = nil) -> FileWatch<[UInt8]> {
        FileWatch(
            .tokenFile, logger: Logger(label: "test"), initial: initial,
            read: { try self.contents.withLock { try $0.get() } },
            apply: { bytes in
                if self.refuses.withLock({ $0.contains(bytes) }) { throw Refused() }
                self.applied.withLock { $0.append(bytes) }
                return bytes.count > 1 ? ["line 2 skipped"] : []
            },
            failed: { error in self.failures.withLock { $0.append("\(error)") } })
    }
}

@Suite("FileWatch: read, compare with the last bytes, apply, report each failure once")
struct FileWatchTests {
    @Test("the first look applies; the same bytes again do nothing; new bytes are applied")
    func appliesChanges() {
        let file = FakeFile()
        let watch = file.watch()
        #expect(watch.state == .unread)
        #expect(watch.check() == .applied)
        #expect(watch.check() == .unchanged)
        file.contents.withLock { $0 = .success([2]) }
        #expect(watch.check() == .applied)
        #expect(file.applied.withLock { $0 } == [[1], [2]])
        #expect(watch.state == .applied(problems: []))
    }

    @Test("contents already in use are not applied again at the first look")
    func initialContents() {
        let file = FakeFile()
        let watch = file.watch(initial: [1])
        #expect(watch.check() == .unchanged)
        #expect(file.applied.withLock { $0 }.isEmpty)
    }

    @Test("problems that did not stop the apply are kept in the state for /readyz")
    func problems() {
        let file = FakeFile()
        file.contents.withLock { $0 = .success([1, 2]) }
        let watch = file.watch()
        watch.check()
        #expect(watch.state == .applied(problems: ["line 2 skipped"]))
    }

    @Test("a read failure is reported once while it lasts; another one is reported too")
    func readFailuresOnce() {
        let file = FakeFile()
        let watch = file.watch()
        watch.check()
        file.contents.withLock { $0 = .failure(.init(description: "cannot read: gone")) }
        for _ in 0..<3 { #expect(watch.check() == .failed) }
        #expect(watch.state == .failing(reason: "cannot read: gone"))
        file.contents.withLock { $0 = .failure(.init(description: "cannot read: permission denied")) }
        watch.check()
        #expect(file.failures.withLock { $0 } == ["cannot read: gone", "cannot read: permission denied"])
    }

    @Test("after a read failure the same bytes as before are applied again (the failure may have undone them)")
    func reappliesAfterReadFailure() {
        let file = FakeFile()
        let watch = file.watch()
        watch.check()
        file.contents.withLock { $0 = .failure(.init(description: "gone")) }
        watch.check()
        file.contents.withLock { $0 = .success([1]) }
        #expect(watch.check() == .applied)
        #expect(file.applied.withLock { $0 } == [[1], [1]])
        // Once it was applied cleanly, the same failure is news again.
        file.contents.withLock { $0 = .failure(.init(description: "gone")) }
        watch.check()
        #expect(file.failures.withLock { $0 } == ["gone", "gone"])
    }

    @Test("bytes that do not apply are not tried again until they change; the state says why meanwhile")
    func applyFailure() {
        let file = FakeFile()
        let watch = file.watch()
        watch.check()
        file.refuses.withLock { $0 = [[9]] }
        file.contents.withLock { $0 = .success([9]) }
        #expect(watch.check() == .failed)
        #expect(watch.check() == .unchanged)
        #expect(watch.state == .failing(reason: "does not load"))
        #expect(file.failures.withLock { $0 } == ["does not load"])
        file.contents.withLock { $0 = .success([3]) }
        #expect(watch.check() == .applied)
        #expect(file.applied.withLock { $0 } == [[1], [3]])
    }

    @Test("failures remembered as logged are bounded: past 64 distinct ones it starts afresh")
    func rememberedFailuresBounded() {
        let file = FakeFile()
        let watch = file.watch()
        for n in 0...FileWatch<[UInt8]>.rememberedMessages {
            file.contents.withLock { $0 = .failure(.init(description: "failure \(n)")) }
            watch.check()
        }
        file.contents.withLock { $0 = .failure(.init(description: "failure 0")) }
        watch.check()
        let failures = file.failures.withLock { $0 }
        #expect(failures.count == FileWatch<[UInt8]>.rememberedMessages + 2)
        #expect(failures.last == "failure 0")
    }

    @Test("FileWatches: problems of every watch but the source directory, one line each")
    func watchesProblems() {
        let file = FakeFile()
        let watch = file.watch()
        let watches = FileWatches([watch], interval: .seconds(3600))
        #expect(watches.problems.isEmpty)
        file.contents.withLock { $0 = .failure(.init(description: "cannot read /t: gone")) }
        #expect(watches.checkNow().map(\.1) == [.failed])
        #expect(watches.problems == ["token file: cannot read /t: gone"])
    }
}

@Suite("The token file, watched: revocation takes effect at the next look")
struct TokenFileWatchTests {
    private struct Fixture {
        let directory: TemporaryDirectory
        let authenticator = StaticTokenAuthenticator(tokenFile: .empty)
        let metrics = ServiceMetrics()
        let watch: FileWatch<[UInt8]>
        var path: String { directory.file("tokens.csv") }

        init(_ text: String) throws {
            directory = try TemporaryDirectory("token-watch")
            try directory.write("tokens.csv", text)
            watch = TokenFileWatch.make(
                path: directory.file("tokens.csv"), authenticator: authenticator, logger: Logger(label: "test"),
                metrics: metrics)
            watch.check()
        }

        func metric(_ name: String) -> String? {
            String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self).split(separator: "\n")
                .first { $0.hasPrefix(name + " ") || $0.hasPrefix(name + "{") }.map(String.init)
        }
    }

    @Test("bob's line removed in an edit that also holds a malformed line: bob is refused, alice and carol stay")
    func removedLineWithMalformedLine() throws {
        let fixture = try Fixture("alice-token,alice,1\nbob-token,bob,2\n")
        defer { fixture.directory.remove() }
        #expect(fixture.authenticator.user(forToken: "bob-token")?.name == "bob")
        try fixture.directory.write("tokens.csv", "alice-token,alice,1\nbroken\"line,x,3\ncarol-token,carol,4\n")
        #expect(fixture.watch.check() == .applied)
        #expect(fixture.authenticator.user(forToken: "bob-token") == nil)
        #expect(fixture.authenticator.user(forToken: "alice-token")?.name == "alice")
        #expect(fixture.authenticator.user(forToken: "carol-token")?.name == "carol")
        guard case .applied(let problems) = fixture.watch.state else {
            Issue.record("state \(fixture.watch.state)")
            return
        }
        #expect(problems.count == 1)
        #expect(problems.first?.contains("line 2") == true)
        #expect(problems.first?.contains("broken") == false)
    }

    @Test("a file full of malformed lines names the first 20 and counts the rest")
    func manyMalformedLines() throws {
        let fixture = try Fixture(String(repeating: "bad\"line\n", count: 25) + "alice-token,alice,1\n")
        defer { fixture.directory.remove() }
        #expect(fixture.authenticator.user(forToken: "alice-token")?.name == "alice")
        guard case .applied(let problems) = fixture.watch.state else {
            Issue.record("state \(fixture.watch.state)")
            return
        }
        #expect(problems.count == TokenFileWatch.maxProblemsShown + 1)
        #expect(problems.last == "5 more malformed line(s) skipped (not listed)")
    }

    @Test("the file deleted: no static tokens, the state and the metrics say so; restored: the tokens are back")
    func deletedFile() throws {
        let fixture = try Fixture("alice-token,alice,1\n")
        defer { fixture.directory.remove() }
        #expect(fixture.metric("helm_cert_server_static_tokens") == "helm_cert_server_static_tokens 1.0")
        #expect(fixture.metric("helm_cert_server_watched_file_ok") == "helm_cert_server_watched_file_ok{file=\"token_file\"} 1.0")
        try FileManager.default.removeItem(atPath: fixture.path)
        #expect(fixture.watch.check() == .failed)
        #expect(fixture.authenticator.user(forToken: "alice-token") == nil)
        #expect(fixture.authenticator.count == 0)
        guard case .failing(let reason) = fixture.watch.state else {
            Issue.record("state \(fixture.watch.state)")
            return
        }
        #expect(reason.contains(fixture.path))
        #expect(reason.contains("no static tokens are accepted"))
        #expect(fixture.metric("helm_cert_server_static_tokens") == "helm_cert_server_static_tokens 0.0")
        #expect(fixture.metric("helm_cert_server_watched_file_ok") == "helm_cert_server_watched_file_ok{file=\"token_file\"} 0.0")
        try fixture.directory.write("tokens.csv", "alice-token,alice,1\n")
        #expect(fixture.watch.check() == .applied)
        #expect(fixture.authenticator.user(forToken: "alice-token")?.name == "alice")
    }

    @Test("a token file larger than 1 MiB is not read: no static tokens rather than a partial table")
    func oversizedFile() throws {
        let fixture = try Fixture("alice-token,alice,1\n")
        defer { fixture.directory.remove() }
        let line = Array("t,u,1\n".utf8)
        try fixture.directory.write(
            "tokens.csv", Array([[UInt8]](repeating: line, count: WatchedFileLimits.tokenFile / line.count + 1).joined()))
        #expect(fixture.watch.check() == .failed)
        #expect(fixture.authenticator.count == 0)
    }
}
