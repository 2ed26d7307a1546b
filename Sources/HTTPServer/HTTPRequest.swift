/// One parsed HTTP request, as handed to an ``HTTPResponder``.
///
/// The body is read only where the responder takes one (``HTTPResponder/maxBodyBytes(method:path:)``); a
/// request to any other route that announces a body is still answered, then the connection is closed (see
/// ``HTTPServer``).
public struct HTTPRequest: Sendable {
    /// The method as sent (case-sensitive per RFC 9110): ``HTTPMethod/get``, ``HTTPMethod/head``, …
    public var method: HTTPMethod
    /// The target path without the query, e.g. `"/v1/bundles/helm/ca.pem"`; `"*"` for `OPTIONS *`.
    public var path: String
    /// The raw query after `"?"`, or nil when the target has none.
    public var query: String?
    /// The protocol version of the request line.
    public var version: HTTPVersion
    /// The header fields in the order they were sent.
    public var headers: HTTPHeaders
    /// The body: exactly `Content-Length` bytes on a route that takes a body, else empty.
    public var body: [UInt8]
    /// The peer's address: `"127.0.0.1:54321"` or `"[::1]:5"`.
    public var remoteAddress: String
    /// The subject common name of a client certificate that verified against the configured
    /// client CA (mutual TLS), else nil. Nil too once that certificate expired, or the client CA or CRL in force
    /// changed since the connection's handshake (that request's answer then closes the connection).
    public var clientCertificateSubjectCN: String?
    /// The policy identifiers (dotted OIDs, e.g. `"2.5.29.32.0"`) in the certificatePolicies extension of that same
    /// client certificate; empty without one. The server gives them no meaning: they let a responder tell kinds of
    /// certificates from one CA apart (helm-cert-server refuses its own personal certificates as identities).
    /// A certificate whose certificatePolicies do not decode gives no identity at all.
    public var clientCertificatePolicies: [String]

    /// A request; mainly for responders' tests.
    public init(
        method: HTTPMethod, path: String, query: String? = nil, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], remoteAddress: String = "127.0.0.1:0",
        clientCertificateSubjectCN: String? = nil, clientCertificatePolicies: [String] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.clientCertificateSubjectCN = clientCertificateSubjectCN
        self.clientCertificatePolicies = clientCertificatePolicies
    }
}
