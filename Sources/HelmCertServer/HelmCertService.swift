import FileContents
import FoundationEssentials
import HTTPServer
import HelmBundle
import KubernetesClient
import Logging
import Prometheus
import Synchronization

/// Where the bundle comes from.
public enum BundleSourceConfiguration: Sendable {
    /// A Secret read (and watched) through the Kubernetes API.
    case kubernetes(KubernetesConfiguration, namespace: String, secret: String)
    /// Files named like the secret's keys in a directory (a mounted secret volume), re-read when they change.
    case directory(String)
    /// Fixed files (`--dev`).
    case fixed(BundleFiles)
}

/// Everything the service needs, as resolved from the command line.
public struct ServiceConfiguration: Sendable {
    public var listen: ListenAddress
    /// nil serves plain HTTP (`--insecure-http`, behind a TLS-terminating proxy).
    public var tls: TLSConfiguration?
    public var source: BundleSourceConfiguration
    /// The static token file (`--token-file`), re-read when it changes.
    public var tokenFile: String?
    /// Tokens known without a file (`--dev`).
    public var fixedTokens: TokenFile?
    public var eventLoopCount: Int
    public var limits: HTTPServerLimits
    /// The bundle's name in URLs.
    public var bundleName: String
    /// Where audit lines go (`--audit-log`); nil is standard output.
    public var auditLogPath: String?
    /// The most audit lines waiting to be written before `/v1` requests are refused with 503.
    public var auditQueueCapacity = AuditLog.defaultQueueCapacity
    /// `--kube-auth`: check unknown bearer tokens with TokenReview + SubjectAccessReview through this API.
    public var kubeAuth: KubeAuthConfiguration?
    /// `--tiller-address`: check the bundle against Tiller; nil: no check.
    public var tiller: TillerCheckConfiguration?
    /// `--shared-key` (default true): serve `key.pem` and `bundle.tar.gz`; false refuses them with 403 pointing
    /// at `personal.tar.gz`.
    public var sharedKey = true
    /// `--issuer-secret` (or `--dev`): issue personal certificates; nil: the issuing routes answer 503.
    public var issuing: IssuingConfiguration?
    /// The registry `/metrics` prints; pass the one swift-metrics was bootstrapped with so that metrics
    /// from libraries (the watch's reconnects) appear too.
    public var metricsRegistry: PrometheusCollectorRegistry

    public init(
        listen: ListenAddress, tls: TLSConfiguration?, source: BundleSourceConfiguration, tokenFile: String?,
        fixedTokens: TokenFile? = nil, eventLoopCount: Int, limits: HTTPServerLimits = HTTPServerLimits(),
        bundleName: String = "helm", auditLogPath: String? = nil,
        metricsRegistry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        kubeAuth: KubeAuthConfiguration? = nil
    ) {
        self.kubeAuth = kubeAuth
        self.auditLogPath = auditLogPath
        self.metricsRegistry = metricsRegistry
        self.listen = listen
        self.tls = tls
        self.source = source
        self.tokenFile = tokenFile
        self.fixedTokens = fixedTokens
        self.eventLoopCount = eventLoopCount
        self.limits = limits
        self.bundleName = bundleName
    }

    /// Whether the service talks to the Kubernetes API: the secret is its source, the issuer Secret is read
    /// through it, or `--kube-auth` is on.
    var usesKubernetesAPI: Bool {
        if case .kubernetes = source { return true }
        if case .kubernetes? = issuing?.source { return true }
        return kubeAuth != nil
    }
}

/// Personal certificates: where the issuing CA comes from, and the rules of what is issued.
public struct IssuingConfiguration: Sendable {
    public enum Source: Sendable {
        /// The issuer Secret, read and watched through the Kubernetes API (`--issuer-secret NAMESPACE/NAME`).
        case kubernetes(KubernetesConfiguration, namespace: String, secret: String)
        /// Secret data already decoded (`--dev`'s generated CA).
        case fixed([String: [UInt8]])
    }

    public var source: Source
    /// `?ttl=`'s rules (`--issue-max-ttl`).
    public var lifetime: CertificateLifetime
    /// The key generated for `personal.tar.gz` (`--personal-key-algorithm`).
    public var keyAlgorithm: PersonalKeyAlgorithm
    /// How much issuing runs and waits.
    public var queueLimits = IssuingQueue.Limits()
    /// The most ledger entries.
    public var ledgerCapacity = CertificateLedger.defaultCapacity

    public init(source: Source, lifetime: CertificateLifetime = CertificateLifetime(), keyAlgorithm: PersonalKeyAlgorithm = .ecdsaP256) {
        self.source = source
        self.lifetime = lifetime
        self.keyAlgorithm = keyAlgorithm
    }
}

/// `--kube-auth`: who to ask, and what callers must be allowed.
public struct KubeAuthConfiguration: Sendable {
    public var api: KubernetesConfiguration
    /// The SubjectAccessReview's namespace (`--kube-auth-namespace`).
    public var namespace: String
    /// The virtual resource's API group (`--kube-auth-group`).
    public var group: String
    /// The audiences a token must have been minted for (`--kube-auth-audience`); empty: the API server's own.
    public var audiences: [String]
    public init(api: KubernetesConfiguration, namespace: String, group: String, audiences: [String] = []) {
        self.api = api
        self.namespace = namespace
        self.group = group
        self.audiences = audiences
    }
}

/// A configuration or start-up problem, said so an operator can fix it.
public struct ServiceError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The running service: the bundle store, its source, the token table and the HTTPS server, wired together.
public final class HelmCertService: Sendable {
    public let store: BundleStore
    /// The service's metrics (printed at `/metrics`).
    public let metrics: ServiceMetrics
    private let server: HTTPServer
    private let authenticator: StaticTokenAuthenticator
    private let configuration: ServiceConfiguration
    private let logger: Logger
    private let kubernetesSource: KubernetesSecretSource?
    /// The issuer Secret's watch (`--issuer-secret`).
    private let issuerSource: KubernetesSecretSource?
    /// The token file, the TLS files and the source directory, looked at every 2 s and on `SIGHUP`; the same
    /// timer re-renders stale bundle answers.
    private let fileWatches: FileWatches
    /// The live check against Tiller (`--tiller-address`), on a thread of its own.
    private let tillerMonitor: TillerMonitor?

    /// The Kubernetes API is used (``ServiceConfiguration/usesKubernetesAPI``): libcurl must load, or there is
    /// no point starting.
    private static func loadKubernetesTransport() throws(ServiceError) {
        do {
            try KubernetesClient.loadTransport()
        } catch {
            throw ServiceError("the Kubernetes API cannot be reached without libcurl: \(error)")
        }
    }

    /// Builds everything, in order (the factories in `HelmCertService+Wiring.swift`), and checks what can be
    /// checked before serving: the token file reads, the TLS files load, libcurl loads when the Kubernetes API
    /// is used.
    public init(configuration: ServiceConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let metrics = ServiceMetrics(registry: configuration.metricsRegistry)
        self.metrics = metrics
        let (authenticator, tokenWatch) = try Self.makeStaticTokens(configuration, logger: logger, metrics: metrics)
        self.authenticator = authenticator

        let store = BundleStore(
            name: configuration.bundleName, source: configuration.source.name, logger: logger, metrics: metrics)
        self.store = store
        let tillerMonitor = configuration.tiller.map {
            TillerMonitor(configuration: $0, store: store, metrics: metrics, logger: logger)
        }
        self.tillerMonitor = tillerMonitor
        if let tillerMonitor { store.onNewBundle { tillerMonitor.bundleChanged() } }

        if configuration.usesKubernetesAPI { try Self.loadKubernetesTransport() }
        let feed = try Self.makeBundleFeed(configuration.source, store: store, logger: logger, metrics: metrics)
        kubernetesSource = feed.kubernetes
        let issuing = configuration.issuing.map { Self.makeIssuing($0, store: store, logger: logger, metrics: metrics) }
        issuerSource = issuing?.issuerSource
        let reviewers = Self.makeReviewers(configuration, logger: logger)
        let audit = try Self.makeAuditLog(configuration)

        // The responder reads the server's connection count and the watches' problems, made after it (the server
        // needs the responder; the TLS watches need the server): it reaches them through these slots.
        let serverSlot = WeakSlot<HTTPServer>()
        let watchSlot = WeakSlot<FileWatches>()
        let clientTrust = ClientTrust()
        let responder = HelmCertResponder(
            store: store, authenticator: authenticator, metrics: metrics, audit: audit,
            openConnections: { serverSlot.object?.openConnectionCount ?? 0 }, reviewer: reviewers?.bundle,
            fileProblems: { watchSlot.object?.problems ?? [] },
            acceptsClientCertificates: { clientTrust.acceptsClientCertificates }, sharesKey: configuration.sharedKey,
            personal: issuing?.personal, issuingReviewer: reviewers?.issuing, listingReviewer: reviewers?.listing)
        let (server, tlsWatches) = try Self.makeServer(
            configuration, responder: responder, trust: clientTrust, logger: logger, metrics: metrics)
        self.server = server
        serverSlot.object = server

        let watches = [tokenWatch, feed.directoryWatch].compactMap { $0 } + tlsWatches
        fileWatches = FileWatches(watches, interval: Self.watchInterval) { store.refreshIfStale() }
        watchSlot.object = fileWatches
    }

    /// How often watched files are looked at: a removed token line, a new certificate or client CA takes
    /// effect within this long.
    public static let watchInterval: Duration = .seconds(2)

    /// The port actually bound (useful with `--listen HOST:0`).
    public var localPort: Int { server.localPort }

    /// Starts the sources and the server; returns once the server is listening.
    public func start() throws {
        if configuration.tls == nil {
            logger.warning("serving plain HTTP (--insecure-http): only run this behind a proxy that terminates TLS; tokens and keys cross the wire in clear text otherwise")
        }
        kubernetesSource?.start()
        issuerSource?.start()
        // The directory is read before serving, so readiness does not wait a whole interval.
        fileWatches.checkNow()
        try server.start()
        try fileWatches.start()
        try tillerMonitor?.start()
        logger.info(
            "listening",
            metadata: [
                "address": "\(ListenAddress(host: configuration.listen.host, port: server.localPort))",
                "tls": "\(configuration.tls != nil)", "eventLoops": "\(configuration.eventLoopCount)",
                "tokens": "\(authenticator.count)",
            ])
    }

    /// Looks at every watched file now (`SIGHUP`) and applies what changed; returns a line saying what
    /// happened to each (`token file: unchanged`).
    public func checkWatchedFiles() -> [String] {
        fileWatches.checkNow().map { file, outcome in "\(file): \(outcome)" }
    }

    /// Stops accepting, lets in-flight requests finish within `gracePeriod`, stops the sources.
    public func shutdown(gracePeriod: Duration) {
        logger.info("shutting down", metadata: ["gracePeriod": "\(gracePeriod)"])
        server.shutdown(gracePeriod: gracePeriod)
        kubernetesSource?.stop()
        issuerSource?.stop()
        fileWatches.stop()
        tillerMonitor?.stop()
    }

    /// Blocks until the server has stopped.
    public func waitUntilStopped() { server.waitUntilStopped() }
}

/// Lets the responder reach an object made after it: the server (its connection count) and the file watches
/// (their problems, for `/readyz`; the TLS watches need the server, which needs the responder).
///
/// Holds the object weakly: the server holds the responder, whose closure holds this slot, and a strong
/// reference back would keep them all alive forever (valgrind, scripts/memcheck, reported the cycle as lost).
private final class WeakSlot<Object: AnyObject & Sendable>: Sendable {
    private struct Weak: Sendable { weak var object: Object? }
    private let slot = Mutex(Weak())
    var object: Object? {
        get { slot.withLock { $0.object } }
        set { slot.withLock { $0.object = newValue } }
    }
}
