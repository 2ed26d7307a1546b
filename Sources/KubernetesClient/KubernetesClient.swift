import CCurlShims
import FoundationEssentials
import Logging

/// Reads Secrets (and asks for TokenReviews and SubjectAccessReviews) from the Kubernetes API through libcurl: blocking calls on the caller's thread, TLS verified
/// against the configured CA, `Authorization: Bearer` from the token file (re-read every `tokenMaxAge` and at
/// once after a 401, then the request is retried once). The token is never logged.
public final class KubernetesClient: Sendable {
    /// Where the API is and how to reach it.
    public let configuration: KubernetesConfiguration
    let logger: Logger
    let tokens: BearerTokenSource

    /// Loads libcurl now (it is loaded on first use otherwise), so that a server configured to use the API can
    /// refuse to start when it cannot, instead of failing every request.
    ///
    /// - Throws: ``KubernetesError/configuration(_:)`` saying why, e.g. that Debian's libcurl4 is not installed.
    public static func loadTransport() throws(KubernetesError) {
        if let failure = CurlTransfer.loadFailure { throw .configuration(failure) }
    }

    /// Creates a client. No request is made until a method is called.
    /// - Parameters:
    ///   - configuration: API server URL, token file, CA file and timeouts.
    ///   - logger: where requests are logged at `debug` (method, path, status; never the token).
    public init(configuration: KubernetesConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.tokens = BearerTokenSource(path: configuration.tokenFile, maxAge: configuration.tokenMaxAge)
    }

    /// GETs one secret.
    /// - Throws: `.status` (404 when absent, 403 when RBAC forbids), `.transport`, `.decoding`, `.configuration`.
    public func secret(namespace: String, name: String) throws(KubernetesError) -> Secret {
        let body = try send(path: Self.secretPath(namespace: namespace, name: name))
        return try decode(Secret.self, from: body, what: "secret \(namespace)/\(name)")
    }

    /// LISTs the secrets of `namespace` with `fieldSelector=metadata.name=NAME` (what RBAC `resourceNames` allows).
    /// - Returns: the secret, or `nil` when there is none, and the list's resourceVersion (where a watch starts).
    public func listSecret(namespace: String, name: String) throws(KubernetesError) -> (secret: Secret?, resourceVersion: String) {
        try listSecret(namespace: namespace, name: name, shouldAbort: { false })
    }

    /// `listSecret`, abandoned as soon as `shouldAbort` answers true (the watcher's `stop()`).
    func listSecret(
        namespace: String, name: String, shouldAbort: @escaping () -> Bool
    ) throws(KubernetesError) -> (secret: Secret?, resourceVersion: String) {
        let path = Self.secretsPath(namespace: namespace) + "?fieldSelector=" + percentEncoded("metadata.name=\(name)")
        let body = try send(path: path, shouldAbort: shouldAbort)
        let list = try decode(SecretList.self, from: body, what: "secret list of \(namespace)")
        let secret = list.items?.first { $0.metadata.name == name }
        return (secret, list.metadata.resourceVersion ?? "")
    }

    // MARK: Plain requests

    /// Sends a request, retrying once with a re-read token after a 401, and returns the body of a 2xx answer.
    /// - Parameters:
    ///   - path: the API path with its query.
    ///   - method: `GET` or `POST`.
    ///   - body: a JSON body (sent with `Content-Type: application/json`).
    ///   - shouldAbort: polled while the request runs; true abandons it.
    func send(
        path: String, method: String = "GET", body: [UInt8]? = nil, shouldAbort: @escaping () -> Bool = { false }
    ) throws(KubernetesError) -> [UInt8] {
        var token = try bearerToken()
        var (status, answer) = try perform(path: path, method: method, body: body, token: token, shouldAbort: shouldAbort)
        if status == 401 {
            logger.info("Kubernetes API answered 401; re-reading the token file and retrying once")
            token = try bearerToken(reread: true)
            (status, answer) = try perform(path: path, method: method, body: body, token: token, shouldAbort: shouldAbort)
        }
        guard (200..<300).contains(status) else { throw .status(Self.status(from: answer, httpCode: status)) }
        return answer
    }

    /// The bearer token (re-read from its file with `reread`), only for a URL that will not carry it in clear.
    /// - Throws: `.configuration` for a URL ``KubernetesConfiguration/validate()`` refuses or an unreadable token file.
    func bearerToken(reread: Bool = false) throws(KubernetesError) -> String {
        try configuration.validate()
        return try reread ? tokens.reload() : tokens.token()
    }

    private func perform(
        path: String, method: String, body: [UInt8]?, token: String, shouldAbort: @escaping () -> Bool
    ) throws(KubernetesError) -> (Int, [UInt8]) {
        nonisolated(unsafe) var answer: [UInt8] = []
        var request = request(path: path, token: token, timeout: configuration.requestTimeout)
        request.method = method
        if let body {
            request.body = body
            request.headers.append("Content-Type: application/json")
        }
        let result = CurlTransfer.perform(request, shouldAbort: shouldAbort) { _, bytes in
            answer.append(contentsOf: bytes)
            return answer.count <= 16 << 20
        }
        switch result {
        case .success(let status):
            logger.debug("Kubernetes API request", metadata: ["method": "\(method)", "path": "\(path)", "status": "\(status)"])
            return (status, answer)
        case .failure(.aborted):
            if shouldAbort() {
                throw .transport(.init(request: "\(method) \(path)", code: CURLE_ABORTED_BY_CALLBACK, message: "cancelled (the watcher is stopping)"))
            }
            throw .transport(.init(request: "\(method) \(path)", code: CURLE_WRITE_ERROR, message: "answer larger than 16 MiB"))
        case .failure(.curl(let code, let message, _)):
            throw .transport(.init(request: "\(method) \(path)", code: code, message: message))
        }
    }

    func request(path: String, token: String, timeout: Duration) -> CurlTransfer.Request {
        CurlTransfer.Request(
            url: configuration.baseURL + path,
            headers: ["Authorization: Bearer \(token)", "Accept: application/json"],
            caFile: configuration.caFile,
            connectTimeout: configuration.connectTimeout,
            totalTimeout: timeout
        )
    }

    func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], what: String) throws(KubernetesError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw .decoding(.init(object: what, error: error))
        }
    }

    /// The API's Status from an error body, or one made up from the HTTP code when the body is not a Status.
    static func status(from body: [UInt8], httpCode: Int) -> Status {
        if var status = try? JSONDecoder().decode(Status.self, from: Data(body)), status.message != nil || status.reason != nil {
            if status.code == nil { status.code = httpCode }
            return status
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return Status(status: "Failure", message: "HTTP \(httpCode)" + (text.isEmpty ? "" : ": \(text)"), code: httpCode)
    }

    static func secretsPath(namespace: String) -> String {
        "/api/v1/namespaces/\(percentEncoded(namespace))/secrets"
    }

    static func secretPath(namespace: String, name: String) -> String {
        secretsPath(namespace: namespace) + "/" + percentEncoded(name)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
func percentEncoded(_ text: String) -> String {
    var result = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            result.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF".unicodeScalars)
            result.unicodeScalars.append("%")
            result.unicodeScalars.append(hex[Int(byte >> 4)])
            result.unicodeScalars.append(hex[Int(byte & 0xF)])
        }
    }
    return result
}
