import Foundation
import Testing
@testable import HelmCertServer
import HTTPServer
import TestSupport

@Suite("Audit lines")
struct AuditLogTests {
    @Test("each line is one JSON object; odd characters in user names and paths are escaped")
    func escaping() throws {
        let dir = try TemporaryDirectory("audit")
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.log"))
        let entry = AuditEntry(
            user: "we\"ird\\user\n", authMethod: .token, groups: ["a", "ü"], method: .get, path: "/v1/bundles/helm/\u{1}",
            bundle: "helm", file: "key.pem", status: 200, remoteAddress: "[::1]:5", bytes: 12, etag: "\"abc\"")
        #expect(log.recordAndWait(entry))
        #expect(log.recordAndWait(entry))
        let lines = String(decoding: try dir.read("audit.log"), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        let object = try #require(try JSONDecoder().decode([String: JSONValue].self, from: Data(lines[0].utf8)) as [String: JSONValue]?)
        #expect(object["user"] == .string("we\"ird\\user\n"))
        #expect(object["path"] == .string("/v1/bundles/helm/\u{1}"))
        #expect(object["groups"] == .array([.string("a"), .string("ü")]))
        #expect(object["method"] == .string("GET"), "the method is written as its token")
        #expect(object["etag"] == .string("\"abc\""))
        #expect(object["status"] == .number(200))
        #expect(object["audit"] == .bool(true))
    }

    @Test("every control character, quote and backslash survives the trip through JSON; long runs are copied intact")
    func everyEscape() throws {
        let awkward = String(decoding: (0..<0x20).map { UInt8($0) } + Array("\"\\/ü€😀".utf8), as: UTF8.self)
        let long = String(repeating: "abc/DEF-123.", count: 40)
        for text in [awkward, long, "", "x", long + awkward + long] {
            var bytes: [UInt8] = []
            appendJSONString(text, to: &bytes)
            #expect(!bytes.contains { $0 < 0x20 })
            #expect(try JSONDecoder().decode(String.self, from: Data(bytes)) == text)
        }
    }

    @Test("the time is RFC 3339 UTC with milliseconds, and it is now")
    func timeField() throws {
        let dir = try TemporaryDirectory("audit-time")
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.log"))
        let before = Date()
        #expect(log.recordAndWait(AuditEntry(
            user: "-", authMethod: nil, groups: [], method: .get, path: "/v1", bundle: nil, file: nil, status: 401,
            remoteAddress: "127.0.0.1:1", bytes: 0, etag: nil)))
        let line = String(decoding: try dir.read("audit.log"), as: UTF8.self)
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(line.utf8))
        guard case .string(let time) = object["time"] else { Issue.record("no time in \(line)"); return }
        #expect(time.utf8.count == 24 && time.hasSuffix("Z"), "\(time)")
        let parsed = try Date(time, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
        #expect(abs(parsed.timeIntervalSince(before)) < 5, "\(time) vs \(before)")
        #expect(object["status"] == .number(401))
        #expect(object["bytes"] == .number(0))
    }

    static let ordinary = AuditEntry(
        user: "alice", authMethod: .token, groups: ["devs"], method: .get, path: "/v1/bundles/helm/key.pem",
        bundle: "helm", file: "key.pem", status: 200, remoteAddress: "127.0.0.1:40000", bytes: 241, etag: "\"abc\"")

    /// An entry whose line is over 2 KiB: path, user and groups at their limits.
    static let longest = AuditEntry(
        user: String(repeating: "u", count: 300), authMethod: .token, groups: Array(repeating: String(repeating: "g", count: 200), count: 6),
        method: .get, path: String(repeating: "/", count: 3000), bundle: "helm", file: "key.pem", status: 200,
        remoteAddress: "127.0.0.1:40000", bytes: 241, etag: nil)

    @Test("a 15 KB path gives a line of at most 4096 bytes whose path is cut with a marker naming the length")
    func longPathIsCut() throws {
        var entry = Self.ordinary
        entry.path = "/v1/" + String(repeating: "A", count: 15_000)
        let line = AuditLog.line(for: entry)
        #expect(line.count <= 4096)
        #expect(line.last == UInt8(ascii: "\n"))
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(line))
        guard case .string(let path) = object["path"] else { Issue.record("no path"); return }
        #expect(path.hasPrefix("/v1/AAAA"))
        #expect(path.hasSuffix("...[cut: 15004 bytes in all]"))
        #expect(path.utf8.count <= AuditEntry.Limits.path)
        #expect(object["status"] == .number(200), "the fields after the path are all there")
        #expect(object["etag"] == .string("\"abc\""))
    }

    @Test("every field at its worst at once (huge, all escapes, many groups) still fits one line of valid JSON")
    func worstCaseFits() throws {
        let awful = String(repeating: "\u{1}\"😀", count: 5_000)
        var entry = AuditEntry(
            user: awful, authMethod: .kubernetes, groups: Array(repeating: awful, count: 50) + ["last"], method: HTTPMethod(rawValue: awful),
            path: awful, bundle: awful, file: awful, status: 503, remoteAddress: awful, bytes: Int.min, etag: awful)
        entry.request = .max
        entry.answerDropped = true
        entry.certificate = IssuedCertificateAudit(
            serial: awful, subject: awful, notAfter: Date(timeIntervalSince1970: 253_402_300_799), sha256: awful, how: .generated)
        let line = AuditLog.line(for: entry)
        #expect(line.count <= 4096, "\(line.count) bytes")
        let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(line))
        #expect(object.count == 16)
        guard case .array(let groups) = object["groups"], case .string(let last) = groups.last else {
            Issue.record("no groups"); return
        }
        #expect(last.hasSuffix("more groups cut]"))
    }

    @Test("an issued certificate's subject for a 64-character CN at its worst (4-byte characters, or quotes) is never cut")
    func subjectOfLongestCommonNameFits() throws {
        for character in ["😀", "\""] {
            let subject = "CN=" + String(repeating: character == "\"" ? "\\\"" : character, count: 64)
            var entry = AuditEntry(
                user: "u", authMethod: .token, groups: [], method: .post, path: "/v1/bundles/helm/personal.tar.gz", bundle: "helm",
                file: nil, status: 200, remoteAddress: "127.0.0.1:1", bytes: 1, etag: nil)
            entry.certificate = IssuedCertificateAudit(serial: "AB", subject: subject, notAfter: Date(), sha256: "00", how: .generated)
            let object = try JSONDecoder().decode([String: JSONValue].self, from: Data(AuditLog.line(for: entry)))
            guard case .object(let certificate) = object["certificate"], case .string(let written) = certificate["subject"] else {
                Issue.record("no certificate subject"); continue
            }
            #expect(written == subject, "cut: \(written)")
        }
    }

    @Test("a value is cut at a character boundary, within its limit, and short values are left alone",
          arguments: [40, 41, 42, 43, 44, 45, 100, 257])
    func cutKeepsCharactersWhole(limit: Int) throws {
        for text in [String(repeating: "ü€😀\n", count: 200), String(repeating: "x", count: 1000), "short"] {
            var bytes: [UInt8] = []
            appendJSONString(text, to: &bytes, cutAt: limit)
            #expect(bytes.count - 2 <= max(limit, 0) || text == "short")
            let decoded = try JSONDecoder().decode(String.self, from: Data(bytes))
            if text == "short" {
                #expect(decoded == text)
            } else {
                #expect(decoded.hasSuffix("...[cut: \(text.utf8.count) bytes in all]"))
                #expect(text.hasPrefix(String(decoded.dropLast("...[cut: \(text.utf8.count) bytes in all]".count))))
            }
        }
    }

    @Test("an answer waits for its line: the completion runs only once a stalled destination takes the line")
    func completionAfterWrite() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        let log = try AuditLog(path: fifo.path)
        let filler = Self.longest
        #expect(AuditLog.line(for: filler).count > 2048, "two lines must not fit the 4096-byte pipe")
        #expect(log.recordAndWait(filler), "the first line fits the empty pipe")
        let written = Completions()
        #expect(log.record(filler, then: written.add))
        Thread.sleep(forTimeInterval: 0.3)
        #expect(written.values.isEmpty, "completed before the line could be written")
        #expect(fifo.drain().count > 2048)
        #expect(written.wait(for: 1) == [true])
        fifo.drain(for: 0.1)
    }

    @Test("a stalled destination fills the queue; then record refuses at once, and accepts again once it drains")
    func fullQueueRefuses() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        let log = try AuditLog(path: fifo.path, queueCapacity: 3)
        let entry = Self.longest
        let completions = Completions()
        var accepted = 0
        // One line fills the pipe, one blocks in write(2), three wait: the sixth is refused.
        for _ in 0..<20 where log.record(entry, then: completions.add) {
            accepted += 1
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect((3...5).contains(accepted), "\(accepted) accepted with room for 3 waiting")
        #expect(!log.record(entry) { _ in Issue.record("a refused line's completion ran") })
        fifo.drain(for: 0.5)
        #expect(completions.wait(for: 2, count: accepted) == Array(repeating: true, count: accepted))
        #expect(log.recordAndWait(entry))
        fifo.drain(for: 0.1)
    }

    @Test("a destination that refuses the write completes with false")
    func failedWrite() throws {
        let log = try AuditLog(path: "/dev/full")
        #expect(!log.recordAndWait(Self.ordinary))
    }

    /// Collects completion results across threads.
    final class Completions: @unchecked Sendable {
        private let condition = NSCondition()
        private var results: [Bool] = []
        var values: [Bool] { condition.withLock { results } }
        @Sendable func add(_ result: Bool) {
            condition.withLock {
                results.append(result)
                condition.broadcast()
            }
        }
        /// Waits up to `seconds` for `count` results and returns those there are.
        func wait(for seconds: Double, count: Int = 1) -> [Bool] {
            let deadline = Date().addingTimeInterval(seconds)
            condition.lock()
            defer { condition.unlock() }
            while results.count < count && condition.wait(until: deadline) {}
            return results
        }
    }

    /// Just enough JSON to compare decoded values.
    enum JSONValue: Decodable, Equatable {
        case string(String), number(Double), bool(Bool), array([JSONValue]), object([String: JSONValue]), null
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let s = try? c.decode(String.self) { self = .string(s) }
            else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
            else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
            else { self = .null }
        }
    }
}

extension AuditLog {
    /// Records `entry` and waits for the writer; whether the line was written.
    func recordAndWait(_ entry: AuditEntry) -> Bool {
        let result = AuditLogTests.Completions()
        guard record(entry, then: result.add) else { return false }
        return result.wait(for: 10) == [true]
    }
}
