import CLibSSL
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One client connection's buffers and I/O, driven by its event loop (never touched by another thread).
///
/// Registered edge-triggered for both directions once, so `drive` always runs until the socket (or TLS)
/// says it would block: reads are drained to `WANT_READ`, writes go until done or `WANT_WRITE`.
/// While a deferred response is awaited nothing more is read or parsed (bytes already received stay
/// buffered); ``deliver(_:loop:now:)`` queues the answer and the next `drive` carries on.
final class HTTPConnection {
    /// The request whose response a promise will bring: what writing that response needs to know.
    struct PendingPromise: Equatable {
        /// The promise's number in its loop (unique for the loop's lifetime, never reused).
        var id: UInt64
        var isHead: Bool
        /// An HTTP/1.0 request that asked for keep-alive.
        var keepAliveHTTP10: Bool
    }

    enum IOResult { case progress, wouldBlock, closed }

    /// What `drive` left the connection waiting for.
    enum DriveResult: Equatable {
        /// The socket would block: wait for epoll.
        case wait
        /// Close the connection.
        case close
        /// The read budget ran out with data possibly still readable: drive again on the next loop turn
        /// (edge-triggered epoll won't report it again), so one busy client can't starve the others.
        case yield
    }

    /// Reads per `drive` call before yielding to the loop's other connections.
    static let readBudget = 16

    let fd: Int32
    private(set) var ssl: OpaquePointer?
    var machine: HTTPConnectionStateMachine
    let remoteAddress: String
    private var handshakeDone: Bool
    private var clientCommonName: String?

    /// Received bytes; `inputIndex` is where the next request starts.
    private var input: [UInt8] = []
    private var inputIndex = 0
    /// How far (relative to `inputIndex`) the parser already looked for the end of the head.
    private var scanFrom = 0
    /// Bytes to send; `outputIndex` is how much already went out.
    private var output: [UInt8] = []
    private var outputIndex = 0
    /// After `SSL_write` wanted a retry: the length it must be retried with (OpenSSL requires the same).
    private var pendingTLSWrite = 0
    /// The deferred response this connection waits for, if any.
    private(set) var pendingPromise: PendingPromise?
    /// epoll reported that the peer closed (or half-closed) or the socket failed.
    var peerHungUp = false

    init(fd: Int32, ssl: OpaquePointer?, remoteAddress: String, now: Int64, timeouts: HTTPConnectionStateMachine.Timeouts) {
        self.fd = fd
        self.ssl = ssl
        self.remoteAddress = remoteAddress
        self.handshakeDone = ssl == nil
        self.machine = HTTPConnectionStateMachine(tls: ssl != nil, now: now, timeouts: timeouts)
    }

    /// Does the work the socket allows now, up to the read budget.
    func drive(_ loop: EventLoop, now: Int64) -> DriveResult {
        if !handshakeDone {
            guard let ssl else { return .close }
            TLSContext.clearErrorQueue()
            let result = SSL_do_handshake(ssl)
            if result != 1 {
                let code = SSL_get_error(ssl, result)
                if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return .wait }
                loop.logger.debug(
                    "TLS handshake failed",
                    metadata: ["remote": "\(remoteAddress)", "reason": "\(TLSContext.openSSLErrors())"])
                ERR_clear_error()
                return .close
            }
            handshakeDone = true
            machine.handshakeCompleted(now: now)
            clientCommonName = TLSContext.verifiedPeerCommonName(ssl)
        }
        var reads = 0
        while true {
            if pendingTLSWrite == 0 && outputIndex == output.count && pendingPromise == nil {
                processBufferedRequests(loop, now: now)
            }
            if outputIndex < output.count {
                switch flush(now: now) {
                case .wouldBlock: return .wait
                case .closed: return .close
                case .progress: break
                }
                // Keep the buffer's capacity only while pipelined requests wait: an idle keep-alive connection
                // then holds no response-sized array (10,000 idle connections × a 3 KB tarball answer add up).
                if output.capacity > 256 * 1024 || inputIndex >= input.count {
                    output = []
                } else {
                    output.removeAll(keepingCapacity: true)
                }
                outputIndex = 0
                if machine.outputFlushed(now: now, hasBufferedInput: inputIndex < input.count) == .close {
                    return .close
                }
                continue
            }
            if machine.state == .closed { return .close }
            if pendingPromise != nil { return .wait }  // read on once the deferred answer is out
            if reads == Self.readBudget { return .yield }
            reads += 1
            switch receive(loop) {
            case .progress: machine.bytesReceived(now: now)
            case .wouldBlock: return .wait
            case .closed: return .close
            }
        }
    }

    /// Parses every complete head in the input, answers each, and queues the responses in one buffer.
    private func processBufferedRequests(_ loop: EventLoop, now: Int64) {
        let maxHeaderBytes = loop.server.configuration.limits.maxHeaderBytes
        while inputIndex < input.count && output.count < 1 << 20 {
            let result = input.withUnsafeBufferPointer {
                HTTPRequestParser.parse(
                    UnsafeBufferPointer(rebasing: $0[inputIndex...]), maxHeaderBytes: maxHeaderBytes, scanFrom: scanFrom)
            }
            switch result {
            case .incomplete(let scanned):
                scanFrom = scanned
                return
            case .invalid(let error):
                machine.requestRejected(now: now)
                loop.logger.debug(
                    "refused request",
                    metadata: ["remote": "\(remoteAddress)", "status": "\(error.status)", "reason": "\(error.reason)"])
                HTTPResponseWriter.append(
                    HTTPResponseWriter.errorResponse(error), isHead: false, close: true, date: loop.date.current(),
                    to: &output)
                inputIndex = input.count
                scanFrom = 0
                return
            case .complete(let head, let length):
                inputIndex += length
                scanFrom = 0
                // A body the server won't read: answer, then close instead of parsing it as a request.
                let action = machine.requestReceived(keepAlive: head.keepAlive && !head.announcesBody, now: now)
                guard case .respond(let close) = action else {
                    inputIndex = input.count
                    return
                }
                let request = HTTPRequest(
                    method: head.method, path: head.path, query: head.query, version: head.version,
                    headers: head.headers, remoteAddress: remoteAddress,
                    clientCertificateSubjectCN: clientCommonName)
                let promise = loop.makePromise()
                guard let response = loop.server.responder.respond(to: request, promise: promise.promise) else {
                    machine.responseDeferred(now: now)
                    pendingPromise = PendingPromise(
                        id: promise.id, isHead: head.isHead, keepAliveHTTP10: head.version == "HTTP/1.0")
                    loop.awaitPromise(promise.id, for: self)
                    if close { inputIndex = input.count }
                    return
                }
                HTTPResponseWriter.append(
                    response, isHead: head.isHead, close: close,
                    keepAliveHTTP10: !close && head.version == "HTTP/1.0", date: loop.date.current(), to: &output)
                if close {
                    inputIndex = input.count
                    return
                }
            }
        }
    }

    /// The deferred response arrived: queues it after any output still being written. The next `drive`
    /// writes it and goes on with buffered requests.
    func deliver(_ response: HTTPResponse, loop: EventLoop, now: Int64) {
        guard let pending = pendingPromise else { return }
        pendingPromise = nil
        guard case .respond(let close) = machine.responseArrived(now: now) else { return }
        HTTPResponseWriter.append(
            response, isHead: pending.isHead, close: close, keepAliveHTTP10: !close && pending.keepAliveHTTP10,
            date: loop.date.current(), to: &output)
    }

    /// The deferred response is late (the machine said `.respondTimedOut`): queues a 503 with
    /// `Connection: close` and forgets the promise and any buffered requests.
    func respondTimedOut(loop: EventLoop) {
        guard let pending = pendingPromise else { return }
        pendingPromise = nil
        inputIndex = input.count
        scanFrom = 0
        HTTPResponseWriter.append(
            Self.timedOutResponse, isHead: pending.isHead, close: true, date: loop.date.current(), to: &output)
    }

    /// What a client gets when the responder did not answer within ``HTTPServerLimits/responseTimeout``.
    static let timedOutResponse = HTTPResponse(
        status: 503, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]),
        body: Array("the server could not answer in time; try again later\n".utf8))

    /// Writes queued output until done or the socket would block.
    private func flush(now: Int64) -> IOResult {
        while outputIndex < output.count {
            let remaining = output.count - outputIndex
            if let ssl {
                let length = pendingTLSWrite > 0 ? pendingTLSWrite : min(remaining, Int(Int32.max))
                TLSContext.clearErrorQueue()
                let written = output.withUnsafeBytes { SSL_write(ssl, $0.baseAddress! + outputIndex, Int32(length)) }
                if written > 0 {
                    outputIndex += Int(written)
                    pendingTLSWrite = 0
                    machine.wroteBytes(now: now)
                    continue
                }
                let code = SSL_get_error(ssl, written)
                if code == SSL_ERROR_WANT_WRITE || code == SSL_ERROR_WANT_READ {
                    pendingTLSWrite = length
                    return .wouldBlock
                }
                ERR_clear_error()
                return .closed
            } else {
                let written = output.withUnsafeBytes {
                    send(fd, $0.baseAddress! + outputIndex, remaining, Int32(MSG_NOSIGNAL))
                }
                if written > 0 {
                    outputIndex += written
                    machine.wroteBytes(now: now)
                    continue
                }
                if written < 0 && errno == EINTR { continue }
                if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return .wouldBlock }
                return .closed
            }
        }
        return .progress
    }

    /// Reads what is there into `input` (one chunk; `drive` calls again until it would block).
    private func receive(_ loop: EventLoop) -> IOResult {
        if inputIndex > 0 {
            if inputIndex == input.count { input.removeAll(keepingCapacity: input.capacity <= 64 * 1024) }
            else { input.removeSubrange(0..<inputIndex) }
            inputIndex = 0
        }
        let buffer = loop.readBuffer
        if let ssl {
            TLSContext.clearErrorQueue()
            let count = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
            if count > 0 {
                input.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<Int(count)]))
                return .progress
            }
            let code = SSL_get_error(ssl, count)
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE {
                releaseInputIfEmpty()
                return .wouldBlock
            }
            ERR_clear_error()
            return .closed
        }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count > 0 {
                input.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                return .progress
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                releaseInputIfEmpty()
                return .wouldBlock
            }
            return .closed
        }
    }

    /// Frees the input buffer when everything in it was handled and the socket has no more: a keep-alive
    /// connection waiting for its next request then holds no buffer (10,000 idle connections add up; the next
    /// request allocates one again, a malloc against the thousands of instructions TLS spends on it).
    private func releaseInputIfEmpty() {
        if input.isEmpty && input.capacity > 0 { input = [] }
    }

    /// Sends TLS close_notify (best effort), half-closes, discards unread input (so `close` sends FIN,
    /// not RST, and the client gets the last response), frees TLS state and closes the socket.
    func close(discard buffer: UnsafeMutableRawBufferPointer) {
        if let ssl {
            if handshakeDone {
                ERR_clear_error()
                _ = SSL_shutdown(ssl)
                ERR_clear_error()
            }
            SSL_free(ssl)
            self.ssl = nil
        }
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
        var discarded = 0
        while discarded < 256 * 1024 {
            let count = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if count <= 0 { break }
            discarded += count
        }
        _ = Glibc.close(fd)
    }
}
