/// Turns a request into a response; the server's only link to the application.
public protocol HTTPResponder: Sendable {
    /// Answers `request`. Called on an event-loop thread: must not block (no file or network I/O,
    /// no waiting on locks held for long), or every connection of that loop waits.
    func respond(to request: HTTPRequest) -> HTTPResponse
}
