import FoundationEssentials
import Testing
@testable import HelmCertServer
import TestSupport

@Suite("Audit lines")
struct AuditLogTests {
    @Test("each line is one JSON object; odd characters in user names and paths are escaped")
    func escaping() throws {
        let dir = try TemporaryDirectory("audit")
        defer { dir.remove() }
        let log = try AuditLog(path: dir.file("audit.log"))
        let entry = AuditEntry(
            user: "we\"ird\\user\n", authMethod: "token", groups: ["a", "ü"], method: "GET", path: "/v1/bundles/helm/\u{1}",
            bundle: "helm", file: "key.pem", status: 200, remoteAddress: "[::1]:5", bytes: 12, etag: "\"abc\"")
        #expect(log.record(entry))
        #expect(log.record(entry))
        let lines = String(decoding: try dir.read("audit.log"), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        let object = try #require(try JSONDecoder().decode([String: JSONValue].self, from: Data(lines[0].utf8)) as [String: JSONValue]?)
        #expect(object["user"] == .string("we\"ird\\user\n"))
        #expect(object["path"] == .string("/v1/bundles/helm/\u{1}"))
        #expect(object["groups"] == .array([.string("a"), .string("ü")]))
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
        #expect(log.record(AuditEntry(
            user: "-", authMethod: "none", groups: [], method: "GET", path: "/v1", bundle: nil, file: nil, status: 401,
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
