import Logging

/// What a connection needs from the loop that drives it, and nothing more: limits, the responder, the
/// `Date` header, scratch space for reads, and promises. One per loop, used only on its thread; a test makes
/// its own and drives a connection without a loop.
final class HTTPConnectionContext {
    let limits: HTTPServerLimits
    let timeouts: HTTPConnectionStateMachine.Timeouts
    let responder: any HTTPResponder
    let logger: Logger
    /// Where deferred answers arrive from other threads (and from the loop's own turn-end work).
    let inbox: EventLoopInbox
    /// The loop's turn: responders put work off to its end (``EventLoopTurn``).
    let turn = EventLoopTurn()
    /// The server's TLS context now (`reloadTLS` replaces it): a client identity from a handshake under
    /// another client CA or CRL no longer counts (``HTTPConnection``, before each request).
    let currentTLSContext: @Sendable () -> TLSContext?
    /// The `Date` header value, cached per second.
    var date = HTTPDate()
    /// Scratch space every read of the loop goes through before landing in a connection's buffer.
    let scratch: UnsafeMutableRawBufferPointer
    /// Fairness: reads one connection makes per wake-up before the loop's other ready connections get theirs.
    let readBudget: Int
    /// Fairness: bytes one connection writes per wake-up before the loop's other ready connections get theirs.
    let writeBudget: Int
    /// The number the next promise gets; never reused, so a late answer can't reach a newer connection.
    private var nextPromiseID: UInt64 = 0

    /// The reads per wake-up a connection gets by default: 16 (of up to `scratch` bytes each).
    static let defaultReadBudget = 16
    /// The bytes a connection writes per wake-up by default: 256 KiB, four times what loopback or a LAN takes
    /// in one `send` anyway, so a fast client is not slowed, and a 1 MiB answer does not hold up the loop.
    static let defaultWriteBudget = 256 * 1024
    /// The scratch buffer's size: 32 KiB, two TLS records.
    static let defaultScratchBytes = 32 * 1024

    init(
        limits: HTTPServerLimits, responder: any HTTPResponder, logger: Logger, inbox: EventLoopInbox,
        currentTLSContext: @escaping @Sendable () -> TLSContext?, scratchBytes: Int = defaultScratchBytes,
        readBudget: Int = defaultReadBudget, writeBudget: Int = defaultWriteBudget
    ) {
        self.limits = limits
        self.timeouts = HTTPConnectionStateMachine.Timeouts(limits)
        self.responder = responder
        self.logger = logger
        self.inbox = inbox
        self.currentTLSContext = currentTLSContext
        self.scratch = .allocate(byteCount: scratchBytes, alignment: 16)
        self.readBudget = readBudget
        self.writeBudget = writeBudget
    }

    deinit { scratch.deallocate() }

    /// A promise for the request a connection (sharing `slot`) is about to answer, and its number.
    func makePromise(for slot: PromiseSlot) -> (promise: HTTPResponsePromise, id: UInt64) {
        nextPromiseID &+= 1
        return (HTTPResponsePromise(inbox: inbox, slot: slot, id: nextPromiseID, turn: turn), nextPromiseID)
    }
}
