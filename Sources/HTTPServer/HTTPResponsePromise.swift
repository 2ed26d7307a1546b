import Synchronization

/// Answers one request later, from any thread, at most once (later calls are ignored).
///
/// Handed to ``HTTPResponder/respond(to:promise:)``. Calling ``succeed(_:)`` queues the response for the
/// connection's event loop and wakes it (on the loop's own thread there is nothing to wake: the loop takes it
/// before it next sleeps); the loop writes it out in request order. A promise whose
/// connection has meanwhile closed, timed out (503) or been shut down is dropped safely, and
/// ``isCancelled`` says so beforehand.
public struct HTTPResponsePromise: Sendable {
    private enum Target: Sendable {
        /// A request on a server connection: the loop's inbox, the connection's slot, the promise's number.
        case eventLoop(EventLoopInbox, PromiseSlot, id: UInt64)
        /// A test double: hands the response to a closure.
        case callback(CallbackOnce, isCancelled: @Sendable () -> Bool)
    }

    private let target: Target

    private let loopTurn: EventLoopTurn?

    /// The turn of the event loop that asked, for work to do once per turn before answering
    /// (``EventLoopTurn``): on that loop's thread (in ``HTTPResponder/respond(to:promise:)``), and nil on any
    /// other thread. Nil for a promise not tied to a server unless its test gives one.
    public var turn: EventLoopTurn? {
        guard let loopTurn, loopTurn.isUsableHere else { return nil }
        return loopTurn
    }

    init(inbox: EventLoopInbox, slot: PromiseSlot, id: UInt64, turn: EventLoopTurn?) {
        target = .eventLoop(inbox, slot, id: id)
        loopTurn = turn
    }

    /// A promise not tied to a server, which passes the first response it gets to `onSucceed` (on the
    /// thread calling ``succeed(_:)``); for responders' unit tests.
    ///
    /// - Parameters:
    ///   - isCancelled: what ``isCancelled`` says (by default never cancelled).
    ///   - turn: what ``turn`` says (by default none); the test ends it where a loop would.
    ///   - onSucceed: receives the response; called at most once.
    public init(
        isCancelled: @escaping @Sendable () -> Bool = { false },
        turn: EventLoopTurn? = nil,
        onSucceed: @escaping @Sendable (HTTPResponse) -> Void
    ) {
        target = .callback(CallbackOnce(onSucceed), isCancelled: isCancelled)
        loopTurn = turn
    }

    /// Answers the request with `response`. Only the first call counts; later ones are ignored, and so is
    /// one made after the promise was cancelled.
    public func succeed(_ response: HTTPResponse) {
        switch target {
        case .eventLoop(let inbox, let slot, let id):
            guard slot.isAwaiting(id) else { return }  // the loop would drop it
            inbox.deliver(response, to: id, connection: slot.fd)
        case .callback(let callback, let isCancelled):
            guard !isCancelled() else { return }
            callback.call(response)
        }
    }

    /// Whether the server stopped waiting for this answer: the client is gone (it reset the connection, or
    /// both directions are shut; a client that only half-closed still gets its answer, and a TCP peer that
    /// closed its socket shows up as gone only once writing to it fails),
    /// the answer is late (the client got 503 after ``HTTPServerLimits/responseTimeout``), or shutdown closed
    /// the connection. An answer given anyway is dropped, so a responder checks this before recording what
    /// the answer stands for (an audit line saying a key was handed out, say). False while the connection
    /// waits; once the answer was handed over it means nothing more (the connection goes on to other requests).
    /// The client can still leave between this check and the answer's last byte: then the answer is dropped.
    public var isCancelled: Bool {
        switch target {
        case .eventLoop(_, let slot, let id): !slot.isAwaiting(id)
        case .callback(_, let isCancelled): isCancelled()
        }
    }
}

/// What a connection shares with the promises of its requests: its socket (how the loop finds it when an
/// answer arrives) and which promise it still waits for (how a responder sees it has gone).
final class PromiseSlot: Sendable {
    /// The connection's socket. A late answer may find the number reused by a newer connection; promise
    /// numbers are never reused, so that connection drops it.
    let fd: Int32
    /// The promise the connection waits for, or 0.
    private let awaited = Atomic<UInt64>(0)

    init(fd: Int32) { self.fd = fd }

    /// The connection is about to ask the responder with promise `id` (it waits for it if the responder
    /// defers).
    func expect(_ id: UInt64) { awaited.store(id, ordering: .releasing) }

    /// The connection no longer waits for any promise (it closed, or answered 503).
    func cancel() { awaited.store(0, ordering: .releasing) }

    /// Whether promise `id` is the one the connection waits for.
    func isAwaiting(_ id: UInt64) -> Bool { awaited.load(ordering: .acquiring) == id }
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
