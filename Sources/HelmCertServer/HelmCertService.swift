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

    /// Whether the service talks to the Kubernetes API: the secret is its source, or `--kube-auth` is on.
    var usesKubernetesAPI: Bool {
        if case .kubernetes = source { return true }
        return kubeAuth != nil
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
    private let directorySource: DirectorySource?
    private let housekeeping: PeriodicTask
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

    /// Builds everything and checks what can be checked before serving: the token file parses, the TLS
    /// files load, the Kubernetes configuration is complete.
    public init(configuration: ServiceConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let tokens: TokenFile
        var tokenBytes: [UInt8] = []
        if let path = configuration.tokenFile {
            do {
                tokenBytes = try readFileContents(path)
                tokens = try TokenFile(parsing: tokenBytes)
            } catch {
                throw ServiceError("--token-file \(path): \(error)")
            }
            for warning in tokens.warnings { logger.warning("token file \(path): \(warning)") }
        } else if let fixed = configuration.fixedTokens {
            tokens = fixed
        } else if configuration.kubeAuth != nil {
            tokens = try! TokenFile(parsing: [])
        } else {
            throw ServiceError("no tokens: pass --token-file FILE (lines token,user,uid), --kube-auth, or use --dev")
        }
        if tokens.entries.isEmpty && configuration.kubeAuth == nil {
            logger.warning("the token file holds no tokens: every /v1 request will be refused with 401")
        }
        let authenticator = StaticTokenAuthenticator(tokenFile: tokens)
        self.authenticator = authenticator

        let waiting: String
        switch configuration.source {
        case .kubernetes(_, let namespace, let secret): waiting = "waiting for the first read of secret \(namespace)/\(secret)"
        case .directory(let dir): waiting = "waiting for the first read of directory \(dir)"
        case .fixed: waiting = "starting"
        }
        let metrics = ServiceMetrics(registry: configuration.metricsRegistry)
        self.metrics = metrics
        let store = BundleStore(name: configuration.bundleName, waitingReason: waiting, logger: logger, metrics: metrics)
        self.store = store
        let tillerMonitor = configuration.tiller.map {
            TillerMonitor(configuration: $0, store: store, metrics: metrics, logger: logger)
        }
        self.tillerMonitor = tillerMonitor
        if let tillerMonitor { store.onNewBundle { tillerMonitor.bundleChanged() } }

        if configuration.usesKubernetesAPI { try Self.loadKubernetesTransport() }
        switch configuration.source {
        case .kubernetes(let kube, let namespace, let secret):
            let client = KubernetesClient(configuration: kube, logger: logger)
            kubernetesSource = KubernetesSecretSource(
                client: client, namespace: namespace, name: secret, store: store, logger: logger, metrics: metrics)
            directorySource = nil
        case .directory(let dir):
            kubernetesSource = nil
            directorySource = DirectorySource(directory: dir, store: store)
        case .fixed(let files):
            kubernetesSource = nil
            directorySource = nil
            guard store.offer(files, origin: "generated development bundle") else {
                throw ServiceError("the generated development bundle did not validate")
            }
        }

        let audit = if let path = configuration.auditLogPath {
            try AuditLog(path: path, queueCapacity: configuration.auditQueueCapacity)
        } else {
            try AuditLog(queueCapacity: configuration.auditQueueCapacity)
        }
        let serverSlot = ServerSlot()
        let reviewer = configuration.kubeAuth.map { kubeAuth in
            KubernetesTokenReviewer(
                client: KubernetesClient(configuration: kubeAuth.api, logger: logger),
                permission: .init(namespace: kubeAuth.namespace, group: kubeAuth.group, name: configuration.bundleName),
                audiences: kubeAuth.audiences, logger: logger)
        }
        let responder = HelmCertResponder(
            store: store, authenticator: authenticator, metrics: metrics, audit: audit,
            openConnections: { serverSlot.server?.openConnectionCount ?? 0 }, reviewer: reviewer)
        let serverConfiguration = HTTPServerConfiguration(
            host: configuration.listen.host, port: configuration.listen.port,
            eventLoopCount: configuration.eventLoopCount, tls: configuration.tls, limits: configuration.limits)
        let server = try HTTPServer(configuration: serverConfiguration, responder: responder, logger: logger)
        self.server = server
        serverSlot.server = server

        let reloader = configuration.tokenFile.map {
            TokenFileReloader(path: $0, loaded: tokenBytes, authenticator: authenticator, logger: logger)
        }
        let certificateReloader = configuration.tls.map { ServingCertificateReloader(tls: $0, server: server, logger: logger) }
        housekeeping = PeriodicTask(label: "housekeeping", interval: .seconds(2)) {
            store.refreshIfStale()
            reloader?.reloadIfChanged()
            certificateReloader?.reloadIfChanged()
        }
    }

    /// The port actually bound (useful with `--listen HOST:0`).
    public var localPort: Int { server.localPort }

    /// Starts the sources and the server; returns once the server is listening.
    public func start() throws {
        if configuration.tls == nil {
            logger.warning("serving plain HTTP (--insecure-http): only run this behind a proxy that terminates TLS; tokens and keys cross the wire in clear text otherwise")
        }
        kubernetesSource?.start()
        directorySource?.start()
        try server.start()
        housekeeping.start()
        tillerMonitor?.start()
        logger.info(
            "listening",
            metadata: [
                "address": "\(ListenAddress(host: configuration.listen.host, port: server.localPort))",
                "tls": "\(configuration.tls != nil)", "eventLoops": "\(configuration.eventLoopCount)",
                "tokens": "\(authenticator.count)",
            ])
    }

    /// Re-reads the serving certificate and key (new connections get them).
    public func reloadTLS() throws { try server.reloadTLS() }

    /// Stops accepting, lets in-flight requests finish within `gracePeriod`, stops the sources.
    public func shutdown(gracePeriod: Duration) {
        logger.info("shutting down", metadata: ["gracePeriod": "\(gracePeriod)"])
        server.shutdown(gracePeriod: gracePeriod)
        kubernetesSource?.stop()
        directorySource?.stop()
        housekeeping.stop()
        tillerMonitor?.stop()
    }

    /// Blocks until the server has stopped.
    public func waitUntilStopped() { server.waitUntilStopped() }
}

/// Lets the responder read the server's connection count although the server is made after the responder.
private final class ServerSlot: Sendable {
    private let slot = Mutex<HTTPServer?>(nil)
    var server: HTTPServer? {
        get { slot.withLock { $0 } }
        set { slot.withLock { $0 = newValue } }
    }
}
