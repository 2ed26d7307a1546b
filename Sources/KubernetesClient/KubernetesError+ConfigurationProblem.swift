extension KubernetesError {
    /// Why the client cannot be used as configured. Each ``description`` says what to pass or install instead.
    public enum ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
        /// An in-cluster variable (`KUBERNETES_SERVICE_HOST`, `KUBERNETES_SERVICE_PORT`) is missing or empty.
        case missingEnvironmentVariable(String)
        /// The API URL is plain `http://` without `allowsInsecureHTTP`: the token would cross the network in clear.
        case insecureURL(String)
        /// The API URL is neither `https://` nor `http://` (libcurl would also speak FILE, FTP, …).
        case unsupportedURL(String)
        /// The token file could not be read: the call that failed (`open`, `read`) and errno's text.
        case unreadableTokenFile(path: String, call: String, reason: String)
        /// The token file holds nothing but whitespace.
        case emptyTokenFile(path: String)
        /// libcurl is not installed (`notFound`) or cannot be used; `detail` is the loader's text (dlerror).
        case libcurlUnavailable(detail: String, notFound: Bool)
        /// A thread for the watch could not be started (the process is out of threads or memory).
        case threadUnavailable(String)

        public var description: String {
            switch self {
            case .missingEnvironmentVariable(let name):
                return "\(name) is not set: run in a pod or pass --kube-api"
            case .insecureURL(let url):
                return "the Kubernetes API URL \(url) is plain HTTP, which would send the service-account token in clear text: use https://, or pass --kube-api-insecure-http (tests and local proxies only)"
            case .unsupportedURL(let url):
                return "the Kubernetes API URL \(url) must start with https://"
            case .unreadableTokenFile(let path, let call, let reason):
                return "cannot \(call) token file \(path): \(reason) (mount the service account token or pass --kube-token-file)"
            case .emptyTokenFile(let path):
                return "token file \(path) is empty: mount the service account token or pass --kube-token-file"
            case .libcurlUnavailable(let detail, true):
                return "libcurl could not be loaded (\(detail)); install Debian's libcurl4 package"
            case .libcurlUnavailable(let detail, false):
                return "libcurl could not be used (\(detail))"
            case .threadUnavailable(let reason):
                return reason
            }
        }

        /// The same problem with every string passed through `scrub`.
        func mapText(_ scrub: (String) -> String) -> Self {
            switch self {
            case .missingEnvironmentVariable(let name): .missingEnvironmentVariable(scrub(name))
            case .insecureURL(let url): .insecureURL(scrub(url))
            case .unsupportedURL(let url): .unsupportedURL(scrub(url))
            case .unreadableTokenFile(let path, let call, let reason):
                .unreadableTokenFile(path: scrub(path), call: call, reason: scrub(reason))
            case .emptyTokenFile(let path): .emptyTokenFile(path: scrub(path))
            case .libcurlUnavailable(let detail, let notFound): .libcurlUnavailable(detail: scrub(detail), notFound: notFound)
            case .threadUnavailable(let reason): .threadUnavailable(scrub(reason))
            }
        }
    }
}
