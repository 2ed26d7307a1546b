import Logging

/// One client connection: its buffers, its ``Transport``, and the ``HTTPConnectionStateMachine`` that says
/// where it is. Driven by one loop's thread (or a test), through a ``HTTPConnectionContext``.
///
/// Registered edge-triggered for both directions once, so ``drive(_:now:)`` runs until the transport says
/// it would block, or the connection's share of this wake-up (read and write budgets) is used up.
///
/// What it holds is bounded: input under ``HTTPServerLimits/maxHeaderBytes`` + 1 bytes (reads stop there,
/// and parsing refuses a longer head), or while it reads a body, the body (reads stop at its end; its length is
/// at most ``HTTPServerLimits/maxBodyBytes``, else 413 before any of it is read), so never more than
/// `maxHeaderBytes + 1 + maxBodyBytes`; unsent output under ``HTTPServerLimits/maxUnsentOutputBytes`` plus one
/// response (no request is parsed, and the socket is not read, while output waits at the limit).
final class HTTPConnection {
    /// What `drive` left the connection waiting for.
    enum DriveResult: Equatable {
        /// The transport would block: wait for epoll.
        case wait
        /// Close the connection.
        case close
        /// The read or write budget ran out with work left: drive again after the loop's other ready
        /// connections (edge-triggered epoll won't report it again).
        case yield
    }

    let transport: any Transport
    var fd: Int32 { transport.fd }
    private(set) var machine: HTTPConnectionStateMachine
    let remoteAddress: String
    /// Shared with the promises of this connection's requests.
    let slot: PromiseSlot
    /// The client certificate verified at the handshake; checked again before each request
    /// (``Transport/verifiedPeerStillTrusted(current:)``) and dropped for good once it no longer holds.
    private var clientPeer: VerifiedPeer?

    /// Received bytes; `inputIndex` is where the next request (or the body being read) starts.
    private var input: [UInt8] = []
    private var inputIndex = 0
    /// The request whose body is being read: set exactly while the machine is in `.readingBody`, which holds
    /// the body's length and deadline (the head itself, with its headers, is data rather than state).
    private var requestAwaitingBody: AwaitingBody?
    /// How far the parser got in the head starting at `inputIndex`.
    private var scan = HTTPRequestParser.HeadScan()
    /// Bytes to send; `outputIndex` is how much already went out.
    private var output: [UInt8] = []
    private var outputIndex = 0

    /// A connection on `transport` (handshaking first when `tls`), accepted at `now`.
    init(transport: any Transport, tls: Bool, remoteAddress: String, now: Int64, timeouts: HTTPConnectionStateMachine.Timeouts) {
        self.transport = transport
        self.remoteAddress = remoteAddress
        self.slot = PromiseSlot(fd: transport.fd)
        self.machine = HTTPConnectionStateMachine(tls: tls, now: now, timeouts: timeouts)
    }

    /// Output queued and not yet taken by the transport.
    var unsentBytes: Int { output.count - outputIndex }
    /// Bytes the output array holds (sent ones included until the next response is queued).
    var heldOutputBytes: Int { output.count }
    /// Received bytes not yet consumed by a request.
    var bufferedInputBytes: Int { input.count - inputIndex }
    /// Bytes the input array holds room for (consumed ones included until the next read).
    var heldInputBytes: Int { input.capacity }

    /// A request whose head is parsed and whose body is being read.
    private struct AwaitingBody {
        var head: HTTPRequestHead
        /// Whether the connection stays open after the answer (the client's wish, and its identity still trusted).
        var keepAlive: Bool
    }

    /// Does the work the transport allows now, up to the context's read and write budgets.
    func drive(_ context: HTTPConnectionContext, now: Int64) -> DriveResult {
        if machine.isHandshaking {
            switch transport.handshake() {
            case .progress:
                machine.handshakeCompleted(now: now)
                clientPeer = transport.verifiedPeer
            case .wantRead, .wantWrite:
                return .wait
            case .closed:
                context.logger.debug(
                    "TLS handshake failed",
                    metadata: ["remote": "\(remoteAddress)", "reason": "\(transport.failureReason ?? "end of stream")"])
                machine.connectionLost()
                return .close
            }
        }
        var reads = 0
        var written = 0
        while true {
            switch machine.state {
            case .closed: return .close
            case .draining: return drain(context, reads: &reads)
            default: break
            }
            if machine.mayParse && unsentBytes < context.limits.maxUnsentOutputBytes {
                parseBufferedRequests(context, now: now)
                if machine.state == .closed { return .close }
            }
            if unsentBytes > 0 {
                if written >= context.writeBudget { return .yield }
                let wrote = written
                let result = flush(budget: context.writeBudget - written, written: &written)
                if written > wrote { machine.wroteBytes(now: now) }
                switch result {
                case .progress: break
                case .wantRead, .wantWrite: return .wait  // and retry this write first (TLS requires it)
                case .closed:
                    machine.connectionLost()
                    return .close
                }
                if unsentBytes == 0 {
                    releaseOutput(keepingUpTo: 2 * context.limits.maxUnsentOutputBytes)
                    switch machine.outputFlushed(now: now, hasBufferedInput: bufferedInputBytes > 0) {
                    case .finishSending: transport.finishSending()
                    case .close: return .close
                    default: break
                    }
                }
                continue
            }
            guard machine.mayParse else { return .wait }  // awaiting a deferred answer
            if reads == context.readBudget { return .yield }
            reads += 1
            switch receive(context) {
            case .progress: machine.bytesReceived(now: now)
            case .wantRead, .wantWrite: return .wait
            case .closed: if machine.endOfStream() == .close { return .close }
            }
        }
    }

    /// Parses complete requests in the input (heads, and bodies on routes that take one) and answers each into
    /// the output, until the input holds no complete request, output reached its limit, a response closes the
    /// connection, or the responder deferred.
    private func parseBufferedRequests(_ context: HTTPConnectionContext, now: Int64) {
        let limits = context.limits
        while inputIndex < input.count && unsentBytes < limits.maxUnsentOutputBytes && machine.mayParse {
            if let length = machine.expectedBodyBytes {
                guard bufferedInputBytes >= length else { return }
                guard let awaiting = requestAwaitingBody else {
                    preconditionFailure("reading a body without the head it belongs to")
                }
                requestAwaitingBody = nil
                let body = takeBody(length)
                guard answer(awaiting.head, body: body, keepAlive: awaiting.keepAlive, context: context, now: now) else {
                    return
                }
                continue
            }
            let result = input.withUnsafeBufferPointer {
                HTTPRequestParser.parse(
                    UnsafeBufferPointer(rebasing: $0[inputIndex...]), maxHeaderBytes: limits.maxHeaderBytes,
                    maxHeaderLines: limits.maxHeaderLines, scan: &scan)
            }
            switch result {
            case .incomplete:
                return
            case .invalid(let error):
                refuse(error, context: context, now: now)
                return
            case .complete(let head, let length):
                inputIndex += length
                let trustEnded =
                    clientPeer != nil && !transport.verifiedPeerStillTrusted(current: context.currentTLSContext())
                if trustEnded {
                    // The client CA or CRL changed since the handshake, or the certificate expired: this request
                    // is anonymous (it needs a token), and the client gets a new handshake on its next connection.
                    clientPeer = nil
                    context.logger.debug(
                        "client certificate no longer trusted on this connection", metadata: ["remote": "\(remoteAddress)"])
                }
                let keepAlive = head.keepAlive && !trustEnded
                let bodyLimit =
                    head.announcesBody
                    ? min(context.responder.maxBodyBytes(method: head.method, path: head.path), limits.maxBodyBytes) : 0
                switch head.bodyHandling(accepting: bodyLimit) {
                case .none:
                    guard answer(head, body: [], keepAlive: keepAlive, context: context, now: now) else { return }
                case .unread:
                    // A body the route won't take: answer, then close instead of parsing it as a request.
                    _ = answer(head, body: [], keepAlive: false, context: context, now: now)
                    return
                case .refuse(let error):
                    refuse(error, context: context, now: now)
                    return
                case .read(let length):
                    requestAwaitingBody = AwaitingBody(head: head, keepAlive: keepAlive)
                    machine.bodyExpected(length: length, now: now)
                    // A client that asked to wait for 100 Continue sends nothing more until it gets it (or its own
                    // timeout passes: a second for curl); one that already sent some of the body is not waiting.
                    if head.expectsContinue && bufferedInputBytes == 0 {
                        queueInterim(HTTPResponseWriter.continueResponse)
                    }
                }
            }
        }
    }

    /// Asks the responder for the answer to `head` (with `body`) and queues it. Returns whether parsing goes on:
    /// false when the answer closes the connection or comes later through a promise.
    private func answer(
        _ head: HTTPRequestHead, body: [UInt8], keepAlive: Bool, context: HTTPConnectionContext, now: Int64
    ) -> Bool {
        guard case .respond(let close) = machine.requestReceived(keepAlive: keepAlive, now: now) else {
            discardInput()
            return false
        }
        let keepAliveHTTP10 = !close && head.version == .http1_0
        let request = HTTPRequest(
            method: head.method, path: head.path, query: head.query, version: head.version,
            headers: head.headers, body: body, remoteAddress: remoteAddress,
            clientCertificateSubjectCN: clientPeer?.commonName,
            clientCertificatePolicies: clientPeer?.policyIdentifiers ?? [])
        let (promise, id) = context.makePromise(for: slot)
        slot.expect(id)
        guard let response = context.responder.respond(to: request, promise: promise) else {
            if close { discardInput() }
            machine.responseDeferred(id: id, isHead: head.isHead, keepAliveHTTP10: keepAliveHTTP10, now: now)
            return false
        }
        queue(response, isHead: head.isHead, close: close, keepAliveHTTP10: keepAliveHTTP10, context: context)
        if close {
            discardInput()
            return false
        }
        return true
    }

    /// Refuses the request at the start of the input with a short `text/plain` answer; the connection closes
    /// after it, and nothing more of the input is looked at (a refused body is never read).
    private func refuse(_ error: HTTPRequestError, context: HTTPConnectionContext, now: Int64) {
        machine.requestRejected(now: now)
        context.logger.debug(
            "refused request",
            metadata: ["remote": "\(remoteAddress)", "status": "\(error.status)", "reason": "\(error.reason)"])
        queue(HTTPResponseWriter.errorResponse(error), isHead: false, close: true, context: context)
        discardInput()
    }

    /// Takes the `length` bytes at the start of the input as a body. What follows (pipelined bytes that came in
    /// the same read as the head) moves to an array of its own size, so that while a responder holds the body
    /// (deferring its answer) the connection holds the body and at most a head's worth of input, not also the
    /// array the body was read into.
    private func takeBody(_ length: Int) -> [UInt8] {
        let body = Array(input[inputIndex..<inputIndex + length])
        inputIndex += length
        input = inputIndex == input.count ? [] : Array(input[inputIndex...])
        inputIndex = 0
        return body
    }

    /// The answer to promise `id` arrived: queues it after any output still being written, unless the
    /// connection no longer waits for it (returns false: dropped). The next `drive` writes it and goes on with
    /// buffered requests.
    @discardableResult
    func deliver(_ response: HTTPResponse, promise id: UInt64, context: HTTPConnectionContext, now: Int64) -> Bool {
        guard let deferred = machine.responseArrived(id: id, now: now) else { return false }
        queue(
            response, isHead: deferred.isHead, close: deferred.closeAfter, keepAliveHTTP10: deferred.keepAliveHTTP10,
            context: context)
        return true
    }

    /// Time passed: closes at the current deadline (returns `.close`); a deferred answer that is late
    /// becomes a 503 with `Connection: close` and the promise is cancelled (returns `.respondTimedOut`, then
    /// drive the connection to write it).
    func checkDeadline(_ context: HTTPConnectionContext, now: Int64) -> HTTPConnectionStateMachine.Action {
        let action = machine.deadlineCheck(now: now)
        if case .respondTimedOut(let isHead) = action {
            slot.cancel()
            discardInput()
            queue(Self.timedOutResponse, isHead: isHead, close: true, context: context)
        }
        return action
    }

    /// epoll reported a hang-up: with `peerGone` (`EPOLLHUP`/`EPOLLERR`: reset, or both directions shut)
    /// returns `.close` and cancels the awaited promise, so the responder is not asked again and sees
    /// ``HTTPResponsePromise/isCancelled``. A half-close (`EPOLLRDHUP` alone) returns `.none`: drive on, the
    /// client still gets the answers to what it sent, then the connection closes at its end of stream.
    func hangUpReported(peerGone: Bool) -> HTTPConnectionStateMachine.Action {
        guard peerGone else { return .none }
        slot.cancel()
        return machine.peerGoneReported()
    }

    /// The server began shutting down: returns `.close` for a connection with nothing in flight.
    func shutdownRequested() -> HTTPConnectionStateMachine.Action { machine.shutdownRequested() }

    /// What a client gets when the responder did not answer within ``HTTPServerLimits/responseTimeout``.
    static let timedOutResponse = HTTPResponse(
        status: 503, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
        body: Array("the server could not answer in time; try again later\n".utf8))

    /// Appends an interim (1xx) answer, such as `100 Continue`, to the output after what is still unsent.
    private func queueInterim(_ bytes: [UInt8]) {
        dropSentOutput()
        output.append(contentsOf: bytes)
    }

    /// Drops what already went out from the front of the output.
    private func dropSentOutput() {
        if outputIndex > 0 {
            output.removeSubrange(0..<outputIndex)
            outputIndex = 0
        }
    }

    /// Appends `response` to the output after what is still unsent, first dropping what already went out: a
    /// client that takes some bytes now and then, never all, would otherwise keep every byte it ever took in
    /// this array. So the output holds at most ``HTTPServerLimits/maxUnsentOutputBytes`` plus one response.
    private func queue(
        _ response: HTTPResponse, isHead: Bool, close: Bool, keepAliveHTTP10: Bool = false,
        context: HTTPConnectionContext
    ) {
        dropSentOutput()
        HTTPResponseWriter.append(
            response, isHead: isHead, close: close, keepAliveHTTP10: keepAliveHTTP10, date: context.date.current(),
            to: &output)
    }

    /// Writes queued output until done, the transport would block, or `budget` bytes went out (adding them
    /// to `written`). Returns the last write's result: `.progress` when output or budget ran out.
    private func flush(budget: Int, written: inout Int) -> TransportResult {
        var left = budget
        while outputIndex < output.count && left > 0 {
            let end = min(output.count, outputIndex + left)
            let result = output.withUnsafeBytes { transport.write(UnsafeRawBufferPointer(rebasing: $0[outputIndex..<end])) }
            guard case .progress(let count) = result else { return result }
            outputIndex += count
            written += count
            left -= count
        }
        return .progress(0)
    }

    /// Empties the output once all of it went out. Keeps its capacity (up to `limit` bytes) only while more
    /// requests are buffered (pipelining): an idle keep-alive connection then holds no response-sized array.
    private func releaseOutput(keepingUpTo limit: Int) {
        if output.capacity > limit || inputIndex >= input.count {
            output = []
        } else {
            output.removeAll(keepingCapacity: true)
        }
        outputIndex = 0
    }

    /// Reads what is there into `input` (one read; `drive` calls again until it would block), never more than
    /// it takes to hold a head one byte over the limit, or, while a body is read, the rest of that body.
    private func receive(_ context: HTTPConnectionContext) -> TransportResult {
        if inputIndex > 0 {
            if inputIndex == input.count { input.removeAll(keepingCapacity: input.capacity <= 64 * 1024) }
            else { input.removeSubrange(0..<inputIndex) }
            inputIndex = 0
        }
        let most = machine.expectedBodyBytes ?? context.limits.maxHeaderBytes + 1
        let room = max(1, min(context.scratch.count, most - input.count))
        let buffer = UnsafeMutableRawBufferPointer(rebasing: context.scratch[0..<room])
        let result = transport.read(into: buffer)
        switch result {
        case .progress(let count): input.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        case .wantRead, .wantWrite: releaseInputIfEmpty()
        case .closed: break
        }
        return result
    }

    /// Drops buffered input and the parse state (after a response that closes, a refusal or a 503).
    private func discardInput() {
        inputIndex = input.count
        scan = HTTPRequestParser.HeadScan()
        requestAwaitingBody = nil
    }

    /// Frees the input buffer when everything in it was handled and the socket has no more: a keep-alive
    /// connection waiting for its next request then holds no buffer (10,000 idle connections add up; the next
    /// request allocates one again, a malloc against the thousands of instructions TLS spends on it).
    private func releaseInputIfEmpty() {
        if input.isEmpty && input.capacity > 0 { input = [] }
    }

    /// Draining: reads and drops what the client still sends until its end of stream (then `.close`).
    private func drain(_ context: HTTPConnectionContext, reads: inout Int) -> DriveResult {
        input = []
        inputIndex = 0
        while true {
            if reads == context.readBudget { return .yield }
            reads += 1
            switch transport.discard(into: context.scratch) {
            case .progress: continue
            case .wantRead, .wantWrite: return .wait
            case .closed:
                machine.connectionLost()
                return .close
            }
        }
    }

    /// Closes the transport and cancels any awaited promise. Idempotent.
    func close() {
        slot.cancel()
        machine.connectionLost()
        transport.close()
    }
}
