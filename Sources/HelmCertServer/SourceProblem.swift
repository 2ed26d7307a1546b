import HelmBundle
import KubernetesClient

/// What is wrong with where the bundle comes from: why none is served, or why the served one may be stale.
///
/// One value feeds the log line, `/readyz`, the 503 problem details and the `kind` label of
/// `helm_cert_server_source_errors_total`, so they cannot drift apart. Each ``description`` says what to fix;
/// none holds key bytes or the bearer token (``BundleError`` names keys, never their contents; `KubernetesError`
/// never carries the token).
public enum SourceProblem: Sendable, Equatable, CustomStringConvertible {
    /// The Secret does not exist: deleted, or not created yet. `secret` names it (`secret NS/NAME`).
    case secretNotFound(secret: String)
    /// The Kubernetes API could not be asked for the Secret: unreachable, refusing the token, forbidden, …
    case kubernetesAPIFailing(secret: String, KubernetesError)
    /// What the source holds is not a valid bundle: a key (or mounted file) missing, unreadable or malformed,
    /// or the three files not belonging together. `origin` names the source and version
    /// (`secret NS/NAME (resourceVersion 41)`, `directory /etc/helm-secret`); the error names the key.
    case invalidBundle(origin: String, BundleError)

    public var description: String {
        switch self {
        case .secretNotFound(let secret):
            return "\(secret) does not exist (deleted or not yet created); create it, e.g. by re-running the Kyma installer"
        case .kubernetesAPIFailing(let secret, let error):
            return "cannot read \(secret) from the Kubernetes API: \(error)"
        case .invalidBundle(let origin, let error):
            return "\(origin) was refused: \(error)"
        }
    }

    /// The `kind` label this problem is counted under.
    var metricsKind: ServiceMetrics.SourceErrorKind {
        switch self {
        case .secretNotFound: .withdrawn
        case .kubernetesAPIFailing: .api
        case .invalidBundle: .invalidBundle
        }
    }
}

/// Why ``BundleStore`` serves no bundle: `/readyz` and the bundle endpoints answer 503 with this ``description``.
public enum BundleUnavailability: Sendable, Equatable, CustomStringConvertible {
    /// No read of the source has finished yet; `source` names it (`secret NS/NAME`, `directory PATH`).
    case notLoadedYet(source: String)
    /// The source failed before a good bundle arrived, or withdrew the one served.
    case sourceFailing(SourceProblem)

    public var description: String {
        switch self {
        case .notLoadedYet(let source): "waiting for the first read of \(source)"
        // Nothing was served before it, so it is not a refusal of a newer bundle: it is all the source holds.
        case .sourceFailing(.invalidBundle(let origin, let error)): "\(origin) holds no valid bundle: \(error)"
        case .sourceFailing(let problem): problem.description
        }
    }
}
