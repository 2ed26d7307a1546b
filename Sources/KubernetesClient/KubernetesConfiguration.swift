/// Where the Kubernetes API is and how to authenticate to it.
public struct KubernetesConfiguration: Sendable {
    /// The service account token file every pod gets.
    public static let serviceAccountTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
    /// The cluster CA every pod gets.
    public static let serviceAccountCAFile = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"

    /// Base URL of the API server, e.g. `https://10.0.0.1:443` (no trailing slash needed).
    public var apiServer: String
    /// File holding the bearer token; re-read at most `tokenMaxAge` after the last read and at once after a 401.
    public var tokenFile: String
    /// PEM CA bundle that signed the API server's certificate; `nil` uses the system's CAs.
    public var caFile: String?
    /// Longest wait for the TCP + TLS connection (default 5 s).
    public var connectTimeout: Duration = .seconds(5)
    /// Longest a plain (non-watch) request may take in all (default 15 s).
    public var requestTimeout: Duration = .seconds(15)
    /// `timeoutSeconds` asked of the server for each watch (default 290).
    public var watchTimeoutSeconds: Int = 290
    /// How much longer than `watchTimeoutSeconds` the client lets a watch run before cutting it (default 30 s).
    public var watchTimeoutSlack: Duration = .seconds(30)
    /// How long a token read from `tokenFile` is used before reading the file again (default 60 s, as client-go).
    public var tokenMaxAge: Duration = .seconds(60)

    /// Creates a configuration.
    /// - Parameters:
    ///   - apiServer: base URL, e.g. `https://10.0.0.1:443`.
    ///   - tokenFile: file holding the bearer token.
    ///   - caFile: PEM CA file for the API server's certificate, or `nil` for the system's CAs.
    public init(
        apiServer: String,
        tokenFile: String = KubernetesConfiguration.serviceAccountTokenFile,
        caFile: String? = KubernetesConfiguration.serviceAccountCAFile
    ) {
        self.apiServer = apiServer
        self.tokenFile = tokenFile
        self.caFile = caFile
    }

    /// client-go's `rest.InClusterConfig`: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (an IPv6
    /// host in brackets) with the pod's service account token and CA.
    ///
    /// - Parameter environment: the process environment (pass `ProcessInfo`'s or a test's dictionary).
    /// - Throws: `.configuration` when either variable is missing or empty.
    public static func inCluster(environment: [String: String]) throws(KubernetesError) -> KubernetesConfiguration {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw .configuration("KUBERNETES_SERVICE_HOST is not set: run in a pod or pass --kube-api")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw .configuration("KUBERNETES_SERVICE_PORT is not set: run in a pod or pass --kube-api")
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return KubernetesConfiguration(apiServer: "https://\(hostPart):\(port)")
    }

    /// `apiServer` without trailing slashes, ready to have a path appended.
    var baseURL: Substring {
        var url = Substring(apiServer)
        while url.hasSuffix("/") { url = url.dropLast() }
        return url
    }
}
