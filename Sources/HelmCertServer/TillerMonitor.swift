import BackgroundWork
import FoundationEssentials
import HelmBundle
import KubernetesClient
import Logging
import Synchronization
import TillerCheck

/// `--tiller-address` and its timing.
public struct TillerCheckConfiguration: Sendable {
    /// `HOST:PORT` of Tiller's gRPC port (`tiller-deploy.kube-system:44134`).
    public var address: String
    /// Between checks while they succeed (`--tiller-check-interval`); also the longest pause after failures.
    public var interval: Duration
    /// One check's limit, connect included (`--tiller-check-timeout`).
    public var timeout: Duration

    public static let defaultInterval: Duration = .seconds(300)
    public static let defaultTimeout: Duration = .seconds(10)
    /// The longest `--tiller-check-timeout` accepted: a check is a handshake and one tiny call.
    public static let longestTimeout: Duration = .seconds(300)
    /// The first retry after a failure; doubling (±20 % jitter) up to ``interval``.
    public static let firstRetry: Duration = .seconds(5)

    public init(address: String, interval: Duration = defaultInterval, timeout: Duration = defaultTimeout) {
        self.address = address
        self.interval = interval
        self.timeout = timeout
    }

    /// Reads `300`, `300s`, `5m`, `1h` (whole numbers) as a duration of at least one second.
    public static func parseDuration(_ text: String) -> Duration? {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600]
        var digits = Substring(text)
        var unit: Int64 = 1
        if let last = text.last, let factor = units[last] {
            unit = factor
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), let number = Int64(digits), number > 0,
              number <= 7 * 86_400 / unit else { return nil }
        return .seconds(number * unit)
    }
}

/// Runs the live check against Tiller on a thread of its own: at once when a new bundle is served, then every
/// ``TillerCheckConfiguration/interval``, sooner (backing off with jitter from 5 s) after a failure. Never per
/// request and never on an event loop; a Tiller that hangs holds only this thread, for at most the timeout.
final class TillerMonitor: Sendable {
    private let client: TillerClient
    private let interval: Duration
    private let backoff: ExponentialBackoff
    private let store: BundleStore
    private let metrics: ServiceMetrics
    private let logger: Logger
    /// Poked for a new bundle (several pokes while a check runs make one more check), stopped by `stop()`.
    private let signal = StopSignal()

    init(configuration: TillerCheckConfiguration, store: BundleStore, metrics: ServiceMetrics, logger: Logger) {
        client = TillerClient(address: configuration.address, timeout: configuration.timeout)
        interval = configuration.interval
        backoff = ExponentialBackoff(
            initial: min(TillerCheckConfiguration.firstRetry, configuration.interval), maximum: configuration.interval,
            jitter: 0.2)
        self.store = store
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts the thread; the first check runs as soon as a bundle is served.
    /// - Throws: ``BackgroundThread/StartError`` when no thread can be started.
    func start() throws {
        // Detached: stop() does not wait for a check in progress (at most the timeout), which only updates
        // the store, and the thread ends on its own after it.
        try BackgroundThread(name: "tiller-check") { [self] in self.run() }.detach()
    }

    /// A new bundle is served: check it now.
    func bundleChanged() { signal.poke() }

    /// Ends the loop. Does not wait for a check in progress (at most the timeout): it only updates the store.
    func stop() { signal.stop() }

    private func run() {
        var failures = 0
        var succeededBefore = false
        var pause: Duration? = .zero
        // Several new bundles while a check ran make one check, not several: pokes before a wait count as one.
        while !signal.wait(for: pause) {
            guard case .serving(let rendered) = store.availability else {
                pause = nil  // nothing to check until a bundle is served
                continue
            }
            let result = client.check(Self.credentials(rendered.bundle))
            store.recordTillerCheck(result)
            metrics.recordTillerCheck(result, bundle: store.name)
            if let failure = result.failure {
                logger.warning("tiller check failed: \(failure)", metadata: ["tiller": "\(result.address)", "bundle": "\(store.name)"])
                pause = backoff.delay(attempt: failures)
                failures += 1
            } else {
                if failures > 0 || !succeededBefore {
                    succeededBefore = true
                    logger.info("tiller check succeeded", metadata: ["tiller": "\(result.address)", "version": "\(result.version ?? "")"])
                }
                failures = 0
                pause = interval
            }
        }
    }

    static func credentials(_ bundle: ValidatedBundle) -> TillerClient.Credentials {
        TillerClient.Credentials(
            ca: bundle.files.ca, certificate: bundle.files.certificate, key: bundle.files.key,
            certificateNotAfter: bundle.metadata.certificates["cert.pem"]?.notAfter,
            caNotAfter: bundle.metadata.certificates["ca.pem"]?.notAfter)
    }
}
