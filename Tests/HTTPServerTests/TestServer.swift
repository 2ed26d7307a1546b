import HTTPServer
import Logging
import TestSupport

/// A tiny responder: GET/HEAD echo what the server parsed; `/big` is 1 MiB; other methods get 405.
struct EchoResponder: HTTPResponder {
    static let big: [UInt8] = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        guard request.method == .get || request.method == .head else {
            return HTTPResponse(
                status: 405, headers: HTTPHeaders([("Allow", "GET, HEAD"), ("Content-Type", "text/plain")]),
                body: Array("method not allowed\n".utf8))
        }
        if request.path == "/big" {
            return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/octet-stream")]), body: Self.big)
        }
        let text = "path=\(request.path) query=\(request.query ?? "-") version=\(request.version) "
            + "cn=\(request.clientCertificateSubjectCN ?? "-") remote=\(request.remoteAddress) "
            + "policies=\(request.clientCertificatePolicies.joined(separator: ","))\n"
        return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "text/plain")]), body: Array(text.utf8))
    }
}

/// A running server on 127.0.0.1 with a fresh ECDSA PKI; shut down by `stop()`.
final class TestServer: Sendable {
    let server: HTTPServer
    let pki: TestPKI
    let ca: TestPKI.Files
    let serverCertificate: TestPKI.Files
    var port: Int { server.localPort }

    /// Starts a server (TLS unless `tls` is false; verifying client certs against `clientCA` when asked)
    /// with `eventLoopCount` loops, and the given session lifetime and ticket key rotation.
    init(
        tls: Bool = true, clientCA: Bool = false, limits: HTTPServerLimits = HTTPServerLimits(),
        responder: any HTTPResponder = EchoResponder(), eventLoopCount: Int = 2,
        sessionLifetime: Duration = TLSConfiguration.defaultSessionLifetime,
        ticketKeyRotation: Duration = TLSConfiguration.defaultTicketKeyRotation
    ) throws {
        pki = try TestPKI()
        ca = try pki.makeCA("test-ca")
        serverCertificate = try pki.issue("server", commonName: "server-a", ca: ca)
        let tlsConfiguration = tls
            ? TLSConfiguration(
                certificateChainFile: serverCertificate.certificate, privateKeyFile: serverCertificate.key,
                clientCAFile: clientCA ? ca.certificate : nil, sessionLifetime: sessionLifetime,
                ticketKeyRotation: ticketKeyRotation)
            : nil
        var logger = Logger(label: "http-server-test")
        logger.logLevel = .warning
        server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: eventLoopCount, tls: tlsConfiguration, limits: limits),
            responder: responder, logger: logger)
        try server.start()
    }

    var httpsURL: String { "https://127.0.0.1:\(port)" }
    var httpURL: String { "http://127.0.0.1:\(port)" }

    /// `curl` trusting the test CA, with a 10 s cap.
    func curl(_ arguments: [String]) throws -> CommandResult {
        try runCommand(["curl", "--silent", "--show-error", "--max-time", "10", "--cacert", ca.certificate] + arguments)
    }

    /// `openssl s_client` to the server, sending `input` (10 s cap). With `untilServerCloses` it keeps
    /// reading after its input ends until the server closes; otherwise it hangs up at the end of input.
    func sClient(_ arguments: [String] = [], input: String = "", untilServerCloses: Bool = false) throws -> CommandResult {
        try runCommand(
            ["timeout", "10", "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca.certificate]
                + (untilServerCloses ? ["-ign_eof"] : []) + arguments,
            stdin: Array(input.utf8))
    }

    func stop() {
        server.shutdown(gracePeriod: .seconds(1))
        server.waitUntilStopped()
        pki.remove()
    }
}
