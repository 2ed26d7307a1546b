import FoundationEssentials
import Prometheus
import Synchronization
import TillerCheck

/// The service's Prometheus metrics, registered once with their `# HELP` text (``Family``) and exported by
/// swift-prometheus. The README's metrics table says the same as ``Family/help``.
///
/// Counters for every route and status the responder can give are made up front, so counting a request is
/// a dictionary lookup and an atomic add.
public final class ServiceMetrics: Sendable {
    /// Every metric family the service exports: its name, and the `# HELP` line that says what it means.
    public enum Family: String, Sendable, CaseIterable {
        case requests = "helm_cert_server_requests_total"
        case authFailures = "helm_cert_server_auth_failures_total"
        case sourceErrors = "helm_cert_server_source_errors_total"
        case watchRestarts = "helm_cert_server_watch_restarts_total"
        case auditFailures = "helm_cert_server_audit_failures_total"
        case bundleGeneration = "helm_cert_server_bundle_generation"
        case bundleReady = "helm_cert_server_bundle_ready"
        case lastSync = "helm_cert_server_last_sync_timestamp_seconds"
        case openConnections = "helm_cert_server_open_connections"
        case certificateNotAfter = "helm_cert_server_certificate_not_after_seconds"
        case buildInfo = "helm_cert_server_build_info"
        case watchedFileOk = "helm_cert_server_watched_file_ok"
        case staticTokens = "helm_cert_server_static_tokens"
        case tillerCheckSuccess = "helm_cert_server_tiller_check_success"
        case tillerCheckTimestamp = "helm_cert_server_tiller_check_timestamp_seconds"
        case certificatesIssued = "helm_cert_server_certificates_issued_total"
        case ledgerDrops = "helm_cert_server_ledger_dropped_total"

        /// The `# HELP` text.
        public var help: String {
            switch self {
            case .requests: "Answered requests, by route and HTTP status (499: the client left before the answer)."
            case .authFailures: "Refused authentications on /v1, by reason."
            case .sourceErrors: "Problems reading the bundle's source: api (unreachable), invalid_bundle (refused, the last good one is kept), withdrawn (secret deleted)."
            case .watchRestarts: "Watch streams of the secret that ended and began again (the server's timeout, a cut, a 410)."
            case .auditFailures: "/v1 requests refused with 503 because their audit line could not be queued or written."
            case .bundleGeneration: "How many different bundles have been served since start."
            case .bundleReady: "1 while a valid bundle is served, else 0."
            case .lastSync: "Unix time the source last confirmed the served bundle (a watch event or bookmark, a good re-list or directory read, changed or not); 0 before the first."
            case .openConnections: "Open client connections."
            case .certificateNotAfter: "Unix time a certificate expires: bundle=\"helm\" for ca.pem and cert.pem (the first certificate of each), bundle=\"server\" file=\"tls.crt\" for the serving certificate chain (its earliest), and Tiller's own certificate (file tiller-server) once a live check saw it."
            case .buildInfo: "Always 1; the version label says which release runs."
            case .watchedFileOk: "1 when a watched file's last read was applied, 0 while it cannot be read or does not load (file: token_file, serving_certificate, client_ca, source_directory)."
            case .staticTokens: "Tokens from --token-file in use (0 while the file cannot be read)."
            case .tillerCheckSuccess: "1 if the last live check of the bundle against Tiller succeeded, else 0 (only with --tiller-address)."
            case .tillerCheckTimestamp: "Unix time the last live check against Tiller ran (only with --tiller-address)."
            case .certificatesIssued: "Personal certificates issued, by how they were asked for: csr (the caller's key) or generated (personal.tar.gz)."
            case .ledgerDrops: "Still-valid entries dropped from the ledger of personal certificates, by reason: full (the ledger's capacity) or user_full (that user's share; their own entry expiring first went)."
            }
        }

        /// The name and help text, as swift-prometheus takes them (the whole name as `metricName`: empty parts
        /// are left out of the name).
        var descriptor: MetricNameDescriptor {
            MetricNameDescriptor(metricName: rawValue, unitName: "", helpText: help)
        }
    }

    /// Where every metric lives; `/metrics` prints it.
    public let registry: PrometheusCollectorRegistry
    private let requests: [RequestKey: Prometheus.Counter]
    private let otherRequests: Mutex<[RequestKey: Prometheus.Counter]>
    private let authFailures: [AuthFailureReason: Prometheus.Counter]
    private let sourceErrors: [SourceErrorKind: Prometheus.Counter]
    private let watchRestarts: Prometheus.Counter
    private let auditFailures: [AuditFailure: Prometheus.Counter]
    private let generation: Prometheus.Gauge
    private let ready: Prometheus.Gauge
    private let lastSync: Prometheus.Gauge
    private let openConnections: Prometheus.Gauge
    private let notAfter: Mutex<[String: Prometheus.Gauge]>
    private let servingNotAfter: Prometheus.Gauge
    /// Made at a watch's first look, so files the service does not watch print nothing.
    private let watchedFiles: Mutex<[WatchedFile: Prometheus.Gauge]>
    /// Made at the first Tiller check, so a server without `--tiller-address` does not print them.
    private let tillerGauges = Mutex<(success: Prometheus.Gauge, timestamp: Prometheus.Gauge)?>(nil)
    private let staticTokens: Prometheus.Gauge
    private let certificatesIssued: [IssuingMethod: Prometheus.Counter]
    private let ledgerDrops: [CertificateLedger.Drop: Prometheus.Counter]

    struct RequestKey: Hashable, Sendable {
        var route: Route
        var status: Int
    }

    /// The `route` label of `helm_cert_server_requests_total`: one per kind of path. The responder's routes name
    /// theirs with it, and every label is made (at 0) from this list, so the two cannot drift apart.
    public enum Route: String, Sendable, CaseIterable {
        /// `ca.pem`, `cert.pem`, `key.pem`.
        case bundleFile = "bundle_file"
        /// `bundle.tar.gz`.
        case bundleArchive = "bundle_archive"
        /// `/v1/bundles/NAME`, the JSON metadata.
        case bundleMetadata = "bundle_metadata"
        /// `/v1/bundles/NAME/certificates`: issuing from a CSR, and the ledger.
        case bundleCertificates = "bundle_certificates"
        /// `/v1/bundles/NAME/personal.tar.gz`.
        case bundlePersonalArchive = "bundle_personal_archive"
        case healthz
        case readyz
        case openapi
        case metrics
        /// Any other path.
        case unknown
    }
    static let statuses = [200, 304, 400, 401, 403, 404, 405, 415, 500, 503]

    /// The `bundle` and `file` labels of the serving certificate's expiry.
    static let servingCertificateLabels = [("bundle", "server"), ("file", "tls.crt")]

    /// - Parameters:
    ///   - registry: the registry to fill (a fresh one per service; tests make their own).
    ///   - version: the `version` label of `helm_cert_server_build_info`.
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), version: String = helmCertServerVersion) {
        self.registry = registry
        var requests: [RequestKey: Prometheus.Counter] = [:]
        for route in Route.allCases {
            for status in Self.statuses {
                requests[RequestKey(route: route, status: status)] = registry.counter(
                    .requests, [("route", route.rawValue), ("status", "\(status)")])
            }
        }
        self.requests = requests
        otherRequests = Mutex([:])
        var auth: [AuthFailureReason: Prometheus.Counter] = [:]
        for reason in AuthFailureReason.allCases {
            auth[reason] = registry.counter(.authFailures, [("reason", reason.rawValue)])
        }
        authFailures = auth
        var source: [SourceErrorKind: Prometheus.Counter] = [:]
        for kind in SourceErrorKind.allCases {
            source[kind] = registry.counter(.sourceErrors, [("kind", kind.rawValue)])
        }
        sourceErrors = source
        watchRestarts = registry.counter(.watchRestarts)
        var audit: [AuditFailure: Prometheus.Counter] = [:]
        for reason in AuditFailure.allCases {
            audit[reason] = registry.counter(.auditFailures, [("reason", reason.rawValue)])
        }
        auditFailures = audit
        generation = registry.gauge(.bundleGeneration)
        ready = registry.gauge(.bundleReady)
        lastSync = registry.gauge(.lastSync)
        openConnections = registry.gauge(.openConnections)
        notAfter = Mutex([:])
        watchedFiles = Mutex([:])
        staticTokens = registry.gauge(.staticTokens)
        var issued: [IssuingMethod: Prometheus.Counter] = [:]
        for how in IssuingMethod.allCases {
            issued[how] = registry.counter(.certificatesIssued, [("how", how.rawValue)])
        }
        certificatesIssued = issued
        var drops: [CertificateLedger.Drop: Prometheus.Counter] = [:]
        for reason in CertificateLedger.Drop.allCases {
            drops[reason] = registry.counter(.ledgerDrops, [("reason", reason.rawValue)])
        }
        ledgerDrops = drops
        servingNotAfter = registry.gauge(.certificateNotAfter, Self.servingCertificateLabels)
        registry.gauge(.buildInfo, [("version", version)]).set(to: 1)
    }

    /// Records whether a watched file's last read was applied (1) or failed (0).
    func recordWatchedFile(_ file: WatchedFile, ok: Bool) {
        let gauge = watchedFiles.withLock { gauges in
            if let gauge = gauges[file] { return gauge }
            let gauge = registry.gauge(.watchedFileOk, [("file", file.rawValue)])
            gauges[file] = gauge
            return gauge
        }
        gauge.set(to: ok ? 1 : 0)
    }

    /// Records how many static tokens are in use.
    func recordStaticTokens(_ count: Int) { staticTokens.set(to: Double(count)) }

    /// Counts one answered request.
    public func countRequest(route: Route, status: Int) {
        let key = RequestKey(route: route, status: status)
        if let counter = requests[key] {
            counter.increment()
            return
        }
        let counter = otherRequests.withLock { others in
            if let existing = others[key] { return existing }
            let made = registry.counter(.requests, [("route", route.rawValue), ("status", "\(status)")])
            others[key] = made
            return made
        }
        counter.increment()
    }

    /// Why a `/v1` request's authentication was refused: the `reason` label of
    /// `helm_cert_server_auth_failures_total`. Every case has its counter from the start, so a dashboard sees
    /// a 0 rather than no series, and a new case cannot be counted without one.
    public enum AuthFailureReason: String, Sendable, CaseIterable {
        /// No `Authorization` header.
        case missing
        /// An `Authorization` header that is not `Bearer <token>`, or more than one of them.
        case malformed
        /// A bearer token nobody vouches for (neither the token file nor a TokenReview).
        case invalidToken = "invalid_token"
        /// A known caller without the right to read the bundle.
        case forbidden
        /// The check could not be made (the Kubernetes API is down, or the review queue is full).
        case unavailable
    }

    /// Counts one refused authentication.
    public func countAuthFailure(_ reason: AuthFailureReason) { authFailures[reason]?.increment() }

    /// Why a request's audit line was not written.
    public enum AuditFailure: String, Sendable, CaseIterable {
        /// ``AuditLog/queueCapacity`` lines were already waiting (the destination is slow or stalled).
        case queueFull = "queue_full"
        /// `write(2)` failed (disk full, closed pipe).
        case writeFailed = "write_failed"
    }

    /// Counts one request refused because its audit line was not written.
    public func countAuditFailure(_ reason: AuditFailure) { auditFailures[reason]?.increment() }

    /// Counts one issued personal certificate.
    public func countCertificateIssued(_ how: IssuingMethod) { certificatesIssued[how]?.increment() }

    /// Counts one still-valid ledger entry dropped.
    public func countLedgerDrop(_ reason: CertificateLedger.Drop) { ledgerDrops[reason]?.increment() }

    /// Counts one watch restart.
    public func countWatchRestart() { watchRestarts.increment() }

    /// What went wrong with the bundle's source: the `kind` label of `helm_cert_server_source_errors_total`
    /// (``Family/help`` says the same to Prometheus). Every case has its counter from the start.
    public enum SourceErrorKind: String, Sendable, CaseIterable {
        /// The source could not be read (the Kubernetes API is unreachable or answered an error).
        case api
        /// The source delivered something that is not a valid bundle; the last good one is kept.
        case invalidBundle = "invalid_bundle"
        /// The source says the bundle is gone (the secret was deleted).
        case withdrawn
    }

    /// Counts one source problem.
    public func countSourceError(_ kind: SourceErrorKind) { sourceErrors[kind]?.increment() }

    /// Records a live check against Tiller: its outcome, its time, and Tiller's certificate's end (`file`
    /// `tiller-server`) when the handshake showed it.
    public func recordTillerCheck(_ result: TillerCheckResult, bundle: String) {
        let (success, timestamp) = tillerGauges.withLock { gauges in
            if let gauges { return gauges }
            let made = (success: registry.gauge(.tillerCheckSuccess), timestamp: registry.gauge(.tillerCheckTimestamp))
            gauges = made
            return made
        }
        success.set(to: result.ok ? 1 : 0)
        timestamp.set(to: result.checkedAt.timeIntervalSince1970)
        if let certificate = result.serverCertificate {
            notAfterGauge(bundle: bundle, file: "tiller-server").set(to: certificate.info.notAfter.timeIntervalSince1970)
        }
    }

    /// The `certificate_not_after_seconds` gauge for one file of `bundle`, made on first use.
    private func notAfterGauge(bundle: String, file: String) -> Prometheus.Gauge {
        notAfter.withLock { gauges in
            if let g = gauges[file] { return g }
            let g = registry.gauge(.certificateNotAfter, [("bundle", bundle), ("file", file)])
            gauges[file] = g
            return g
        }
    }

    /// Brings the gauges up to date from the store and the server, then prints everything in the
    /// Prometheus text format.
    public func exposition(store: BundleStore, openConnections count: Int) -> [UInt8] {
        generation.set(to: Double(store.generation))
        openConnections.set(to: Double(count))
        lastSync.set(to: store.lastSuccessfulSync?.timeIntervalSince1970 ?? 0)
        switch store.availability {
        case .serving(let rendered):
            ready.set(to: 1)
            for (file, info) in rendered.bundle.metadata.certificates {
                notAfterGauge(bundle: store.name, file: file).set(to: info.notAfter.timeIntervalSince1970)
            }
        case .unavailable:
            ready.set(to: 0)
        }
        return registry.emitToBuffer()
    }

    /// Records when the serving certificate chain (`--tls-cert`, or `--dev`'s) stops working: the earliest
    /// `notAfter` of its certificates. Called at start and at every reload.
    public func recordServingCertificate(notAfter date: Date) {
        servingNotAfter.set(to: date.timeIntervalSince1970)
    }
}

extension PrometheusCollectorRegistry {
    /// A counter of `family`, with its help text.
    func counter(_ family: ServiceMetrics.Family, _ labels: [(String, String)] = []) -> Prometheus.Counter {
        makeCounter(descriptor: family.descriptor, labels: labels)
    }

    /// A gauge of `family`, with its help text.
    func gauge(_ family: ServiceMetrics.Family, _ labels: [(String, String)] = []) -> Prometheus.Gauge {
        makeGauge(descriptor: family.descriptor, labels: labels)
    }
}
