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
