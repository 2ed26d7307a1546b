import BackgroundWork
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
import DurationUnits
#endif

/// An HTTP/1.1 server on POSIX sockets, epoll and OpenSSL.
///
/// `eventLoopCount` threads each run an epoll loop with their own `SO_REUSEPORT` listener; the kernel
/// spreads new connections across them. Each parsed request goes to the ``HTTPResponder`` on the loop's
/// thread; the response goes back in one write. A responder may instead answer later, from any thread,
/// through an ``HTTPResponsePromise``: meanwhile that loop keeps serving its other connections, the
/// waiting connection reads nothing more (pipelined requests stay buffered, answered in order afterwards),
/// and after ``HTTPServerLimits/responseTimeout`` the client gets 503 and the connection closes. A client
/// that is gone (reset) while waiting is dropped, and the promise says so
/// (``HTTPResponsePromise/isCancelled``); one that half-closed after its request still gets the answer, then
/// the connection closes. Keep-alive, pipelining, `HEAD`, HTTP/1.0 and
/// `Connection: close` work as RFC 9112 says. A request body is read only where the responder takes one
/// (``HTTPResponder/maxBodyBytes(method:path:)``): with `Content-Length`, whole, before the responder is
/// asked, within the head's deadline, after `100 Continue` when the client waits for it. Anywhere else a request
/// announcing a body is answered without it (a `GET`/`HEAD` with a body gets 400), then the connection closes.
///
/// Refusals are short `text/plain` bodies, then close: 400 (malformed head, smuggling attempts),
/// 431 (head over ``HTTPServerLimits/maxHeaderBytes`` or ``HTTPServerLimits/maxHeaderLines``), 505 (not HTTP/1.x),
/// and on a route that takes a body 413 (longer than it takes, or than ``HTTPServerLimits/maxBodyBytes``; none of
/// it is read) or 411 (`Transfer-Encoding` instead of `Content-Length`).
///
/// What a client can make the server hold is bounded by ``HTTPServerLimits``: a connection's input by the head
/// limit (or, while it reads a body, by the body's length), its unsent output by ``HTTPServerLimits/maxUnsentOutputBytes`` (backpressure: at the limit nothing
/// more is parsed or read), the connection counts in total, per client address and in the TLS handshake. Out
/// of file descriptors, a loop stops polling its listener until a connection closes or 100 ms pass.
///
/// `start()` ignores `SIGPIPE` for the whole process (``ignoreBrokenPipeSignal()`` says why).
public final class HTTPServer: Sendable {
    private let state: ServerState
    private let lifecycle = Mutex(Lifecycle())
    private let threads = Mutex<[BackgroundThread]>([])

    private struct Lifecycle {
        var started = false
        var port = 0
        var loops: [EventLoop] = []
    }

    /// A server; nothing is bound until ``start()``.
    ///
    /// - Parameters:
    ///   - configuration: address, port, loop count, TLS and limits.
    ///   - responder: answers every parsed request.
    ///   - logger: where the server logs (connection errors at debug, limits at warning). Never logs
    ///     headers or bodies.
    /// - Throws: ``HTTPServerError`` when the TLS files can't be loaded or don't match.
    public init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger) throws {
        let tls = try configuration.tls.map { configuration throws(HTTPServerError) in
            let keys = try SessionTicketKeys(rotation: configuration.ticketKeyRotation, lifetime: configuration.sessionLifetime)
            return try TLSContext(configuration, ticketKeys: keys)
        }
        state = ServerState(configuration: configuration, responder: responder, logger: logger, tls: tls)
    }

    /// Binds the listeners and starts the loop threads, then returns.
    ///
    /// - Throws: ``HTTPServerError`` when binding fails (address in use, bad host) or it was started before.
    public func start() throws {
        let configuration = state.configuration
        try lifecycle.withLock { (life: inout Lifecycle) throws(HTTPServerError) in
            guard !life.started else { throw HTTPServerError(call: "start()", message: "the server was already started") }
            ignoreBrokenPipeSignal()
            var port = configuration.port
            var loops: [EventLoop] = []
            for _ in 0..<max(1, configuration.eventLoopCount) {
                let listener = try Socket.makeListener(host: configuration.host, port: port)
                port = listener.port
                do throws(HTTPServerError) {
                    loops.append(try EventLoop(listenerFD: listener.fd, server: state))
                } catch {
                    close(listener.fd)
                    throw error
                }
            }
            life.started = true
            life.port = port
            life.loops = loops
        }
        let loops = lifecycle.withLock { $0.loops }
        var started: [BackgroundThread] = []
        for (index, loop) in loops.enumerated() {
            do {
                started.append(try BackgroundThread(name: "event-loop-\(index)") { loop.run() })
            } catch {
                throw HTTPServerError(call: "pthread_create()", errno: error.code, message: error.description)
            }
        }
        threads.withLock { $0 = started }
        state.logger.info(
            "HTTP server listening",
            metadata: [
                "address": "\(configuration.host):\(localPort)", "tls": "\(configuration.tls != nil)",
                "loops": "\(loops.count)",
            ])
    }

    /// The bound port after ``start()`` (useful with port 0); 0 before.
    public var localPort: Int { lifecycle.withLock { $0.port } }

    /// Re-reads the certificate chain and key (and client CA) into a new TLS context that new
    /// connections use; open connections keep the old one for their TLS, but when the client CA or CRL changed,
    /// a client certificate verified under the old one no longer names the client: the connection's next
    /// request comes without it (``HTTPRequest/clientCertificateSubjectCN`` nil) and the connection closes after
    /// its answer.
    ///
    /// - Parameter replacement: the files to load instead of the configured ones (a service that keeps a
    ///   working certificate while the files on disk are broken, or drops the client CA while it is broken).
    /// - Throws: ``HTTPServerError`` when the files can't be loaded or don't match; the old context stays.
    public func reloadTLS(_ replacement: TLSConfiguration? = nil) throws {
        guard state.configuration.tls != nil, let configuration = replacement ?? state.configuration.tls else {
            throw HTTPServerError(call: "reloadTLS()", message: "the server was configured without TLS")
        }
        // The same ticket keys: sessions made under the old certificate still resume.
        guard let keys = state.tlsContext.withLock({ $0?.ticketKeys }) else {
            throw HTTPServerError(call: "reloadTLS()", message: "the server has no TLS context to replace")
        }
        let context = try TLSContext(configuration, ticketKeys: keys)
        state.tlsContext.withLock { $0 = context }
        state.logger.info("TLS certificate reloaded", metadata: ["certificate": "\(configuration.certificateChainFile)"])
    }

    /// Connections currently open across all loops.
    public var openConnectionCount: Int { state.openConnections.load(ordering: .relaxed) }

    /// Stops accepting, closes idle connections, lets requests in flight finish, deferred ones included
    /// (their responses say `Connection: close`), then stops the loops; connections still open after
    /// `gracePeriod` are closed, and promises fulfilled after that are dropped.
    /// Returns at once: ``waitUntilStopped()`` waits for the end.
    public func shutdown(gracePeriod: Duration) {
        let deadline = Socket.monotonicNow() &+ max(gracePeriod.wholeNanoseconds, 0)
        state.graceDeadline.store(deadline, ordering: .relaxed)
        guard !state.shuttingDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        state.logger.info("HTTP server shutting down", metadata: ["grace": "\(gracePeriod)"])
        for loop in lifecycle.withLock({ $0.loops }) { loop.wake() }
    }

    /// Blocks until every loop thread has ended (after ``shutdown(gracePeriod:)``); returns at once if
    /// the server was never started.
    public func waitUntilStopped() {
        threads.withLock { threads in
            for thread in threads { thread.join() }
            threads = []
        }
        lifecycle.withLock { $0.loops = [] }
    }
}
