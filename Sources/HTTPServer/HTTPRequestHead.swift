/// A parsed request head plus what the connection needs to know about it.
struct HTTPRequestHead: Sendable {
    var method: String
    var path: String
    var query: String?
    var version: String
    var headers: HTTPHeaders
    /// Whether the client wants the connection kept open after the response (HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`).
    var keepAlive: Bool
    /// Whether the request announces a body (`Content-Length` > 0 or any `Transfer-Encoding`).
    /// The server never reads bodies: it answers, then closes.
    var announcesBody: Bool

    /// Whether this is a `HEAD` request (response without body).
    var isHead: Bool { method == "HEAD" }
}
