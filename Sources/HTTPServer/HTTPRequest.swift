/// One parsed HTTP request head, as handed to an ``HTTPResponder``.
///
/// The server never reads request bodies: requests that announce one are still answered,
/// then the connection is closed (see ``HTTPServer``).
public struct HTTPRequest: Sendable {
    /// The method as sent, e.g. `"GET"`, `"HEAD"` (case-sensitive per RFC 9110).
    public var method: String
    /// The target path without the query, e.g. `"/v1/bundles/helm/ca.pem"`; `"*"` for `OPTIONS *`.
    public var path: String
    /// The raw query after `"?"`, or nil when the target has none.
    public var query: String?
    /// The protocol version as sent: `"HTTP/1.1"` or `"HTTP/1.0"`.
    public var version: String
    /// The header fields in the order they were sent.
    public var headers: HTTPHeaders
    /// The peer's address: `"127.0.0.1:54321"` or `"[::1]:5"`.
    public var remoteAddress: String
    /// The subject common name of a client certificate that verified against the configured
    /// client CA (mutual TLS), else nil. Nil too once that certificate expired, or the client CA or CRL in force
    /// changed since the connection's handshake (that request's answer then closes the connection).
    public var clientCertificateSubjectCN: String?

    /// A request; mainly for responders' tests.
    public init(
        method: String, path: String, query: String? = nil, version: String = "HTTP/1.1",
        headers: HTTPHeaders = HTTPHeaders(), remoteAddress: String = "127.0.0.1:0",
        clientCertificateSubjectCN: String? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.remoteAddress = remoteAddress
        self.clientCertificateSubjectCN = clientCertificateSubjectCN
    }
}
