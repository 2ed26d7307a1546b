import FoundationEssentials
import HelmBundle
import Logging
import Synchronization
import TillerCheck

/// The bundle being served, and why there is none when there is none.
///
/// Sources (`KubernetesSecretSource`, `DirectorySource`, `--dev`) `offer` what they read; the store validates
/// it, renders every answer once, and swaps it in. Bad input never replaces a good bundle: the error is logged
/// naming the secret key that was wrong, and the last good bundle keeps being served. Readers on the event loops
/// only take a reference under a short lock.
public final class BundleStore: Sendable {
    /// What `/readyz` and the bundle endpoints see.
    public enum Availability: Sendable {
        case serving(RenderedBundle)
        /// No bundle to serve; the reason names what to fix.
        case unavailable(BundleUnavailability)
    }

    private struct State: Sendable {
        var current: RenderedBundle?
        var unavailableReason: BundleUnavailability
        /// A problem with the source while the last good bundle is still served (API down, bad new secret).
        var sourceProblem: SourceProblem?
        /// How many different bundles have been served; starts at 0.
        var generation = 0
        /// When the source last confirmed the served bundle (see ``BundleStore/lastSuccessfulSync``).
        var lastSuccessfulSync: Date?
        /// The last live check against Tiller (`--tiller-address`), rendered into the answers.
        var tiller: TillerCheckResult?
    }

    /// The bundle's name in URLs.
    public let name: String
    private let state: Mutex<State>
    private let logger: Logger
    private let metrics: ServiceMetrics?
    /// Told when a different bundle is swapped in (the Tiller check runs at once).
    private let newBundleObserver = Mutex<(@Sendable () -> Void)?>(nil)

    /// - Parameters:
    ///   - name: the bundle's name in URLs (`helm`).
    ///   - source: where the bundle comes from (`secret NS/NAME`, `directory PATH`): `/readyz` says it waits for
    ///     its first read until the first bundle arrives.
    ///   - logger: where changes are logged.
    ///   - metrics: where source errors are counted.
    public init(name: String, source: String, logger: Logger, metrics: ServiceMetrics? = nil) {
        self.name = name
        self.logger = logger
        self.metrics = metrics
        state = Mutex(State(current: nil, unavailableReason: .notLoadedYet(source: source)))
    }

    /// The current answer set, or why there is none.
    public var availability: Availability {
        state.withLock { s in s.current.map { .serving($0) } ?? .unavailable(s.unavailableReason) }
    }

    /// The bundle's generation: bumped every time a different bundle is swapped in.
    public var generation: Int { state.withLock { $0.generation } }
    /// When the source last confirmed that the served bundle is what it holds: it delivered a bundle that
    /// validated (changed or not) or said nothing changed (``confirm(now:)``). nil before the first bundle.
    public var lastSuccessfulSync: Date? { state.withLock { $0.lastSuccessfulSync } }
    /// The problem the source has while an older bundle is still served, if any.
    public var sourceProblem: SourceProblem? { state.withLock { $0.sourceProblem } }
    /// The last live check against Tiller, if one ran.
    public var tillerCheck: TillerCheckResult? { state.withLock { $0.tiller } }

    /// Sets what is called (on the source's thread) each time a different bundle is swapped in.
    public func onNewBundle(_ observer: @escaping @Sendable () -> Void) {
        newBundleObserver.withLock { $0 = observer }
    }

    /// Records a Tiller check and renders the current bundle again with it (its metadata and warnings).
    public func recordTillerCheck(_ result: TillerCheckResult) {
        let current = state.withLock { s -> RenderedBundle? in
            s.tiller = result
            return s.current
        }
        guard let current else { return }
        let rendered = RenderedBundle(name: name, bundle: current.bundle, now: result.checkedAt, tiller: result)
        state.withLock { s in
            if s.current?.bundle.fingerprint == rendered.bundle.fingerprint && s.tiller == result { s.current = rendered }
        }
    }

    /// Validates `files` and serves them if they differ from the current bundle.
    ///
    /// - Parameters:
    ///   - files: the three decoded files.
    ///   - origin: where they came from, for logs (`secret kyma-installer/helm-secret (resourceVersion 41)`).
    /// - Returns: true if the bundle is now served (new or unchanged), false if it was refused.
    @discardableResult
    public func offer(_ files: BundleFiles, origin: String, now: Date = Date()) -> Bool {
        let validated: ValidatedBundle
        do {
            validated = try ValidatedBundle(validating: files)
        } catch {
            refuse(error, origin: origin)
            return false
        }
        if let current = state.withLock({ s -> RenderedBundle? in
            s.current?.bundle.fingerprint == validated.fingerprint ? s.current : nil
        }) {
            state.withLock {
                $0.lastSuccessfulSync = now
                $0.sourceProblem = nil
            }
            // An expired (or nearly expired) bundle is said loudly at every sync, not only when it arrived.
            for warning in current.warnings {
                logger.warning("certificate expiry: \(warning)", metadata: ["bundle": "\(name)", "origin": "\(origin)"])
            }
            return true
        }
        let tiller = state.withLock { $0.tiller }
        let rendered = RenderedBundle(name: name, bundle: validated, now: now, tiller: tiller)
        let generation = state.withLock { s -> Int in
            s.current = rendered
            s.generation += 1
            s.lastSuccessfulSync = now
            s.sourceProblem = nil
            return s.generation
        }
        let metadata = validated.metadata
        logger.info(
            "serving new bundle",
            metadata: [
                "bundle": "\(name)", "origin": "\(origin)", "generation": "\(generation)",
                "notAfter": "\(metadata.notAfter.formatted(.iso8601))",
                "chainVerified": "\(metadata.chainVerified)",
                "keyAlgorithm": "\(metadata.key.algorithm)",
            ])
        if !metadata.chainVerified {
            logger.warning(
                "cert.pem does not verify against ca.pem; Helm clients will fail to talk to Tiller unless Tiller trusts another CA",
                metadata: ["bundle": "\(name)", "origin": "\(origin)"])
        }
        for warning in rendered.warnings {
            logger.warning("certificate expiry: \(warning)", metadata: ["bundle": "\(name)"])
        }
        newBundleObserver.withLock { $0 }?()
        return true
    }

    /// Records that the source looked again and holds what it last offered (a watch bookmark, an unchanged
    /// re-list or directory read). Counts as a sync only while that is the bundle served: not after a refused
    /// or withdrawn bundle, nor while the source reports a problem.
    public func confirm(now: Date = Date()) {
        state.withLock { s in
            guard s.current != nil, s.sourceProblem == nil else { return }
            s.lastSuccessfulSync = now
        }
    }

    /// Records that a source delivered something that cannot be a bundle; keeps the last good one.
    public func refuse(_ error: BundleError, origin: String) {
        let keeping = record(.invalidBundle(origin: origin, error))
        logger.error(
            "refused bundle: \(error)",
            metadata: [
                "bundle": "\(name)", "origin": "\(origin)", "key": "\(error.key ?? "-")",
                "keeping": keeping ? "last good bundle" : "nothing (no good bundle yet)",
            ])
    }

    /// Stops serving: the source says the bundle is gone (the secret was deleted).
    public func withdraw(because problem: SourceProblem) {
        let had = record(problem, withdrawing: true)
        logger.error("bundle withdrawn: \(problem)", metadata: ["bundle": "\(name)", "wasServing": "\(had)"])
    }

    /// Records that the source is failing (API unreachable); the last good bundle, if any, stays.
    public func reportSourceProblem(_ problem: SourceProblem) {
        let serving = record(problem)
        if serving {
            logger.warning("source failing, still serving the last good bundle: \(problem)", metadata: ["bundle": "\(name)"])
        } else {
            logger.warning("source failing and no bundle yet: \(problem)", metadata: ["bundle": "\(name)"])
        }
    }

    /// Counts `problem` and keeps it as the source's problem (and as the reason none is served, if none is),
    /// in one step with dropping the bundle when `withdrawing`.
    /// - Returns: whether a bundle was served (and still is, unless `withdrawing`).
    private func record(_ problem: SourceProblem, withdrawing: Bool = false) -> Bool {
        metrics?.countSourceError(problem.metricsKind)
        return state.withLock { s -> Bool in
            let serving = s.current != nil
            if withdrawing { s.current = nil }
            s.sourceProblem = problem
            if s.current == nil { s.unavailableReason = .sourceFailing(problem) }
            return serving
        }
    }

    /// Renders the current bundle again once its answers are an hour old (called periodically), so `Warning`
    /// headers and `expiresInDays` stay true without a new secret. File bodies and their ETags do not change.
    public func refreshIfStale(now: Date = Date()) {
        guard let current = state.withLock({ $0.current }) else { return }
        guard now.timeIntervalSince(current.renderedAt) >= 3_600 else { return }
        let rendered = RenderedBundle(name: name, bundle: current.bundle, now: now, tiller: current.tiller)
        state.withLock { s in
            if s.current?.bundle.fingerprint == rendered.bundle.fingerprint { s.current = rendered }
        }
        for warning in rendered.warnings {
            logger.warning("certificate expiry: \(warning)", metadata: ["bundle": "\(name)"])
        }
    }
}
