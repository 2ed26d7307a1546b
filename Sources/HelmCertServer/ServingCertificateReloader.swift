import FileContents
import HTTPServer
import Logging
import Synchronization

/// Notices when `--tls-cert`/`--tls-key` change on disk (cert-manager or a re-mounted Secret renewed them) and
/// has the server load them for new connections, without a restart. A pair that does not load (half-written,
/// key not matching yet) is logged and retried at the next look; the old certificate keeps being served.
final class ServingCertificateReloader: Sendable {
    private let files: [String]
    private let server: HTTPServer
    private let logger: Logger
    private let loaded: Mutex<[[UInt8]]>

    init(tls: TLSConfiguration, server: HTTPServer, logger: Logger) {
        self.files = [tls.certificateChainFile, tls.privateKeyFile]
        self.server = server
        self.logger = logger
        loaded = Mutex(files.map { (try? readFileContents($0)) ?? [] })
    }

    /// Reads both files; if either changed, reloads.
    func reloadIfChanged() {
        let current = files.map { (try? readFileContents($0)) ?? [] }
        guard loaded.withLock({ $0 != current }) else { return }
        do {
            try server.reloadTLS()
            loaded.withLock { $0 = current }
            logger.info("serving certificate changed on disk and was reloaded for new connections")
        } catch {
            logger.error("serving certificate changed on disk but does not load; still serving the old one: \(error)")
        }
    }
}
