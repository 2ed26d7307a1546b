import HTTPServer
import HelmBundle
import HelmCertServer
import Logging
import TestSupport
import Testing

@Suite("HelmCertService lifetime")
struct HelmCertServiceLifetimeTests {
    /// An object only the service's logger holds (through its metadata provider), so a test can tell whether
    /// anything the service built outlived it.
    private final class LoggerToken: Sendable {}

    private func logger(holding token: LoggerToken) -> Logger {
        var handler = StreamLogHandler.standardError(label: "test", metadataProvider: .init { [token] in
            _ = token
            return [:]
        })
        handler.logLevel = .critical
        return Logger(label: "test") { _ in handler }
    }

    @Test("a service that is let go frees everything it built (no reference cycle through the server)")
    func releasedServiceFreesItsObjects() throws {
        // Found by scripts/memcheck: server → responder → connection-count closure → slot → server was a cycle
        // valgrind reported as definitely lost, 92 KB per service. Served over TLS, so that whatever else holds
        // the server for TLS (reloading its certificate) is part of what must be freed.
        let pki = try DevelopmentPKI.generate()
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try directory.write("tls.crt", pki.serverCertificateChainPEM)
        try directory.write("tls.key", pki.serverKeyPEM)
        weak var token: LoggerToken?
        do {
            let owned = LoggerToken()
            token = owned
            let configuration = ServiceConfiguration(
                listen: ListenAddress(host: "127.0.0.1", port: 0),
                tls: TLSConfiguration(certificateChainFile: directory.file("tls.crt"), privateKeyFile: directory.file("tls.key")),
                source: .fixed(pki.bundle), tokenFile: nil,
                fixedTokens: TokenFile(parsing: Array("token-for-the-test,alice,1\n".utf8)), eventLoopCount: 1)
            let service = try HelmCertService(configuration: configuration, logger: logger(holding: owned))
            _ = service.localPort
        }
        #expect(token == nil, "the service's server, responder or logger outlived the service")
    }
}
