import Testing
@testable import HelmCertServer

@Suite("--listen HOST:PORT")
struct ListenAddressTests {
    @Test(
        "valid addresses",
        arguments: [
            ("0.0.0.0:8443", "0.0.0.0", 8443), ("127.0.0.1:0", "127.0.0.1", 0), ("[::]:8443", "::", 8443),
            ("[::1]:1", "::1", 1), ("localhost:65535", "localhost", 65535),
        ])
    func valid(text: String, host: String, port: Int) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address == ListenAddress(host: host, port: port))
    }

    @Test("invalid addresses say what shape is expected", arguments: ["8443", ":8443", "host:", "host:65536", "::1:8443", "[::1]8443", "host:-1", "host:http"])
    func invalid(text: String) {
        #expect(throws: ListenAddressError.self) { try ListenAddress(parsing: text) }
        #expect((try? ListenAddress(parsing: text)) == nil)
    }

    @Test("IPv6 addresses print in brackets")
    func description() {
        #expect(ListenAddress(host: "::", port: 8443).description == "[::]:8443")
        #expect(ListenAddress(host: "127.0.0.1", port: 80).description == "127.0.0.1:80")
    }
}

@Suite("Bearer header and If-None-Match parsing")
struct RequestHeaderTests {
    @Test("Authorization: Bearer <token>, scheme case-insensitive", arguments: [
        ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER  abc", "abc"), ("Bearer tök€n", "tök€n"),
    ])
    func bearer(header: String, token: String) {
        #expect(HelmCertResponder.bearerToken(header).map(String.init) == token)
    }

    @Test("other schemes and empty tokens are not bearer tokens", arguments: ["Basic YWJj", "Bearer", "Bearer ", "Bearer    ", "Bearerabc", "Bearer a b", "Token abc", ""])
    func notBearer(header: String) {
        #expect(HelmCertResponder.bearerToken(header) == nil)
    }

    @Test("If-None-Match matches *, the tag, a weak form of it, or one of a list")
    func ifNoneMatch() {
        let tag = "\"abc\""
        #expect(RenderedBundle.matches("*", etag: tag))
        #expect(RenderedBundle.matches("\"abc\"", etag: tag))
        #expect(RenderedBundle.matches("W/\"abc\"", etag: tag))
        #expect(RenderedBundle.matches("\"x\", \"abc\"", etag: tag))
        #expect(!RenderedBundle.matches("\"abcd\"", etag: tag))
        #expect(!RenderedBundle.matches("abc", etag: tag))
    }
}
