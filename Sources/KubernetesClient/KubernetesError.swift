/// What went wrong talking to the Kubernetes API. Messages never contain the bearer token.
public enum KubernetesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The client could not be configured (environment, token file, URL, libcurl).
    case configuration(ConfigurationProblem)
    /// The request did not complete: connect, TLS, timeout or a cut connection (libcurl's code and text).
    case transport(TransportFailure)
    /// The API answered with a failure `Status` (401, 403, 404, 410, 5xx, …).
    case status(Status)
    /// The API answered with something this client could not decode (or a request could not be encoded).
    case decoding(DecodingFailure)

    /// The HTTP code, when the API answered with a `Status`.
    public var statusCode: Int? {
        if case .status(let status) = self { return status.code }
        return nil
    }

    public var description: String {
        switch self {
        case .configuration(let problem):
            return "Kubernetes client configuration: \(problem)"
        case .transport(let failure):
            return "Kubernetes API unreachable: \(failure) (check --kube-api, the network and the CA file)"
        case .status(let status):
            let code = status.code.map { "\($0)" } ?? "?"
            let reason = status.reason.map { " \($0)" } ?? ""
            return "Kubernetes API answered \(code)\(reason): \(status.message ?? "no message")"
        case .decoding(let failure):
            return "Kubernetes API answer not understood: \(failure)"
        }
    }
}
