import Testing
@testable import HelmCertServer

@Suite("Certificate lifetimes (?ttl=)")
struct CertificateLifetimeTests {
    @Test("Go durations parse to whole seconds", arguments: [
        ("8h", 8 * 3600), ("30m", 1800), ("90s", 90), ("1h30m", 5400), ("1.5h", 5400), ("2h45m30s", 9930),
        ("0.5m", 30), (".5h", 1800), ("1m0.9s", 60),
    ])
    func parses(text: String, seconds: Int64) {
        #expect(CertificateLifetime.parse(text) == .seconds(seconds))
    }

    @Test("anything else is not a duration", arguments: [
        "", "8", "h", "8d", "-1h", "+1h", "8H", "1.2.3h", "8h ", " 8h", "1ms", "1e3s", "8hh", "99999999999h",
        String(repeating: "1", count: 65) + "s",
    ])
    func refuses(text: String) {
        #expect(CertificateLifetime.parse(text) == nil)
    }

    @Test("no ttl asks for the default, 8h; with a shorter maximum, the maximum")
    func defaults() throws {
        #expect(try CertificateLifetime().ttl(query: nil) == .seconds(8 * 3600))
        #expect(try CertificateLifetime().ttl(query: "other=1") == .seconds(8 * 3600))
        #expect(try CertificateLifetime(maxTTL: .seconds(3600)).ttl(query: nil) == .seconds(3600))
    }

    @Test("a ttl up to the maximum is taken; beyond it is refused naming the limit")
    func limit() throws {
        let lifetime = CertificateLifetime(maxTTL: .seconds(24 * 3600))
        #expect(try lifetime.ttl(query: "ttl=24h") == .seconds(24 * 3600))
        #expect(try lifetime.ttl(query: "x=y&ttl=30m") == .seconds(1800))
        #expect(throws: CertificateLifetime.Refusal.tooLong("25h", limit: .seconds(24 * 3600))) {
            try lifetime.ttl(query: "ttl=25h")
        }
        let detail = CertificateLifetime.Refusal.tooLong("25h", limit: .seconds(24 * 3600)).description
        #expect(detail.contains("at most 24h"))
        #expect(detail.contains("--issue-max-ttl"))
    }

    @Test("a malformed, too short, empty or repeated ttl is refused", arguments: [
        ("ttl=8", CertificateLifetime.Refusal.malformed("8")),
        ("ttl=", .malformed("")),
        ("ttl", .malformed("")),
        ("ttl=59s", .tooShort("59s")),
        ("ttl=1h&ttl=2h", .repeated),
        ("ttl=" + String(repeating: "1m", count: 40), .malformed(String(repeating: "1m", count: 32))),
    ])
    func refusals(query: String, refusal: CertificateLifetime.Refusal) {
        #expect(throws: refusal) { try CertificateLifetime().ttl(query: query) }
    }

    @Test("durations are printed as Go prints them")
    func format() {
        #expect(CertificateLifetime.format(.seconds(24 * 3600)) == "24h")
        #expect(CertificateLifetime.format(.seconds(5400)) == "1h30m")
        #expect(CertificateLifetime.format(.seconds(90)) == "1m30s")
    }
}
