import FoundationEssentials
import HelmBundle
import KubernetesClient
import Logging
import Synchronization

/// The CA that signs personal certificates: from the issuer Secret (`--issuer-secret`, read and watched like the
/// bundle's, see ``KubernetesSecretSource``) or `--dev`'s generated one, always checked against the `ca.pem` the
/// bundle serves now.
///
/// - A Secret that is not a usable CA (not `ca.pem`'s CA, not a CA, key not matching, not PEM…) is refused: the
///   error is logged naming the Secret key that was wrong (never key bytes), `/readyz` says it, and the last good
///   CA keeps issuing, if it still is `ca.pem`'s.
/// - A deleted Secret stops issuing: the routes answer 503 saying so.
/// - The bundle can rotate: ``availability(now:)`` checks the CA against the bundle's current `ca.pem` whenever
///   that changed (the newest Secret first, then the last good one), so a CA that is no longer the one Tiller
///   trusts never signs; issuing stops until the issuer Secret follows.
///
/// Holds the decoded Secret data of the newest and the last good Secret (the bundle store holds the shared key the
/// same way), never logs or prints them.
public final class IssuerStore: Sendable {
    /// Whether issuing can sign now.
    public enum Availability: Sendable {
        case ready(CertificateAuthority)
        /// Why not, said so an operator can fix it.
        case unavailable(String)
    }

    /// Secret data as the source delivered it, and where it came from.
    private struct Offered: Sendable {
        var data: [String: [UInt8]]
        var origin: String
    }

    private struct State: Sendable {
        /// The newest Secret the source delivered (good or not).
        var newest: Offered?
        /// The newest one that made a usable CA.
        var lastGood: Offered?
        /// The outcome of the last check, and the `ca.pem` it was checked against (checked again when it changes).
        var checked: (against: [UInt8], result: Result<CertificateAuthority, CertificateAuthorityError>)?
        /// Why there is no Secret (deleted, not read yet).
        var missing: String
        /// A problem with the source while an older CA may still issue (API down, a refused Secret).
        var sourceProblem: String?
    }

    /// What the CA comes from, for messages: `secret kyma-installer/helm-issuer-ca`.
    public let source: String
    private let bundle: BundleStore
    private let logger: Logger
    private let state: Mutex<State>

    /// - Parameters:
    ///   - source: what the CA comes from, for messages (`secret NS/NAME`, `the generated development CA`).
    ///   - bundle: the bundle whose `ca.pem` the CA must be.
    ///   - logger: where refusals and changes are logged.
    public init(source: String, bundle: BundleStore, logger: Logger) {
        self.source = source
        self.bundle = bundle
        self.logger = logger
        state = Mutex(State(missing: "waiting for the first read of \(source)"))
    }

    /// Takes Secret data already decoded (`--dev`'s generated CA).
    public func offer(decoded data: [String: [UInt8]], origin: String) {
        let now = Date()
        let bundleCA = currentBundleCA
        let result = state.withLock { state -> Result<CertificateAuthority, CertificateAuthorityError>? in
            state.newest = Offered(data: data, origin: origin)
            state.sourceProblem = nil
            state.checked = nil
            guard let bundleCA else { return nil }
            let result = Self.check(data, bundleCA: bundleCA, now: now)
            record(result, of: Offered(data: data, origin: origin), against: bundleCA, in: &state)
            return result
        }
        switch result {
        case .success(let authority)?:
            logger.info("issuing personal certificates", metadata: ["issuer": "\(authority)", "origin": "\(origin)"])
        case .failure(let error)?:
            logger.error(
                "refused issuer: \(error)",
                metadata: ["origin": "\(origin)", "key": "\(error.secretKey ?? "-")", "keeping": "\(keepingText)"])
        case nil:
            logger.info("issuer secret read; it is checked once a bundle is served", metadata: ["origin": "\(origin)"])
        }
    }

    /// Whether issuing can sign now, checking the CA against the bundle's current `ca.pem` when that changed.
    public func availability(now: Date = Date()) -> Availability {
        guard case .serving(let rendered) = bundle.availability else {
            return .unavailable("no bundle is served, so there is no ca.pem to check the issuing CA against")
        }
        return availability(against: rendered, now: now)
    }

    /// Whether issuing can sign for `rendered` (a bundle read once by the caller, whose `ca.pem` then goes out with
    /// the certificate: read again here, a rotation in between would pair a certificate with another CA's ca.pem).
    public func availability(against rendered: RenderedBundle, now: Date = Date()) -> Availability {
        let bundleCA = rendered.bundle.files.ca
        enum Outcome { case ready(CertificateAuthority), refused(String) }
        let describe = { [source] (result: Result<CertificateAuthority, CertificateAuthorityError>) -> Outcome in
            switch result {
            case .success(let authority): .ready(authority)
            case .failure(let error): .refused("\(source) is not usable: \(error)")
            }
        }
        let (result, newlyFailed) = state.withLock { state -> (Outcome, Bool) in
            if let checked = state.checked, checked.against == bundleCA {
                return (describe(checked.result), false)
            }
            guard let newest = state.newest else { return (.refused(state.missing), false) }
            // The newest Secret first; then the last good one, which may still be ca.pem's CA.
            var outcome = Self.check(newest.data, bundleCA: bundleCA, now: now)
            var used = newest
            if case .failure = outcome, let good = state.lastGood, good.origin != newest.origin,
               case .success(let authority) = Self.check(good.data, bundleCA: bundleCA, now: now) {
                outcome = .success(authority)
                used = good
            }
            record(outcome, of: used, against: bundleCA, in: &state)
            let failed = if case .failure = outcome { true } else { false }
            return (describe(outcome), failed)
        }
        switch result {
        case .ready(let authority):
            guard authority.notAfter > now else {
                return .unavailable("the issuing CA from \(source) expired at \(authority.notAfter.formatted(.iso8601)); renew it (issuer secret, ca.pem and Tiller's CA together)")
            }
            return .ready(authority)
        case .refused(let reason):
            if newlyFailed { logger.error("issuing stopped: \(reason)") }
            return .unavailable(reason)
        }
    }

    /// The line `/readyz` says about issuing.
    public func readinessLine(now: Date = Date()) -> String {
        let problem = state.withLock { $0.sourceProblem }
        switch availability(now: now) {
        case .ready(let authority):
            var line = "issuing: ready, signing with \(authority.info.subject) (notAfter \(authority.notAfter.formatted(.iso8601))) from \(source)"
            if let problem { line += "; source problem (issuing with the last good CA): \(problem)" }
            return line
        case .unavailable(let reason):
            return "issuing: not ready: \(reason)"
        }
    }

    private var currentBundleCA: [UInt8]? {
        if case .serving(let rendered) = bundle.availability { return rendered.bundle.files.ca }
        return nil
    }

    private var keepingText: String {
        state.withLock { state in
            if case .success(let authority)? = state.checked?.result { return "the last good CA, \(authority.info.subject)" }
            return "nothing (no good CA): issuing is off until the secret is fixed"
        }
    }

    /// Records a check's outcome: a good CA becomes the last good; a refused newest Secret becomes the source problem.
    private func record(
        _ result: Result<CertificateAuthority, CertificateAuthorityError>, of offered: Offered, against bundleCA: [UInt8],
        in state: inout State
    ) {
        switch result {
        case .success:
            state.lastGood = offered
            state.checked = (bundleCA, result)
            if offered.origin == state.newest?.origin { state.sourceProblem = nil }
        case .failure(let error):
            // The last good CA keeps issuing if it is still ca.pem's.
            if let good = state.lastGood, good.origin != offered.origin,
               case .success(let authority) = Self.check(good.data, bundleCA: bundleCA, now: Date()) {
                state.checked = (bundleCA, .success(authority))
            } else {
                state.checked = (bundleCA, result)
            }
            state.sourceProblem = "\(offered.origin) was refused: \(error)"
        }
    }

    private static func check(
        _ data: [String: [UInt8]], bundleCA: [UInt8], now: Date
    ) -> Result<CertificateAuthority, CertificateAuthorityError> {
        Result { () throws(CertificateAuthorityError) in try CertificateAuthority(secretData: data, bundleCA: bundleCA, now: now) }
    }
}

extension IssuerStore: SecretConsumer {
    public func secretChanged(_ data: [String: String], origin: String) {
        var decoded: [String: [UInt8]] = [:]
        for (key, value) in data {
            // Canonical padded base64, as the API server writes it (the bundle's keys are read the same way).
            guard let bytes = Data(base64Encoded: value), bytes.base64EncodedString() == value else {
                logger.error(
                    "refused issuer secret: its key \(key) is not valid base64 (standard alphabet, padded); re-create the secret",
                    metadata: ["origin": "\(origin)", "key": "\(key)", "keeping": "\(keepingText)"])
                state.withLock { $0.sourceProblem = "\(origin) was refused: key \(key) is not valid base64" }
                return
            }
            decoded[key] = [UInt8](bytes)
        }
        offer(decoded: decoded, origin: origin)
    }

    public func secretConfirmed() {}

    public func secretDeleted(_ what: String) {
        let reason = "\(what) does not exist (deleted or not yet created): issuing is off until it is created"
        let had = state.withLock { state -> Bool in
            let had = state.newest != nil
            state.newest = nil
            state.lastGood = nil
            state.checked = nil
            state.missing = reason
            state.sourceProblem = nil
            return had
        }
        if had { logger.error("issuer withdrawn: \(reason)") } else { logger.warning("\(reason)") }
    }

    public func secretUnreadable(_ what: String, error: KubernetesError) {
        let problem = SourceProblem.kubernetesAPIFailing(secret: what, error).description
        state.withLock { state in
            state.sourceProblem = problem
            if state.newest == nil { state.missing = problem }
        }
        logger.warning("issuer source failing: \(problem)")
    }
}
