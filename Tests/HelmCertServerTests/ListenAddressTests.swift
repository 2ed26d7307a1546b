import Glibc
import Testing
import TestSupport
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

    @Test("invalid addresses say what shape is expected", arguments: ["8443", ":8443", "host:", "::1:8443", "[::1]8443", "host:-1", "host:http", "host:+80"])
    func invalid(text: String) {
        #expect(throws: ListenAddressError.notHostPort(text)) { try ListenAddress(parsing: text) }
    }

    @Test("ports outside 0-65535 say so", arguments: ["host:65536", "[::]:99999", "0.0.0.0:123456789012345678901234567890"])
    func portOutOfRange(text: String) {
        #expect(throws: ListenAddressError.portOutOfRange(text)) { try ListenAddress(parsing: text) }
        #expect(ListenAddressError.portOutOfRange(text).description.contains("between 0 and 65535"))
    }

    @Test("a name resolves to an address literal; literals stay as they are; an unknown name is refused")
    func resolution() throws {
        let resolved = try ListenAddress(host: "localhost", port: 8443).resolved()
        #expect(["127.0.0.1", "::1"].contains(resolved.host))
        #expect(resolved.port == 8443)
        #expect(try ListenAddress(host: "::", port: 1).resolved() == ListenAddress(host: "::", port: 1))
        #expect(throws: ListenAddressError.self) { try ListenAddress(host: "no-such-host.invalid", port: 1).resolved() }
    }

    @Test("an address someone listens on is in use, also seen from the wildcard; a free one and port 0 pass")
    func inUse() throws {
        // As the server's own listeners: SO_REUSEPORT, which would let a second one bind beside it.
        let listener = try LoopbackSocket(listening: true, reusePort: true)
        let port = listener.port
        for host in ["127.0.0.1", "0.0.0.0", "::"] {
            let taken = ListenAddress(host: host, port: port)
            #expect(throws: ListenAddressError.inUse(taken)) { try taken.ensureNoOtherListener() }
        }
        listener.close()
        #expect(throws: Never.self) { try ListenAddress(host: "127.0.0.1", port: port).ensureNoOtherListener() }
        #expect(throws: Never.self) { try ListenAddress(host: "127.0.0.1", port: 0).ensureNoOtherListener() }
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
