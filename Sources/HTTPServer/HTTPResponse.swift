/// A response an ``HTTPResponder`` returns.
///
/// The server adds `Date`, `Content-Length` and (when it closes) `Connection: close` itself and
/// drops any such fields the responder set. For `HEAD` requests return the same response as for
/// `GET`: the server sends its headers (with the GET body's length) and no body.
/// Building the value once and returning it repeatedly is cheap: `body` is copy-on-write.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int
    /// Header fields to send, in order.
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]

    /// A response with `status`, `headers` and `body`.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}
