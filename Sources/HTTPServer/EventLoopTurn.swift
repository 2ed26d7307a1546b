import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The end of one event loop's turn: a place for work a responder wants done once per turn rather than once per
/// request, on the loop's own thread.
///
/// A turn is one pass of the loop: it waits for events, drives every ready connection (each answers the requests
/// it has read), and then runs what was put off with ``atEnd(_:)``, before it waits again. A responder that must
/// do something slow-ish before each answer — write an audit line, say — can collect those of a whole turn and do
/// them together (one `write(2)` for all the turn's lines, as nginx's buffered `access_log` does), then answer
/// each request through its promise: the answers are delivered in the same turn, with no other thread involved
/// and no wake-up of the loop.
///
/// Reached through ``HTTPResponsePromise/turn`` from ``HTTPResponder/respond(to:promise:)``. Every method must be
/// called on that loop's thread (during `respond`, or from a task it put off): a turn is not locked, which is
/// what makes it cheap. From any other thread, use the promise alone.
public final class EventLoopTurn: @unchecked Sendable {
    private var tasks: [() -> Void] = []
    private var values: [ObjectIdentifier: AnyObject] = [:]
    /// The loop's thread (`pthread_self()`) once ``adoptCurrentThread()`` ran; 0: any thread (a test's turn).
    private let owner = Atomic<UInt>(0)

    /// A turn for a test to end by hand (a loop makes its own).
    public init() {}

    /// The calling thread is the loop's: ``HTTPResponsePromise/turn`` is nil on every other thread, so work put
    /// off from another thread (a completion that captured the promise) cannot race the loop.
    func adoptCurrentThread() { owner.store(UInt(pthread_self()), ordering: .relaxed) }

    /// Whether the calling thread may use this turn.
    var isUsableHere: Bool {
        let owner = owner.load(ordering: .relaxed)
        return owner == 0 || owner == UInt(pthread_self())
    }

    /// Puts `task` off to the end of this turn, after every ready connection was driven. Tasks run in the order
    /// they were put off; one put off by a task runs at the end of the next turn, which then comes at once.
    public func atEnd(_ task: @escaping () -> Void) { tasks.append(task) }

    /// The value this loop keeps for `key`, made by `make` the first time: per-loop state (a batch to fill
    /// during the turn, say) that needs no lock, since only this loop's thread touches it. Values are kept for
    /// the loop's life, one per key: key by an object the value keeps alive, so no other object can take its
    /// address and be handed this value.
    public func value<Value: AnyObject>(for key: ObjectIdentifier, _ make: () -> Value) -> Value {
        if let value = values[key] as? Value { return value }
        let value = make()
        values[key] = value
        return value
    }

    /// Whether tasks wait for the end of the turn (the loop does not sleep while they do).
    public var hasTasks: Bool { !tasks.isEmpty }

    /// Ends the turn: runs the tasks put off so far, oldest first. The loop calls this once per turn; a test
    /// driving connections without a loop calls it where a loop would.
    public func end() {
        guard !tasks.isEmpty else { return }
        let due = tasks
        tasks.removeAll(keepingCapacity: true)
        for task in due { task() }
    }
}
