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
    ///   - request: the parsed request head.
    ///   - promise: answers this request later; ignored when a response is returned.
    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse?
}

extension HTTPResponder {
    /// Answers at once with ``respond(to:)``.
    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse? {
        respond(to: request)
    }
}
