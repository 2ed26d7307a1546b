/// Where the Kubernetes API is and how to authenticate to it.
public struct KubernetesConfiguration: Sendable {
    /// The directory of the service account files every pod gets.
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"
    /// The service account token file every pod gets.
    public static let serviceAccountTokenFile = "\(serviceAccountDirectory)/token"
    /// The cluster CA every pod gets.
    public static let serviceAccountCAFile = "\(serviceAccountDirectory)/ca.crt"
    /// The pod's own namespace, which every pod gets.
    public static let serviceAccountNamespaceFile = "\(serviceAccountDirectory)/namespace"

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
    /// The longest watch event line accepted (default 4 MiB). A Secret is at most 1 MiB of data, about 1.4 MiB
    /// as base64 in JSON, so a real event fits with room for its metadata; a longer line ends the watch with
    /// ``KubernetesError/decoding(_:)`` (the watcher backs off and re-lists) instead of being buffered without end.
    public var maxWatchEventBytes: Int = 4 << 20
    /// Whether an `http://` `apiServer` is accepted (`--kube-api-insecure-http`, default false): over plain HTTP
    /// the service-account token crosses the network in clear text, so only `https://` is used otherwise.
    public var allowsInsecureHTTP = false

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
            throw .configuration(.missingEnvironmentVariable("KUBERNETES_SERVICE_HOST"))
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw .configuration(.missingEnvironmentVariable("KUBERNETES_SERVICE_PORT"))
        }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return KubernetesConfiguration(apiServer: "https://\(hostPart):\(port)")
    }

    /// Checks that `apiServer` is an `https://` URL (or `http://` with `allowsInsecureHTTP`) before a token is sent
    /// to it: libcurl would otherwise also speak plain HTTP, FILE, FTP and more.
    /// - Throws: ``KubernetesError/configuration(_:)`` saying what to pass instead.
    public func validate() throws(KubernetesError) {
        let url = apiServer.lowercased()
        if url.hasPrefix("https://") { return }
        if url.hasPrefix("http://") {
            if allowsInsecureHTTP { return }
            throw .configuration(.insecureURL(apiServer))
        }
        throw .configuration(.unsupportedURL(apiServer))
    }

    /// `apiServer` without trailing slashes, ready to have a path appended.
    var baseURL: Substring {
        var url = Substring(apiServer)
        while url.hasSuffix("/") { url = url.dropLast() }
        return url
    }
}
