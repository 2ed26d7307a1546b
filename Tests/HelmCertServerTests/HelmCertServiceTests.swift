import HelmBundle
import HelmCertServer
import Logging
import Testing

@Suite("HelmCertService")
struct HelmCertServiceTests {
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
        // valgrind reported as definitely lost, 92 KB per service.
        let bundle = try DevelopmentPKI.generate().bundle
        weak var token: LoggerToken?
        do {
            let owned = LoggerToken()
            token = owned
            let configuration = ServiceConfiguration(
                listen: ListenAddress(host: "127.0.0.1", port: 0), tls: nil, source: .fixed(bundle), tokenFile: nil,
                fixedTokens: try TokenFile(parsing: Array("token-for-the-test,alice,1\n".utf8)), eventLoopCount: 1)
            let service = try HelmCertService(configuration: configuration, logger: logger(holding: owned))
            _ = service.localPort
        }
        #expect(token == nil, "the service's server, responder or logger outlived the service")
    }
}
