import CEventShims
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where other threads hand work to one event loop: a mutex-protected queue of deferred responses plus
/// the loop's `eventfd`, which wakes it (also for shutdown). The `eventfd` is written once per batch of
/// deliveries, not once per delivery, and not at all for a delivery made on the loop's own thread (from
/// ``EventLoopTurn`` work), which the loop takes at the end of its turn anyway.
///
/// Owns the `eventfd`. Once ``close()`` ran (the loop ended), deliveries are dropped and the descriptor is
/// never written again: the write happens under the same lock that closes it, so a late
/// ``HTTPResponsePromise/succeed(_:)`` can't write into a descriptor number the process has reused.
final class EventLoopInbox: Sendable {
    /// A response for the promise numbered `id` of the connection on socket `connection`.
    struct Delivery: Sendable {
        var connection: Int32
        var id: UInt64
        var response: HTTPResponse
    }

    private struct State {
        var deliveries: [Delivery] = []
        var closed = false
        /// The `eventfd` was written and not read since: another write would only wake the loop again.
        var signalled = false
    }

    /// The `eventfd` the loop polls; readable while a wake-up is pending.
    let wakeFD: Int32
    private let state = Mutex(State())
    /// The loop's thread (`pthread_self()`), once ``adoptCurrentThread()`` ran; 0 before.
    private let owner = Atomic<UInt>(0)
    /// Deliveries made on the loop's thread wait (they woke nobody): the loop must not sleep before taking them.
    private let ownDeliveries = Atomic<Bool>(false)

    /// Whether the loop's own thread queued deliveries it has not taken yet.
    var hasOwnDeliveries: Bool { ownDeliveries.load(ordering: .relaxed) }

    /// Creates the `eventfd` (non-blocking, close-on-exec).
    init() throws(HTTPServerError) {
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw .system("eventfd()") }
    }

    /// Uses `wakeFD` (an `eventfd` the inbox now owns): for tests that need to know the descriptor's number.
    init(wakeFD: Int32) {
        self.wakeFD = wakeFD
    }

    deinit { close() }

    /// The calling thread is the loop's: deliveries it makes itself need no wake-up (the loop takes them at the
    /// end of each turn, ``takeDeliveries()``).
    func adoptCurrentThread() { owner.store(UInt(pthread_self()), ordering: .relaxed) }

    /// Queues `response` for the promise `id` of the connection on socket `connection` and wakes the loop
    /// (unless called on the loop's own thread); dropped once the loop has ended.
    func deliver(_ response: HTTPResponse, to id: UInt64, connection: Int32) {
        let fromLoop = owner.load(ordering: .relaxed) == UInt(pthread_self())
        state.withLock { state in
            guard !state.closed else { return }
            state.deliveries.append(Delivery(connection: connection, id: id, response: response))
            if fromLoop { ownDeliveries.store(true, ordering: .relaxed) } else { signal(&state) }
        }
    }

    /// Wakes the loop (to notice shutdown); does nothing once the loop has ended.
    func wake() {
        state.withLock { state in
            guard !state.closed else { return }
            signal(&state)
        }
    }

    /// On the loop's thread: clears the wake-up and takes every queued delivery, oldest first (none
    /// once closed).
    func takeDeliveries() -> [Delivery] {
        state.withLock { state in
            guard !state.closed else { return [] }
            ownDeliveries.store(false, ordering: .relaxed)
            if state.signalled {
                var value: UInt64 = 0
                _ = Glibc.read(wakeFD, &value, 8)
                state.signalled = false
            }
            defer { state.deliveries = [] }
            return state.deliveries
        }
    }

    /// The loop ended: drops queued deliveries, refuses later ones, closes the `eventfd`. Idempotent.
    func close() {
        state.withLock { state in
            guard !state.closed else { return }
            state.closed = true
            state.deliveries = []
            Glibc.close(wakeFD)
        }
    }

    /// Increments the `eventfd` counter unless a wake-up is already pending (caller holds the lock and checked
    /// `closed`).
    private func signal(_ state: inout State) {
        guard !state.signalled else { return }
        var one: UInt64 = 1
        _ = Glibc.write(wakeFD, &one, 8)
        state.signalled = true
    }
}
