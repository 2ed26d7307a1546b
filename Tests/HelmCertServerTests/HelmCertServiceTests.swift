import HelmBundle
import HelmCertServer
import Logging
import Testing

@Suite("HelmCertService")
struct HelmCertServiceTests {
    /// Remembers the object its logger writes to, so a test can tell whether anything still holds the logger.
    private final class LogSink: Sendable {}

    private struct SinkHandler: LogHandler {
        let sink: LogSink
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .critical
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {}
    }

    @Test("a service that is let go frees everything it built (no reference cycle through the server)")
    func releasedServiceFreesItsObjects() throws {
        // Found by scripts/memcheck: server → responder → connection-count closure → slot → server was a cycle
        // valgrind reported as definitely lost, 92 KB per service.
        let bundle = try DevelopmentPKI.generate().bundle
        weak var sink: LogSink?
        do {
            let owned = LogSink()
            sink = owned
            let configuration = ServiceConfiguration(
                listen: ListenAddress(host: "127.0.0.1", port: 0), tls: nil, source: .fixed(bundle), tokenFile: nil,
                fixedTokens: try TokenFile(parsing: Array("token-for-the-test,alice,1\n".utf8)), eventLoopCount: 1)
            let service = try HelmCertService(
                configuration: configuration, logger: Logger(label: "test") { _ in SinkHandler(sink: owned) })
            _ = service.localPort
        }
        #expect(sink == nil, "the service's server, responder or logger outlived the service")
    }
}
