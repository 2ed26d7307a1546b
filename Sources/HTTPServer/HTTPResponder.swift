/// Turns a request into a response; the server's only link to the application.
///
/// The server always calls ``respond(to:promise:)``. A responder that answers at once implements only
/// ``respond(to:)``; one that must wait for something slow (a Kubernetes API call, say) implements
/// ``respond(to:promise:)`` too, returns nil, and answers later through the promise from any thread.
public protocol HTTPResponder: Sendable {
    /// Answers `request` now. Called on an event-loop thread: must not block (no file or network I/O,
    /// no waiting on locks held for long), or every connection of that loop waits.
    func respond(to request: HTTPRequest) -> HTTPResponse

    /// Returns a response now, or nil to answer through `promise` later (from any thread).
    ///
    /// Called on an event-loop thread, so the same rule applies: hand slow work to another thread and
    /// return nil. While the promise is pending the connection reads no further requests (pipelined ones
    /// stay buffered and are answered in order afterwards); other connections are served as usual. If
    /// `promise` is not fulfilled within ``HTTPServerLimits/responseTimeout`` the server answers 503 and
    /// closes the connection; ``HTTPResponsePromise/isCancelled`` then turns true, as it does when the client
    /// leaves first. The default implementation returns ``respond(to:)``.
    ///
    /// - Parameters:
    ///   - request: the parsed request, with its body when the route takes one.
    ///   - promise: answers this request later; ignored when a response is returned.
    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse?

    /// Most body bytes a `method` request to `path` may carry; 0 (the default implementation): it takes no body.
    ///
    /// Asked once the head of a request that announces a body is parsed, before any of the body is read (never
    /// for a request without one, or with `Content-Length: 0`). The server caps the answer at
    /// ``HTTPServerLimits/maxBodyBytes``. Above 0, the body must come with `Content-Length` (`Transfer-Encoding`
    /// gets 411) of at most that many bytes (a longer one gets 413 before any of it is read; both then close);
    /// the server reads it whole, within the ``HTTPServerLimits/headerTimeout`` that started with the head, and
    /// hands it to ``respond(to:promise:)`` as ``HTTPRequest/body``. At 0, the request is answered without its
    /// body (the responder sees an empty one), then the connection closes.
    ///
    /// Called on an event-loop thread: decide from the method and path alone, at once. A route for uploads
    /// opts in like this:
    ///
    /// ```swift
    /// func maxBodyBytes(method: HTTPMethod, path: String) -> Int {
    ///     method == .post && path == "/v1/uploads" ? 16 * 1024 : 0
    /// }
    /// ```
    func maxBodyBytes(method: HTTPMethod, path: String) -> Int
}

extension HTTPResponder {
    /// Answers at once with ``respond(to:)``.
    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse? {
        respond(to: request)
    }

    /// Takes no body on any route.
    public func maxBodyBytes(method: HTTPMethod, path: String) -> Int { 0 }
}
