import FileContents
import HTTPServer
import HelmBundle
import Logging
import Synchronization

/// Notices when `--tls-cert`/`--tls-key` change on disk (cert-manager or a re-mounted Secret renewed them) and
/// has the server load them for new connections, without a restart. A pair that does not load (half-written,
/// key not matching yet) is logged and retried at the next look; the old certificate keeps being served.
/// Every load (at start, on a change, on SIGHUP) records the chain's expiry in
/// `helm_cert_server_certificate_not_after_seconds{bundle="server",file="tls.crt"}`.
final class ServingCertificateReloader: Sendable {
    private let files: [String]
    private let server: HTTPServer
    private let metrics: ServiceMetrics
    private let logger: Logger
    private let loaded: Mutex<[[UInt8]]>

    init(tls: TLSConfiguration, server: HTTPServer, metrics: ServiceMetrics, logger: Logger) {
        self.files = [tls.certificateChainFile, tls.privateKeyFile]
        self.server = server
        self.metrics = metrics
        self.logger = logger
        let current = files.map { (try? readFileContents($0)) ?? [] }
        loaded = Mutex(current)
        recordExpiry(current[0])
    }

    /// Reads both files; if either changed, reloads.
    func reloadIfChanged() {
        let current = files.map { (try? readFileContents($0)) ?? [] }
        guard loaded.withLock({ $0 != current }) else { return }
        do {
            try reload(current)
            logger.info("serving certificate changed on disk and was reloaded for new connections")
        } catch {
            logger.error("serving certificate changed on disk but does not load; still serving the old one: \(error)")
        }
    }

    /// Reloads now, whether or not the files changed (SIGHUP).
    func reload() throws {
        try reload(files.map { (try? readFileContents($0)) ?? [] })
    }

    private func reload(_ current: [[UInt8]]) throws {
        try server.reloadTLS()
        loaded.withLock { $0 = current }
        recordExpiry(current[0])
    }

    private func recordExpiry(_ chain: [UInt8]) {
        do {
            metrics.recordServingCertificate(notAfter: try earliestNotAfter(ofPEM: chain, file: files[0]))
        } catch {
            logger.warning("cannot read the serving certificate's expiry for /metrics: \(error)")
        }
    }
}
