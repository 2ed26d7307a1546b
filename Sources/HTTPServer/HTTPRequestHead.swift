/// A parsed request head plus what the connection needs to know about it.
struct HTTPRequestHead: Sendable {
    var method: HTTPMethod
    var path: String
    var query: String?
    var version: HTTPVersion
    var headers: HTTPHeaders
    /// Whether the client wants the connection kept open after the response (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    var keepAlive: Bool
    /// How the head says its body is delimited.
    var framing: BodyFraming

    /// How a request's body is delimited (RFC 9112 §6.3), as far as the head tells.
    enum BodyFraming: Equatable, Sendable {
        /// No body: neither `Content-Length` nor `Transfer-Encoding`, or `Content-Length: 0`.
        case none
        /// `Content-Length` of at least 1 byte.
        case contentLength(Int)
        /// A `Transfer-Encoding` (chunked or any other coding): the length is not known from the head.
        case transferEncoding
    }

    /// Whether the request announces a body (`Content-Length` > 0 or any `Transfer-Encoding`).
    var announcesBody: Bool { framing != .none }

    /// Whether this is a `HEAD` request (response without body).
    var isHead: Bool { method == .head }

    /// Whether the client waits for `100 Continue` before it sends the body (RFC 9110 §10.1.1; an HTTP/1.0
    /// client's expectation is ignored, as the RFC requires).
    var expectsContinue: Bool { version == .http1_1 && headers.hasToken("100-continue", in: "Expect") }
}

extension HTTPRequestHead {
    /// What the connection does with a request's body.
    enum BodyHandling: Equatable, Sendable {
        /// There is none: answer, and keep the connection alive if the client asked.
        case none
        /// The route takes no body: answer without reading it, then close instead of parsing the body as the
        /// next request.
        case unread
        /// Read exactly this many bytes (the whole body), then answer.
        case read(Int)
        /// Refuse before reading any of the body, then close: 413 (longer than the route takes) or 411 (no
        /// `Content-Length`).
        case refuse(HTTPRequestError)
    }

    /// What to do with this request's body when its route takes at most `limit` bytes (0: none).
    ///
    /// A body is read only with `Content-Length`. `Transfer-Encoding` gets 411 Length Required rather than 501:
    /// the server knows chunked but does not take it, and 411 tells the client exactly what to send instead
    /// (RFC 9112 §6.3 lets a server refuse a body without `Content-Length` this way). Bodies here are small
    /// (a CSR) and every client sends them with a length.
    func bodyHandling(accepting limit: Int) -> BodyHandling {
        switch framing {
        case .none: .none
        case _ where limit <= 0: .unread
        case .transferEncoding: .refuse(Self.lengthRequired(limit))
        case .contentLength(let length) where length > limit: .refuse(Self.contentTooLarge(length, limit: limit))
        case .contentLength(let length): .read(length)
        }
    }

    static func lengthRequired(_ limit: Int) -> HTTPRequestError {
        HTTPRequestError(
            status: 411,
            reason: "this path takes a body only with Content-Length (at most \(limit) bytes), not Transfer-Encoding")
    }

    static func contentTooLarge(_ length: Int, limit: Int) -> HTTPRequestError {
        HTTPRequestError(status: 413, reason: "a body of \(length) bytes is over this path's limit of \(limit) bytes")
    }
}
