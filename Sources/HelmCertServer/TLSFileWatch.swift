import FileContents
import HTTPServer
import HelmBundle
import Logging
import Synchronization

/// The TLS files, watched: when `--tls-cert`/`--tls-key` change (cert-manager renewed them) or `--client-ca`
/// (with `--client-crl`) changes, the server makes a new TLS context for new connections, without a restart.
///
/// The two are applied apart, so one broken never holds the other back:
/// - A serving pair that does not load (half-written, key not matching yet, not PEM) is logged and shown in
///   `/readyz`; the pair in use stays, and the next change is tried again. A client CA or CRL change made
///   meanwhile is still applied, with the last pair that loaded (handed to the server from memory,
///   ``MemoryFile``).
/// - A client CA or CRL file that does not load (missing, not PEM, too large) fails closed: new connections
///   are no longer asked for a client certificate, and requests on connections made before do not authenticate
///   by theirs (``ClientTrust``), until the files load again. Bearer tokens keep working. Logged and shown in
///   `/readyz`. Keeping the old CA instead would keep a certificate the operator meant to revoke (a new CRL that
///   does not load) working.
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

    /// What the watches say while they fail.
    static let keepingPair = "new connections keep getting the serving certificate loaded before"
    static let refusingClients = "no client certificate is accepted until it loads (bearer tokens still work)"

    /// One watch for the serving certificate and key, and one for the client CA if there is one.
    ///
    /// - Parameters:
    ///   - seen: what ``seen(_:)`` read before the server loaded the files.
    ///   - trust: told when client certificates must be refused; remembers the last serving pair that loaded.
    static func make(
        tls: TLSConfiguration, seen: [WatchedFile: [[UInt8]]], server: HTTPServer, trust: ClientTrust, logger: Logger,
        metrics: ServiceMetrics?
    ) -> [FileWatch<[[UInt8]]>] {
        trust.servingPairLoaded(seen[.servingCertificate])
        if let chain = seen[.servingCertificate]?.first {
            recordServingExpiry(chain, file: tls.certificateChainFile, logger: logger, metrics: metrics)
        }
        let servingPaths = [tls.certificateChainFile, tls.privateKeyFile]
        let serving = FileWatch(
            .servingCertificate, logger: logger, metrics: metrics, initial: seen[.servingCertificate],
            read: {
                do { return try read(servingPaths) } catch { throw WatchedFileError(cause: error, meanwhile: keepingPair) }
            },
            apply: { pair in
                do {
                    try server.reloadTLS(trust.acceptsClientCertificates ? tls : tls.withoutClientCA)
                } catch {
                    // The pair alone may load: then it is the client files that broke meanwhile (their watch
                    // looks next and says so), and they fail closed.
                    guard tls.clientCAFile != nil, trust.acceptsClientCertificates,
                        (try? server.reloadTLS(tls.withoutClientCA)) != nil
                    else {
                        trust.servingPairFailed()
                        throw WatchedFileError(cause: error, meanwhile: keepingPair)
                    }
                    trust.refuseClientCertificates()
                }
                trust.servingPairLoaded(pair)
                logger.info("\(WatchedFile.servingCertificate) changed on disk and was loaded for new connections", metadata: ["files": "\(servingPaths)"])
                recordServingExpiry(pair[0], file: servingPaths[0], logger: logger, metrics: metrics)
                return []
            },
            failed: { error in
                trust.servingPairFailed()
                logger.error("\(WatchedFile.servingCertificate): \(error)", metadata: ["file": "\(WatchedFile.servingCertificate.rawValue)"])
            })
        guard let clientCA = tls.clientCAFile else { return [serving] }
        let clientPaths = [clientCA] + (tls.clientCRLFile.map { [$0] } ?? [])
        let client = FileWatch(
            .clientCA, logger: logger, metrics: metrics, initial: seen[.clientCA],
            read: {
                do { return try read(clientPaths) } catch { throw WatchedFileError(cause: error, meanwhile: refusingClients) }
            },
            apply: { _ in
                do {
                    try trust.withServingPair(tls) { try server.reloadTLS($0) }
                } catch {
                    throw WatchedFileError(cause: error, meanwhile: refusingClients)
                }
                trust.acceptClientCertificates()
                logger.info("\(WatchedFile.clientCA) changed on disk and was loaded for new connections", metadata: ["files": "\(clientPaths)"])
                return []
            },
            failed: { error in
                trust.refuseClientCertificates()
                do {
                    try trust.withServingPair(tls.withoutClientCA) { try server.reloadTLS($0) }
                } catch {
                    logger.error("\(WatchedFile.clientCA): new connections could not be switched to no client certificates (\(error)); requests still do not authenticate by one")
                }
                logger.error("\(WatchedFile.clientCA): \(error)", metadata: ["file": "\(WatchedFile.clientCA.rawValue)"])
            })
        return [serving, client]
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

/// Whether client certificates identify anyone now, and the last serving certificate and key that loaded: what
/// the two TLS watches share.
final class ClientTrust: Sendable {
    private struct State {
        var accepts = true
        /// The chain and key last loaded, and whether the files on disk fail to load now.
        var servingPair: [[UInt8]]? = nil
        var servingFailing = false
    }

    private let state = Mutex(State())

    init() {}

    /// False while the client CA or CRL files fail to load: a verified client certificate authenticates nobody
    /// (the responder asks this on every request, so connections made before the failure are covered too).
    var acceptsClientCertificates: Bool { state.withLock { $0.accepts } }

    func refuseClientCertificates() { state.withLock { $0.accepts = false } }
    func acceptClientCertificates() { state.withLock { $0.accepts = true } }

    func servingPairLoaded(_ pair: [[UInt8]]?) {
        state.withLock {
            if let pair { $0.servingPair = pair }
            $0.servingFailing = false
        }
    }

    func servingPairFailed() { state.withLock { $0.servingFailing = true } }

    /// Calls `body` with `tls`, its serving pair replaced by in-memory copies of the last pair that loaded while
    /// the files on disk fail to load.
    func withServingPair(_ tls: TLSConfiguration, _ body: (TLSConfiguration) throws -> Void) throws {
        let kept = state.withLock { $0.servingFailing ? $0.servingPair : nil }
        guard let kept, kept.count == 2 else { return try body(tls) }
        let chain = try MemoryFile(kept[0], name: "serving-chain")
        let key = try MemoryFile(kept[1], name: "serving-key")
        var replaced = tls
        replaced.certificateChainFile = chain.path
        replaced.privateKeyFile = key.path
        try withExtendedLifetime((chain, key)) { try body(replaced) }
    }
}

extension TLSConfiguration {
    /// The same files without the client CA and CRL: no client certificate is asked for.
    var withoutClientCA: TLSConfiguration {
        var copy = self
        copy.clientCAFile = nil
        copy.clientCRLFile = nil
        return copy
    }
}
