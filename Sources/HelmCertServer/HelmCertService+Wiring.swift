import HTTPServer
import HelmBundle
import KubernetesClient
import Logging

/// The pieces ``HelmCertService`` is made of, one factory each, called by its `init` in order: each takes
/// the configuration's part it needs and what was made before it, and checks what can be checked before
/// serving.
extension HelmCertService {
    /// The static tokens and, with `--token-file`, the watch that keeps them in step with the file.
    ///
    /// The file is read now: one that is missing at start is a mistake to say before serving.
    /// - Throws: ``ServiceError`` when the token file cannot be read, or when no caller could authenticate
    ///   (no token file, no fixed tokens, no `--kube-auth`).
    static func makeStaticTokens(
        _ configuration: ServiceConfiguration, logger: Logger, metrics: ServiceMetrics
    ) throws(ServiceError) -> (StaticTokenAuthenticator, watch: (any AnyFileWatch)?) {
        let authenticator = StaticTokenAuthenticator(tokenFile: configuration.fixedTokens ?? .empty)
        var watch: (any AnyFileWatch)? = nil
        if let path = configuration.tokenFile {
            let tokenWatch = TokenFileWatch.make(path: path, authenticator: authenticator, logger: logger, metrics: metrics)
            tokenWatch.check()
            if case .failing(let reason) = tokenWatch.state {
                throw ServiceError("--token-file \(path): \(reason)")
            }
            watch = tokenWatch
        } else if configuration.fixedTokens == nil && configuration.kubeAuth == nil {
            throw ServiceError("no tokens: pass --token-file FILE (lines token,user,uid), --kube-auth, or use --dev")
        }
        if authenticator.count == 0 && configuration.kubeAuth == nil {
            logger.warning("the token file holds no tokens: every /v1 request will be refused with 401")
        }
        return (authenticator, watch)
    }

    /// `--kube-auth`'s reviewers: one per permission, each with its own decision cache (keyed by token) and
    /// queue: a token allowed to get the bundle is not thereby allowed to issue, and a stream of issuing
    /// requests cannot evict the bundle readers' cached decisions.
    struct Reviewers {
        /// Verb `get` on the bundle.
        var bundle: KubernetesTokenReviewer
        /// Verb `create` on its `certificates`.
        var issuing: KubernetesTokenReviewer
        /// Verb `list` on its `certificates`.
        var listing: KubernetesTokenReviewer
    }

    /// The reviewers of `--kube-auth`; nil without it.
    static func makeReviewers(_ configuration: ServiceConfiguration, logger: Logger) -> Reviewers? {
        configuration.kubeAuth.map { kubeAuth in
            func reviewer(verb: String, subresource: String?) -> KubernetesTokenReviewer {
                KubernetesTokenReviewer(
                    client: KubernetesClient(configuration: kubeAuth.api, logger: logger),
                    permission: .init(
                        namespace: kubeAuth.namespace, group: kubeAuth.group, name: configuration.bundleName, verb: verb,
                        subresource: subresource),
                    audiences: kubeAuth.audiences, logger: logger)
            }
            return Reviewers(
                bundle: reviewer(verb: "get", subresource: nil), issuing: reviewer(verb: "create", subresource: "certificates"),
                listing: reviewer(verb: "list", subresource: "certificates"))
        }
    }

    /// What feeds the bundle store: a Secret's watch (started by ``start()``), a directory's file watch, or
    /// nothing (fixed files, offered now).
    struct BundleFeed {
        var kubernetes: KubernetesSecretSource?
        var directoryWatch: (any AnyFileWatch)?
    }

    /// The bundle's source, feeding `store`.
    /// - Throws: ``ServiceError`` when `--dev`'s fixed files do not validate.
    static func makeBundleFeed(
        _ source: BundleSourceConfiguration, store: BundleStore, logger: Logger, metrics: ServiceMetrics
    ) throws(ServiceError) -> BundleFeed {
        switch source {
        case .kubernetes(let kube, let namespace, let secret):
            let client = KubernetesClient(configuration: kube, logger: logger)
            return BundleFeed(kubernetes: KubernetesSecretSource(
                client: client, namespace: namespace, name: secret, consumer: store, logger: logger, metrics: metrics))
        case .directory(let directory):
            return BundleFeed(directoryWatch: DirectorySource.watch(directory: directory, store: store, logger: logger, metrics: metrics))
        case .fixed(let files):
            guard store.offer(files, origin: "generated development bundle") else {
                throw ServiceError("the generated development bundle did not validate")
            }
            return BundleFeed()
        }
    }

    /// Personal certificates, and the issuer Secret's watch when the CA comes from the Kubernetes API (started
    /// by ``start()``).
    static func makeIssuing(
        _ issuing: IssuingConfiguration, store: BundleStore, logger: Logger, metrics: ServiceMetrics
    ) -> (personal: PersonalCertificates, issuerSource: KubernetesSecretSource?) {
        let issuer: IssuerStore
        var issuerSource: KubernetesSecretSource? = nil
        switch issuing.source {
        case .kubernetes(let kube, let namespace, let secret):
            issuer = IssuerStore(source: "secret \(namespace)/\(secret)", bundle: store, logger: logger)
            issuerSource = KubernetesSecretSource(
                client: KubernetesClient(configuration: kube, logger: logger), namespace: namespace, name: secret,
                consumer: issuer, logger: logger, metrics: metrics)
        case .fixed(let data):
            issuer = IssuerStore(source: "the generated development CA", bundle: store, logger: logger)
            issuer.offer(decoded: data, origin: "the generated development CA")
        }
        let personal = PersonalCertificates(
            issuer: issuer, bundle: store, lifetime: issuing.lifetime, keyAlgorithm: issuing.keyAlgorithm,
            ledger: CertificateLedger(capacity: issuing.ledgerCapacity), queue: IssuingQueue(limits: issuing.queueLimits))
        return (personal: personal, issuerSource: issuerSource)
    }

    /// Where audit lines go: `--audit-log`, else standard output.
    static func makeAuditLog(_ configuration: ServiceConfiguration) throws(ServiceError) -> AuditLog {
        if let path = configuration.auditLogPath {
            try AuditLog(path: path, queueCapacity: configuration.auditQueueCapacity)
        } else {
            try AuditLog(queueCapacity: configuration.auditQueueCapacity)
        }
    }

    /// The HTTP(S) server, and with TLS the watches of its files (they reload the server's TLS context).
    ///
    /// The TLS files are read for the watches just before the server loads them, so a change in between is
    /// seen at the first look.
    /// - Throws: ``HTTPServerError`` when the TLS files cannot be loaded or do not match.
    static func makeServer(
        _ configuration: ServiceConfiguration, responder: HelmCertResponder, trust: ClientTrust, logger: Logger,
        metrics: ServiceMetrics
    ) throws -> (HTTPServer, tlsWatches: [any AnyFileWatch]) {
        let serverConfiguration = HTTPServerConfiguration(
            host: configuration.listen.host, port: configuration.listen.port,
            eventLoopCount: configuration.eventLoopCount, tls: configuration.tls, limits: configuration.limits)
        let seen = configuration.tls.map { TLSFileWatch.seen($0) }
        let server = try HTTPServer(configuration: serverConfiguration, responder: responder, logger: logger)
        guard let tls = configuration.tls, let seen else { return (server, []) }
        let watches = TLSFileWatch.make(tls: tls, seen: seen, server: server, trust: trust, logger: logger, metrics: metrics)
        return (server, watches)
    }
}

extension BundleSourceConfiguration {
    /// Where bundles come from, as `/readyz`, logs and problems name it ("waiting for the first read of …").
    var name: String {
        switch self {
        case .kubernetes(_, let namespace, let secret): "secret \(namespace)/\(secret)"
        case .directory(let directory): "directory \(directory)"
        case .fixed: "the generated development bundle"
        }
    }
}
