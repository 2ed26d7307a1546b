/// A response an ``HTTPResponder`` returns.
///
/// The server adds `Date`, `Content-Length` and (when it closes) `Connection: close` itself and
/// drops any such fields the responder set. For `HEAD` requests return the same response as for
/// `GET`: the server sends its headers (with the GET body's length) and no body.
/// Building the value once and returning it repeatedly is cheap: `body` is copy-on-write. A response that is
/// sent many times unchanged can also be ``prepared()``, so its head is serialised once instead of per request.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200.
    public var status: Int { didSet { preparedHead = nil } }
    /// Header fields to send, in order.
    public var headers: HTTPHeaders { didSet { preparedHead = nil } }
    /// The body bytes.
    public var body: [UInt8] { didSet { preparedHead = nil } }
    /// The serialised head, from ``prepared()``; any change to the response drops it.
    private(set) var preparedHead: PreparedHead?

    /// The parts of the wire form of a response that do not change from one request to the next.
    struct PreparedHead: Sendable {
        /// The status line and the responder's fields (server-owned ones dropped, values sanitised).
        var statusAndFields: [UInt8]
        /// `Content-Length: N\r\n`, or empty for statuses that carry no length.
        var contentLength: [UInt8]
    }

    /// A response with `status`, `headers` and `body`.
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
        self.preparedHead = nil
    }

    /// This response with its status line, fields and `Content-Length` serialised now, for a response built
    /// once and sent many times: sending it then copies those bytes and adds only `Date` (and `Connection`
    /// when needed). The bytes on the wire are the same as for the unprepared response.
    public func prepared() -> HTTPResponse {
        var copy = self
        copy.preparedHead = HTTPResponseWriter.prepareHead(self)
        return copy
    }
}
