import DurationUnits
/// The whole life of one connection, without I/O: handshake, wait for a head, read the body (on a route that
/// takes one), respond (now, or later through a promise), keep alive, finish sending and drain, close.
///
/// ``HTTPConnection`` reports what happened (the handshake finished, bytes arrived, a head was parsed, a body
/// is expected, output
/// was flushed, the peer hung up, time passed, shutdown began) and does what the returned ``Action`` says;
/// it keeps no flags of its own about where the connection is. Time is a monotonic nanosecond count passed
/// in, so tests drive it with plain numbers. An event that cannot happen in a state (a head parsed while
/// handshaking, say) leaves it unchanged.
struct HTTPConnectionStateMachine: Sendable {
    /// A request whose answer a promise will bring: what writing that answer needs to know.
    struct Deferred: Equatable, Sendable {
        /// The promise's number in its loop (unique for the loop's lifetime, never reused).
        var id: UInt64
        /// A `HEAD` request: the answer goes out without its body.
        var isHead: Bool
        /// An HTTP/1.0 request that asked for keep-alive.
        var keepAliveHTTP10: Bool
        /// The connection closes after the answer (`Connection: close`).
        var closeAfter: Bool
    }

    /// Where the connection is.
    enum State: Equatable, Sendable {
        /// TLS handshake in progress; closed if not done by `deadline`.
        case handshaking(deadline: Int64)
        /// Waiting for the first byte of the next request (keep-alive); closed at `deadline`.
        case idle(deadline: Int64)
        /// Part of a request head arrived (or a new connection waits for its first); closed at `deadline`.
        case readingHead(deadline: Int64)
        /// A head announcing a body of `length` bytes that its route takes was parsed; the request is answered
        /// once all of it is here. Closed at `deadline`: the head's own (a slow body is a slowloris too).
        case readingBody(length: Int, deadline: Int64)
        /// Responses are queued or being written; closed at `deadline` if the peer stops reading.
        case responding(closeAfter: Bool, deadline: Int64)
        /// The responder deferred: no further request is parsed and the socket is not read until its promise
        /// is fulfilled (earlier responses may still be flushing). At `deadline` the server answers 503.
        case awaitingResponse(Deferred, deadline: Int64)
        /// The last response is out and the server said it has finished sending (TLS close_notify, FIN). What
        /// the client still sends is read and dropped until its end of stream, so that closing does not reset
        /// the connection under a response the client has not read yet (nginx's lingering close). Closed at
        /// `deadline` at the latest.
        case draining(deadline: Int64)
        /// Done: the socket is closed.
        case closed
    }

    /// What the connection should do next.
    enum Action: Equatable, Sendable {
        /// Nothing to do.
        case none
        /// Call the responder and queue the response; add `Connection: close` when `close`.
        case respond(close: Bool)
        /// Everything is sent: finish sending (``Transport/finishSending()``) and drain.
        case finishSending
        /// Close the connection now.
        case close
        /// The deferred response missed its deadline: queue a 503 answer (headers only for `HEAD`); the
        /// connection closes after it.
        case respondTimedOut(isHead: Bool)
    }

    /// Timeouts in nanoseconds.
    struct Timeouts: Sendable {
        var handshake: Int64
        var header: Int64
        var idle: Int64
        var response: Int64
        /// How long a connection that finished sending waits for the client's end of stream.
        var drain: Int64

        init(handshake: Int64, header: Int64, idle: Int64, response: Int64 = 30_000_000_000, drain: Int64 = 2_000_000_000) {
            self.handshake = handshake
            self.header = header
            self.idle = idle
            self.response = response
            self.drain = drain
        }

        init(_ limits: HTTPServerLimits) {
            self.init(
                handshake: limits.handshakeTimeout.wholeNanoseconds, header: limits.headerTimeout.wholeNanoseconds,
                idle: limits.idleTimeout.wholeNanoseconds, response: limits.responseTimeout.wholeNanoseconds,
                drain: limits.drainTimeout.wholeNanoseconds)
        }

        /// The shortest of them: how often deadlines must be looked at.
        var shortest: Int64 { min(handshake, header, idle, response, drain) }
    }

    private(set) var state: State
    private(set) var isShuttingDown = false
    let timeouts: Timeouts

    /// A freshly accepted connection at time `now`: handshaking (TLS) or waiting for its first head.
    init(tls: Bool, now: Int64, timeouts: Timeouts) {
        self.timeouts = timeouts
        state = tls ? .handshaking(deadline: now &+ timeouts.handshake) : .readingHead(deadline: now &+ timeouts.header)
    }

    // MARK: what the connection may do

    /// Whether the TLS handshake is still in progress.
    var isHandshaking: Bool {
        if case .handshaking = state { return true }
        return false
    }

    /// The deferred request the connection waits for, if any.
    var awaited: Deferred? {
        if case .awaitingResponse(let deferred, _) = state { return deferred }
        return nil
    }

    /// The length of the body being read, if one is.
    var expectedBodyBytes: Int? {
        if case .readingBody(let length, _) = state { return length }
        return nil
    }

    /// Whether a buffered request may be parsed (its body taken) and answered now (not while a deferred answer
    /// is awaited, or after a response that closes).
    var mayParse: Bool {
        switch state {
        case .idle, .readingHead, .readingBody, .responding(closeAfter: false, _): true
        case .handshaking, .responding(closeAfter: true, _), .awaitingResponse, .draining, .closed: false
        }
    }

    // MARK: events

    /// The TLS handshake finished: the first head must arrive within the header timeout.
    mutating func handshakeCompleted(now: Int64) {
        guard case .handshaking = state else { return }
        state = .readingHead(deadline: now &+ timeouts.header)
    }

    /// Request bytes arrived: an idle connection starts its header timeout.
    mutating func bytesReceived(now: Int64) {
        if case .idle = state { state = .readingHead(deadline: now &+ timeouts.header) }
    }

    /// A head announcing a body of `length` bytes that its route takes was parsed: read it before answering,
    /// under the head's deadline. A head that waited in the input behind earlier answers had no deadline of its
    /// own yet: its body gets the header timeout from `now`.
    mutating func bodyExpected(length: Int, now: Int64) {
        switch state {
        case .readingHead(let deadline): state = .readingBody(length: length, deadline: deadline)
        case .idle, .responding(closeAfter: false, _): state = .readingBody(length: length, deadline: now &+ timeouts.header)
        case .handshaking, .readingBody, .responding(closeAfter: true, _), .awaitingResponse, .draining, .closed: break
        }
    }

    /// A complete request was received: its head, and its body if it has one the server reads. `keepAlive` is
    /// false when the client asked to close or sent a body the server won't read. Returns whether to respond
    /// (and whether to close afterwards).
    mutating func requestReceived(keepAlive: Bool, now: Int64) -> Action {
        switch state {
        case .closed, .handshaking:
            return .close
        case .responding(closeAfter: true, _), .awaitingResponse, .draining:
            return .none  // never parsed in these states (see `mayParse`)
        case .responding(closeAfter: false, let deadline):
            let close = !keepAlive || isShuttingDown
            state = .responding(closeAfter: close, deadline: deadline)
            return .respond(close: close)
        case .idle, .readingHead, .readingBody:
            let close = !keepAlive || isShuttingDown
            state = .responding(closeAfter: close, deadline: now &+ timeouts.idle)
            return .respond(close: close)
        }
    }

    /// The responder returned no response for the request just received (`.respond` said whether to close
    /// after it): wait for promise `id` until the response deadline (read and write deadlines pause
    /// meanwhile).
    mutating func responseDeferred(id: UInt64, isHead: Bool, keepAliveHTTP10: Bool, now: Int64) {
        guard case .responding(let close, _) = state else { return }
        let deferred = Deferred(id: id, isHead: isHead, keepAliveHTTP10: keepAliveHTTP10 && !close, closeAfter: close)
        state = .awaitingResponse(deferred, deadline: now &+ timeouts.response)
    }

    /// Promise `id` was fulfilled. Returns what writing the answer needs, or nil (drop the answer) unless the
    /// connection waits for exactly that promise.
    mutating func responseArrived(id: UInt64, now: Int64) -> Deferred? {
        guard case .awaitingResponse(let deferred, _) = state, deferred.id == id else { return nil }
        state = .responding(closeAfter: deferred.closeAfter, deadline: now &+ timeouts.idle)
        return deferred
    }

    /// A request was refused (400/431/505 for its head, 411/413 for its body): the error response goes out, then
    /// the connection closes.
    mutating func requestRejected(now: Int64) {
        switch state {
        case .idle, .readingHead, .readingBody, .responding: state = .responding(closeAfter: true, deadline: now &+ timeouts.idle)
        case .handshaking, .awaitingResponse, .draining, .closed: break
        }
    }

    /// Some output was written: the peer is reading, so the write deadline moves on.
    mutating func wroteBytes(now: Int64) {
        if case .responding(let close, _) = state { state = .responding(closeAfter: close, deadline: now &+ timeouts.idle) }
    }

    /// All queued output was written. After a response that closes (or during shutdown with nothing more
    /// buffered): `.finishSending`. Else the connection waits for the next request (`hasBufferedInput`: part
    /// of it is already here, so the header timeout applies). While awaiting a deferred response nothing
    /// changes.
    mutating func outputFlushed(now: Int64, hasBufferedInput: Bool) -> Action {
        guard case .responding(let close, _) = state else { return state == .closed ? .close : .none }
        if close || isShuttingDown && !hasBufferedInput {
            state = .draining(deadline: now &+ timeouts.drain)
            return .finishSending
        }
        state = hasBufferedInput ? .readingHead(deadline: now &+ timeouts.header) : .idle(deadline: now &+ timeouts.idle)
        return .none
    }

    /// epoll reported that the peer is gone (`EPOLLHUP` or `EPOLLERR`: it reset the connection, or both
    /// directions are shut): nobody is left to read an answer, so the connection closes whatever it was doing.
    ///
    /// A half-close (`EPOLLRDHUP` alone: the client's FIN) is no such event: the client may still read, so the
    /// connection goes on, answers what it received (a deferred answer included) and closes when a read finds
    /// the end of stream (``endOfStream()``).
    mutating func peerGoneReported() -> Action {
        state = .closed
        return .close
    }

    /// A read found the end of the stream (or the connection failed). Output still queued for a response is
    /// written first (a client that half-closed after its request still gets the answer); otherwise close.
    mutating func endOfStream() -> Action {
        switch state {
        case .responding(_, let deadline):
            state = .responding(closeAfter: true, deadline: deadline)
            return .none
        case .handshaking, .idle, .readingHead, .readingBody, .awaitingResponse, .draining, .closed:
            state = .closed
            return .close
        }
    }

    /// Writing failed, or the handshake did: close.
    mutating func connectionLost() { state = .closed }

    /// Checked a few times a second: closes when the current deadline has passed; a deferred response that
    /// is late is answered with 503 (then the connection closes).
    mutating func deadlineCheck(now: Int64) -> Action {
        switch state {
        case .awaitingResponse(let deferred, let d):
            guard now >= d else { return .none }
            state = .responding(closeAfter: true, deadline: now &+ timeouts.idle)
            return .respondTimedOut(isHead: deferred.isHead)
        case .handshaking(let d), .idle(let d), .readingHead(let d), .readingBody(_, let d), .responding(_, let d),
            .draining(let d):
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
    /// (head or body partly received, response awaited or being written) finishes with `Connection: close`; a
    /// draining connection drains on.
    mutating func shutdownRequested() -> Action {
        isShuttingDown = true
        switch state {
        case .handshaking, .idle, .closed:
            state = .closed
            return .close
        case .readingHead, .readingBody, .draining:
            return .none
        case .responding(_, let deadline):
            state = .responding(closeAfter: true, deadline: deadline)
            return .none
        case .awaitingResponse(var deferred, let deadline):
            deferred.closeAfter = true
            deferred.keepAliveHTTP10 = false
            state = .awaitingResponse(deferred, deadline: deadline)
            return .none
        }
    }
}
