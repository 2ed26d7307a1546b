import Synchronization

/// Answers one request later, from any thread, at most once (later calls are ignored).
///
/// Handed to ``HTTPResponder/respond(to:promise:)``. Calling ``succeed(_:)`` queues the response for the
/// connection's event loop and wakes it; the loop writes it out in request order. A promise whose
/// connection has meanwhile closed, timed out (503) or been shut down is dropped safely.
public struct HTTPResponsePromise: Sendable {
    private enum Target: Sendable {
        /// A request on a server connection: the loop's inbox and the promise's number there.
        case eventLoop(EventLoopInbox, id: UInt64)
        /// A test double: hands the response to a closure.
        case callback(CallbackOnce)
    }

    private let target: Target

    init(inbox: EventLoopInbox, id: UInt64) {
        target = .eventLoop(inbox, id: id)
    }

    /// A promise not tied to a server, which passes the first response it gets to `onSucceed` (on the
    /// thread calling ``succeed(_:)``); for responders' unit tests.
    ///
    /// - Parameter onSucceed: receives the response; called at most once.
    public init(onSucceed: @escaping @Sendable (HTTPResponse) -> Void) {
        target = .callback(CallbackOnce(onSucceed))
    }

    /// Answers the request with `response`. Only the first call counts; later ones are ignored.
    public func succeed(_ response: HTTPResponse) {
        switch target {
        case .eventLoop(let inbox, let id): inbox.deliver(response, to: id)
        case .callback(let callback): callback.call(response)
        }
    }
}

/// A closure that runs at most once, whichever thread asks first.
private final class CallbackOnce: Sendable {
    private let body: @Sendable (HTTPResponse) -> Void
    private let called = Atomic<Bool>(false)

    init(_ body: @escaping @Sendable (HTTPResponse) -> Void) { self.body = body }

    func call(_ response: HTTPResponse) {
        guard !called.exchange(true, ordering: .acquiringAndReleasing) else { return }
        body(response)
    }
}
