import CoreMetrics
import FoundationEssentials
import Prometheus
import Synchronization
import TillerCheck

/// The service's Prometheus metrics, created once through swift-metrics and exported by swift-prometheus.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `helm_cert_server_requests_total` | counter | `route`, `status` |
/// | `helm_cert_server_auth_failures_total` | counter | `reason` (`missing`, `malformed`, `invalid_token`, `forbidden`, `unavailable`) |
/// | `helm_cert_server_source_errors_total` | counter | `kind` (`api`, `invalid_bundle`, `withdrawn`) |
/// | `helm_cert_server_watch_restarts_total` | counter | watch streams ended and begun again (timeout, cut, 410) |
/// | `helm_cert_server_audit_failures_total` | counter | `reason` (`queue_full`, `write_failed`): requests refused (503) because their audit line could not be written |
/// | `helm_cert_server_bundle_generation` | gauge | |
/// | `helm_cert_server_bundle_ready` | gauge | 1 while a bundle is served |
/// | `helm_cert_server_seconds_since_last_sync` | gauge | time since a source last delivered a valid bundle |
/// | `helm_cert_server_open_connections` | gauge | |
/// | `helm_cert_server_certificate_not_after_seconds` | gauge | `bundle`, `file` (`ca.pem`, `cert.pem`, `tiller-server`: Tiller's own, once a check saw it) |
/// | `helm_cert_server_tiller_check_success` | gauge | 1 if the last check against Tiller succeeded, else 0 (only with `--tiller-address`) |
/// | `helm_cert_server_tiller_check_timestamp_seconds` | gauge | when the last check against Tiller ran (Unix seconds) |
///
/// Counters for every route and status the responder can give are made up front, so counting a request is
/// a dictionary lookup and an atomic add.
public final class ServiceMetrics: Sendable {
    /// Where every metric lives; `/metrics` prints it.
    public let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let requests: [RequestKey: CoreMetrics.Counter]
    private let otherRequests: Mutex<[RequestKey: CoreMetrics.Counter]>
    private let authFailures: [String: CoreMetrics.Counter]
    private let sourceErrors: [String: CoreMetrics.Counter]
    private let watchRestarts: CoreMetrics.Counter
    private let auditFailures: [AuditFailure: CoreMetrics.Counter]
    private let generation: CoreMetrics.Gauge
    private let ready: CoreMetrics.Gauge
    private let sinceSync: CoreMetrics.Gauge
    private let openConnections: CoreMetrics.Gauge
    private let notAfter: Mutex<[String: CoreMetrics.Gauge]>
    /// Made at the first Tiller check, so a server without `--tiller-address` does not print them.
    private let tillerGauges = Mutex<(success: CoreMetrics.Gauge, timestamp: CoreMetrics.Gauge)?>(nil)

    struct RequestKey: Hashable, Sendable {
        var route: String
        var status: Int
    }

    /// Route labels, one per kind of path.
    static let routes = ["bundle_file", "bundle_archive", "bundle_metadata", "healthz", "readyz", "openapi", "metrics", "unknown"]
    static let statuses = [200, 304, 400, 401, 403, 404, 405, 500, 503]

    /// - Parameter registry: the registry to fill (a fresh one per service; tests make their own).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        var requests: [RequestKey: CoreMetrics.Counter] = [:]
        for route in Self.routes {
            for status in Self.statuses {
                requests[RequestKey(route: route, status: status)] = CoreMetrics.Counter(
                    label: "helm_cert_server_requests_total", dimensions: [("route", route), ("status", "\(status)")],
                    factory: factory)
            }
        }
        self.requests = requests
        otherRequests = Mutex([:])
        var auth: [String: CoreMetrics.Counter] = [:]
        for reason in ["missing", "malformed", "invalid_token", "forbidden", "unavailable"] {
            auth[reason] = CoreMetrics.Counter(label: "helm_cert_server_auth_failures_total", dimensions: [("reason", reason)], factory: factory)
        }
        authFailures = auth
        var source: [String: CoreMetrics.Counter] = [:]
        for kind in ["api", "invalid_bundle", "withdrawn"] {
            source[kind] = CoreMetrics.Counter(label: "helm_cert_server_source_errors_total", dimensions: [("kind", kind)], factory: factory)
        }
        sourceErrors = source
        watchRestarts = CoreMetrics.Counter(label: "helm_cert_server_watch_restarts_total", factory: factory)
        var audit: [AuditFailure: CoreMetrics.Counter] = [:]
        for reason in AuditFailure.allCases {
            audit[reason] = CoreMetrics.Counter(
                label: "helm_cert_server_audit_failures_total", dimensions: [("reason", reason.rawValue)], factory: factory)
        }
        auditFailures = audit
        generation = CoreMetrics.Gauge(label: "helm_cert_server_bundle_generation", factory: factory)
        ready = CoreMetrics.Gauge(label: "helm_cert_server_bundle_ready", factory: factory)
        sinceSync = CoreMetrics.Gauge(label: "helm_cert_server_seconds_since_last_sync", factory: factory)
        openConnections = CoreMetrics.Gauge(label: "helm_cert_server_open_connections", factory: factory)
        notAfter = Mutex([:])
    }

    /// Counts one answered request.
    public func countRequest(route: String, status: Int) {
        let key = RequestKey(route: route, status: status)
        if let counter = requests[key] {
            counter.increment()
            return
        }
        let counter = otherRequests.withLock { others in
            if let existing = others[key] { return existing }
            let made = CoreMetrics.Counter(
                label: "helm_cert_server_requests_total", dimensions: [("route", route), ("status", "\(status)")],
                factory: factory)
            others[key] = made
            return made
        }
        counter.increment()
    }

    /// Counts one refused authentication.
    public func countAuthFailure(reason: String) { authFailures[reason]?.increment() }

    /// Why a request's audit line was not written.
    public enum AuditFailure: String, Sendable, CaseIterable {
        /// ``AuditLog/queueCapacity`` lines were already waiting (the destination is slow or stalled).
        case queueFull = "queue_full"
        /// `write(2)` failed (disk full, closed pipe).
        case writeFailed = "write_failed"
    }

    /// Counts one request refused because its audit line was not written.
    public func countAuditFailure(_ reason: AuditFailure) { auditFailures[reason]?.increment() }

    /// Counts one watch restart.
    public func countWatchRestart() { watchRestarts.increment() }

    /// Counts one source problem (`api`, `invalid_bundle`, `withdrawn`).
    public func countSourceError(kind: String) { sourceErrors[kind]?.increment() }

    /// Records a live check against Tiller: its outcome, its time, and Tiller's certificate's end (`file`
    /// `tiller-server`) when the handshake showed it.
    public func recordTillerCheck(_ result: TillerCheckResult, bundle: String) {
        let (success, timestamp) = tillerGauges.withLock { gauges in
            if let gauges { return gauges }
            let made = (
                success: CoreMetrics.Gauge(label: "helm_cert_server_tiller_check_success", factory: factory),
                timestamp: CoreMetrics.Gauge(label: "helm_cert_server_tiller_check_timestamp_seconds", factory: factory))
            gauges = made
            return made
        }
        success.record(result.ok ? 1 : 0)
        timestamp.record(result.checkedAt.timeIntervalSince1970)
        if let certificate = result.serverCertificate {
            notAfterGauge(bundle: bundle, file: "tiller-server").record(certificate.info.notAfter.timeIntervalSince1970)
        }
    }

    /// The `certificate_not_after_seconds` gauge for one file, made on first use. (`exposition` makes its own
    /// the same way inline: left as it was so that parallel edits of this file merge by hand; fold it into this.)
    private func notAfterGauge(bundle: String, file: String) -> CoreMetrics.Gauge {
        notAfter.withLock { gauges in
            if let g = gauges[file] { return g }
            let g = CoreMetrics.Gauge(
                label: "helm_cert_server_certificate_not_after_seconds",
                dimensions: [("bundle", bundle), ("file", file)], factory: factory)
            gauges[file] = g
            return g
        }
    }

    /// Brings the gauges up to date from the store and the server, then prints everything in the
    /// Prometheus text format.
    public func exposition(store: BundleStore, openConnections count: Int, now: Date = Date()) -> [UInt8] {
        generation.record(store.generation)
        openConnections.record(count)
        if let last = store.lastSuccessfulSync {
            sinceSync.record(now.timeIntervalSince(last))
        } else {
            sinceSync.record(-1)
        }
        switch store.availability {
        case .serving(let rendered):
            ready.record(1)
            for (file, info) in rendered.bundle.metadata.certificates {
                let gauge = notAfter.withLock { gauges in
                    if let g = gauges[file] { return g }
                    let g = CoreMetrics.Gauge(
                        label: "helm_cert_server_certificate_not_after_seconds",
                        dimensions: [("bundle", store.name), ("file", file)], factory: factory)
                    gauges[file] = g
                    return g
                }
                gauge.record(info.notAfter.timeIntervalSince1970)
            }
        case .unavailable:
            ready.record(0)
        }
        return registry.emitToBuffer()
    }
}
