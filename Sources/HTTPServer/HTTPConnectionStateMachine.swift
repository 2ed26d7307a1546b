/// The lifecycle of one connection, without I/O: handshake, wait for a head, respond (now, or later
/// through a promise), keep alive or close.
///
/// The event loop reports what happened (bytes arrived, a head was parsed, output was flushed, time passed,
/// shutdown began) and does what the returned ``Action`` says. Time is a monotonic nanosecond count passed
/// in, so tests drive it with plain numbers.
struct HTTPConnectionStateMachine: Sendable {
    /// Where the connection is.
    enum State: Equatable, Sendable {
        /// TLS handshake in progress; closed if not done by `deadline`.
        case handshaking(deadline: Int64)
        /// Waiting for the first byte of the next request (keep-alive); closed at `deadline`.
        case idle(deadline: Int64)
        /// Part of a request head arrived (or a new connection waits for its first); closed at `deadline`.
        case readingHead(deadline: Int64)
        /// Responses are queued or being written; closed at `deadline` if the peer stops reading.
        case responding(closeAfter: Bool, deadline: Int64)
        /// The responder deferred: no further request is parsed until its promise is fulfilled (earlier
        /// responses may still be flushing). At `deadline` the server answers 503 and closes.
        case awaitingResponse(closeAfter: Bool, deadline: Int64)
        /// Done: the loop closes the socket.
        case closed
    }

    /// What the loop should do next.
    enum Action: Equatable, Sendable {
        /// Nothing to do.
        case none
        /// Call the responder and queue the response; add `Connection: close` when `close`.
        case respond(close: Bool)
        /// Close the connection now.
        case close
        /// The deferred response missed its deadline: queue a 503 answer; the connection closes after it.
        case respondTimedOut
    }

    /// Timeouts in nanoseconds.
    struct Timeouts: Sendable {
        var handshake: Int64
        var header: Int64
        var idle: Int64
        var response: Int64

        init(handshake: Int64, header: Int64, idle: Int64, response: Int64 = 30_000_000_000) {
            self.handshake = handshake
            self.header = header
            self.idle = idle
            self.response = response
        }

        init(_ limits: HTTPServerLimits) {
            self.init(
                handshake: limits.handshakeTimeout.nanoseconds, header: limits.headerTimeout.nanoseconds,
                idle: limits.idleTimeout.nanoseconds, response: limits.responseTimeout.nanoseconds)
        }
    }

    private(set) var state: State
    private(set) var isShuttingDown = false
    let timeouts: Timeouts

    /// A freshly accepted connection at time `now`: handshaking (TLS) or waiting for its first head.
    init(tls: Bool, now: Int64, timeouts: Timeouts) {
        self.timeouts = timeouts
        state = tls ? .handshaking(deadline: now &+ timeouts.handshake) : .readingHead(deadline: now &+ timeouts.header)
    }

    /// The TLS handshake finished: the first head must arrive within the header timeout.
    mutating func handshakeCompleted(now: Int64) {
        guard case .handshaking = state else { return }
        state = .readingHead(deadline: now &+ timeouts.header)
    }

    /// Request bytes arrived: an idle connection starts its header timeout.
    mutating func bytesReceived(now: Int64) {
        if case .idle = state { state = .readingHead(deadline: now &+ timeouts.header) }
    }

    /// A complete head was parsed. `keepAlive` is false when the client asked to close or sent a body the
    /// server won't read. Returns whether to respond (and whether to close afterwards).
    mutating func requestReceived(keepAlive: Bool, now: Int64) -> Action {
        switch state {
        case .closed, .handshaking:
            return .close
        case .responding(closeAfter: true, _):
            return .none  // a request pipelined after one that closes: never answered
        case .awaitingResponse:
            return .none  // not parsed while awaiting; the loop never reports one
        case .responding(closeAfter: false, let deadline):
            let close = !keepAlive || isShuttingDown
            state = .responding(closeAfter: close, deadline: deadline)
            return .respond(close: close)
        case .idle, .readingHead:
            let close = !keepAlive || isShuttingDown
            state = .responding(closeAfter: close, deadline: now &+ timeouts.idle)
            return .respond(close: close)
        }
    }

    /// The responder returned no response for the request just received: wait for its promise until the
    /// response deadline (read and write deadlines pause meanwhile).
    mutating func responseDeferred(now: Int64) {
        guard case .responding(let close, _) = state else { return }
        state = .awaitingResponse(closeAfter: close, deadline: now &+ timeouts.response)
    }

    /// The promise was fulfilled: queue the response (with `Connection: close` when the action says so).
    /// Returns `.none` (drop the response) unless the connection was awaiting one.
    mutating func responseArrived(now: Int64) -> Action {
        guard case .awaitingResponse(let close, _) = state else { return .none }
        state = .responding(closeAfter: close, deadline: now &+ timeouts.idle)
        return .respond(close: close)
    }

    /// Whether the connection waits for a deferred response.
    var isAwaitingResponse: Bool {
        if case .awaitingResponse = state { return true }
        return false
    }

    /// A head was refused (400/431/505): the error response goes out, then the connection closes.
    mutating func requestRejected(now: Int64) {
        guard state != .closed else { return }
        state = .responding(closeAfter: true, deadline: now &+ timeouts.idle)
    }

    /// Some output was written: the peer is reading, so the write deadline moves on.
    mutating func wroteBytes(now: Int64) {
        if case .responding(let close, _) = state { state = .responding(closeAfter: close, deadline: now &+ timeouts.idle) }
    }

    /// All queued output was written. Closes if a response said so; else waits for the next request
    /// (`hasBufferedInput`: part of it is already here, so the header timeout applies). While awaiting a
    /// deferred response nothing changes.
    mutating func outputFlushed(now: Int64, hasBufferedInput: Bool) -> Action {
        guard case .responding(let close, _) = state else { return state == .closed ? .close : .none }
        if close || isShuttingDown && !hasBufferedInput {
            state = .closed
            return .close
        }
        state = hasBufferedInput ? .readingHead(deadline: now &+ timeouts.header) : .idle(deadline: now &+ timeouts.idle)
        return .none
    }

    /// The timer sweep: closes when the current deadline has passed; a deferred response that is late is
    /// answered with 503 (then the connection closes).
    mutating func deadlineCheck(now: Int64) -> Action {
        switch state {
        case .awaitingResponse(_, let d):
            guard now >= d else { return .none }
            state = .responding(closeAfter: true, deadline: now &+ timeouts.idle)
            return .respondTimedOut
        case .handshaking(let d), .idle(let d), .readingHead(let d), .responding(_, let d):
            if now >= d {
                state = .closed
                return .close
            }
            return .none
        case .closed:
            return .close
        }
    }

    /// The server is shutting down: idle and handshaking connections close now; a request in flight
    /// (head partly received, response awaited or being written) finishes with `Connection: close`.
    mutating func shutdownRequested() -> Action {
        isShuttingDown = true
        switch state {
        case .handshaking, .idle, .closed:
            state = .closed
            return .close
        case .readingHead:
            return .none
        case .responding(_, let deadline):
            state = .responding(closeAfter: true, deadline: deadline)
            return .none
        case .awaitingResponse(_, let deadline):
            state = .awaitingResponse(closeAfter: true, deadline: deadline)
            return .none
        }
    }

    /// The peer closed or the socket failed.
    mutating func connectionLost() { state = .closed }
}
