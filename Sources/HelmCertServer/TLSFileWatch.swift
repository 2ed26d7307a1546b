import FileContents
import HTTPServer
import HelmBundle
import Logging

/// The TLS files, watched: when `--tls-cert`/`--tls-key` change (cert-manager renewed them) or `--client-ca`
/// (with `--client-crl`) changes, the server makes a new TLS context for new connections, without a restart.
/// Files that do not load (half-written, key not matching yet, not PEM) are logged and shown in `/readyz`; the
/// context in use stays and the next change is tried again.
enum TLSFileWatch {
    /// The files of each watch: the serving certificate and key, and the client CA (and CRL) if there is one.
    private static func sets(_ tls: TLSConfiguration) -> [(WatchedFile, [String])] {
        var sets: [(WatchedFile, [String])] = [(.servingCertificate, [tls.certificateChainFile, tls.privateKeyFile])]
        if let clientCA = tls.clientCAFile { sets.append((.clientCA, [clientCA] + (tls.clientCRLFile.map { [$0] } ?? []))) }
        return sets
    }

    /// The files' bytes now; read just before the server loads them, so a change in between is seen.
    static func seen(_ tls: TLSConfiguration) -> [WatchedFile: [[UInt8]]] {
        var seen: [WatchedFile: [[UInt8]]] = [:]
        for (file, paths) in sets(tls) { seen[file] = try? read(paths) }
        return seen
    }

    /// One watch for the serving certificate and key, and one for the client CA if there is one.
    ///
    /// - Parameter seen: what ``seen(_:)`` read before the server loaded the files.
    static func make(
        tls: TLSConfiguration, seen: [WatchedFile: [[UInt8]]], server: HTTPServer, logger: Logger, metrics: ServiceMetrics?
    ) -> [FileWatch<[[UInt8]]>] {
        let keeping = "new connections keep getting the TLS files loaded before"
        if let chain = seen[.servingCertificate]?.first {
            recordServingExpiry(chain, file: tls.certificateChainFile, logger: logger, metrics: metrics)
        }
        return sets(tls).map { file, paths in
            FileWatch(
                file, logger: logger, metrics: metrics, initial: seen[file],
                read: {
                    do { return try read(paths) } catch { throw WatchedFileError(cause: error, meanwhile: keeping) }
                },
                apply: { contents in
                    do { try server.reloadTLS() } catch { throw WatchedFileError(cause: error, meanwhile: keeping) }
                    logger.info("\(file) changed on disk and was loaded for new connections", metadata: ["files": "\(paths)"])
                    if file == .servingCertificate {
                        recordServingExpiry(contents[0], file: paths[0], logger: logger, metrics: metrics)
                    }
                    return []
                })
        }
    }

    /// `helm_cert_server_certificate_not_after_seconds{bundle="server"}`: the earliest expiry in the chain.
    private static func recordServingExpiry(_ chain: [UInt8], file: String, logger: Logger, metrics: ServiceMetrics?) {
        guard let metrics else { return }
        do {
            metrics.recordServingCertificate(notAfter: try earliestNotAfter(ofPEM: chain, file: file))
        } catch {
            logger.warning("cannot read the serving certificate's expiry for /metrics: \(error)")
        }
    }

    private static func read(_ paths: [String]) throws(FileReadError) -> [[UInt8]] {
        var contents: [[UInt8]] = []
        for path in paths { contents.append(try readFileContents(path, limit: WatchedFileLimits.tlsFile)) }
        return contents
    }
}
