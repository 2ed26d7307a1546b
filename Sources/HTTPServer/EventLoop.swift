import CEventShims
import CLibSSL
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One event-loop thread: its own epoll instance, its own `SO_REUSEPORT` listener, its connections.
///
/// Everything here is touched only by the loop's thread, except ``inbox`` (``wake()``, and deferred
/// responses handed over by ``HTTPResponsePromise``). Timeouts are checked by a sweep over the loop's
/// connections a few times a second (the `epoll_wait` timeout), so no connection needs a timer of its own.
final class EventLoop: @unchecked Sendable {
    let server: ServerState
    var logger: Logger { server.logger }
    /// Deferred responses from other threads, and the `eventfd` that wakes this loop.
    let inbox: EventLoopInbox
    private let epollFD: Int32
    private var listenerFD: Int32
    private var connections: [Int32: HTTPConnection] = [:]
    /// Connections waiting for a deferred response, by promise number.
    private var awaiting: [UInt64: HTTPConnection] = [:]
    /// The number the next promise gets; never reused, so a late answer can't reach a newer connection.
    private var nextPromiseID: UInt64 = 0
    /// Connections that yielded with work left: driven again on the next turn without waiting.
    private var yielded: [HTTPConnection] = []
    var date = HTTPDate()
    /// Scratch space every read of this loop goes through before landing in a connection's buffer.
    let readBuffer: UnsafeMutableRawBufferPointer
    private var draining = false
    private let sweepInterval: Int64

    /// Takes ownership of `listenerFD`.
    init(listenerFD: Int32, server: ServerState) throws(HTTPServerError) {
        self.server = server
        self.listenerFD = listenerFD
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw .system("epoll_create1()") }
        do throws(HTTPServerError) {
            inbox = try EventLoopInbox()
        } catch {
            Glibc.close(epollFD)
            throw error
        }
        readBuffer = .allocate(byteCount: 32 * 1024, alignment: 16)
        let t = server.timeouts
        sweepInterval = min(max(min(t.handshake, t.header, t.idle, t.response) / 4, 5_000_000), 250_000_000)
        try register(listenerFD, events: EPOLLIN.rawValue)
        try register(inbox.wakeFD, events: EPOLLIN.rawValue)
    }

    deinit {
        readBuffer.deallocate()
        if listenerFD >= 0 { Glibc.close(listenerFD) }
        inbox.close()
        Glibc.close(epollFD)
    }

    private func register(_ fd: Int32, events: UInt32) throws(HTTPServerError) {
        var event = epoll_event()
        event.events = events
        event.data.fd = fd
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw .system("epoll_ctl(ADD)") }
    }

    /// Wakes the loop from another thread (to notice shutdown).
    func wake() { inbox.wake() }

    /// A promise for the request being answered now, with its number.
    func makePromise() -> (promise: HTTPResponsePromise, id: UInt64) {
        nextPromiseID &+= 1
        return (HTTPResponsePromise(inbox: inbox, id: nextPromiseID), nextPromiseID)
    }

    /// `connection` waits for the promise numbered `id`.
    func awaitPromise(_ id: UInt64, for connection: HTTPConnection) {
        awaiting[id] = connection
    }

    /// Runs until shutdown has finished on this loop.
    func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var nextSweep = Socket.monotonicNow() + sweepInterval
        while true {
            let timeout = yielded.isEmpty ? Int32(max(1, (nextSweep - Socket.monotonicNow()) / 1_000_000)) : 0
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            if count < 0 && errno != EINTR {
                logger.error("epoll_wait failed", metadata: ["error": "\(HTTPServerError.system("epoll_wait()"))"])
                break
            }
            let now = Socket.monotonicNow()
            // Before this batch's requests: one that arrived together with the shutdown wake-up is answered
            // with `Connection: close`, not as if the server were staying up.
            if server.shuttingDown.load(ordering: .acquiring) && !draining { beginDraining() }
            let hangUp = EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue
            for i in 0..<Int(max(count, 0)) {
                let fd = events[i].data.fd
                if fd == listenerFD {
                    acceptConnections(now: now)
                } else if fd == inbox.wakeFD {
                    deliverResponses(now: now)
                } else if let connection = connections[fd] {
                    if events[i].events & hangUp != 0 { connection.peerHungUp = true }
                    drive(connection, now: now)
                }
            }
            if !yielded.isEmpty {
                let again = yielded
                yielded.removeAll(keepingCapacity: true)
                for connection in again where connections[connection.fd] === connection {
                    drive(connection, now: now)
                }
            }
            if now >= nextSweep {
                sweep(now: now)
                nextSweep = now + sweepInterval
            }
            if draining {
                if connections.isEmpty { break }
                if now >= server.graceDeadline.load(ordering: .relaxed) {
                    for connection in Array(connections.values) { close(connection) }
                    break
                }
            }
        }
        inbox.close()  // promises fulfilled from now on are dropped
    }

    /// Hands deferred responses from other threads to their connections. A response whose connection
    /// closed or timed out meanwhile (its promise number is no longer awaited) is dropped.
    private func deliverResponses(now: Int64) {
        for delivery in inbox.takeDeliveries() {
            guard let connection = awaiting.removeValue(forKey: delivery.id) else { continue }
            guard connections[connection.fd] === connection, connection.pendingPromise?.id == delivery.id else { continue }
            connection.deliver(delivery.response, loop: self, now: now)
            drive(connection, now: now)
        }
    }

    private func acceptConnections(now: Int64) {
        while !draining {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    cshim_accept4(listenerFD, $0, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if fd < 0 {
                switch errno {
                case EINTR, ECONNABORTED: continue
                case EAGAIN, EWOULDBLOCK: return
                case EMFILE, ENFILE:
                    if server.shouldLogCap(now: now) {
                        logger.warning("out of file descriptors: not accepting", metadata: ["errno": "\(errno)"])
                    }
                    return
                default:
                    logger.warning("accept4 failed", metadata: ["error": "\(HTTPServerError.system("accept4()"))"])
                    return
                }
            }
            let limit = server.configuration.limits.maxConnections
            if server.openConnections.wrappingAdd(1, ordering: .relaxed).newValue > limit {
                server.openConnections.wrappingSubtract(1, ordering: .relaxed)
                Glibc.close(fd)
                if server.shouldLogCap(now: now) {
                    logger.warning("connection limit reached: closing new connections", metadata: ["limit": "\(limit)"])
                }
                continue
            }
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var ssl: OpaquePointer? = nil
            if let context = server.tlsContext.withLock({ $0 }) {
                ssl = SSL_new(context.pointer)
                guard let ssl, SSL_set_fd(ssl, fd) == 1 else {
                    logger.warning("SSL_new failed", metadata: ["reason": "\(TLSContext.openSSLErrors())"])
                    if let ssl { SSL_free(ssl) }
                    Glibc.close(fd)
                    server.openConnections.wrappingSubtract(1, ordering: .relaxed)
                    continue
                }
                SSL_set_accept_state(ssl)
            }
            let connection = HTTPConnection(
                fd: fd, ssl: ssl, remoteAddress: Socket.describe(storage), now: now, timeouts: server.timeouts)
            connections[fd] = connection
            var event = epoll_event()
            event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
            event.data.fd = fd
            if epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) != 0 {
                logger.warning("epoll_ctl failed", metadata: ["error": "\(HTTPServerError.system("epoll_ctl(ADD)"))"])
                close(connection)
            }
        }
    }

    private func drive(_ connection: HTTPConnection, now: Int64) {
        switch connection.drive(self, now: now) {
        case .wait:
            // Nobody is left to read the deferred answer: don't keep the connection for it.
            if connection.peerHungUp && connection.pendingPromise != nil { close(connection) }
        case .close: close(connection)
        case .yield: yielded.append(connection)
        }
    }

    /// Closes connections whose deadline passed; answers late deferred responses with 503.
    private func sweep(now: Int64) {
        var expired: [HTTPConnection] = []
        var late: [HTTPConnection] = []
        for connection in connections.values {
            switch connection.machine.deadlineCheck(now: now) {
            case .close: expired.append(connection)
            case .respondTimedOut: late.append(connection)
            case .none, .respond: break
            }
        }
        for connection in expired {
            logger.trace("connection timed out", metadata: ["remote": "\(connection.remoteAddress)"])
            close(connection)
        }
        for connection in late {
            logger.warning(
                "responder did not answer in time: 503",
                metadata: ["remote": "\(connection.remoteAddress)", "timeout": "\(server.configuration.limits.responseTimeout)"])
            if let id = connection.pendingPromise?.id { awaiting.removeValue(forKey: id) }
            connection.respondTimedOut(loop: self)
            drive(connection, now: now)
        }
    }

    /// Stops accepting and closes idle connections; in-flight ones finish (up to the grace deadline).
    private func beginDraining() {
        draining = true
        if listenerFD >= 0 {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, listenerFD, nil)
            Glibc.close(listenerFD)
            listenerFD = -1
        }
        for connection in Array(connections.values) where connection.machine.shutdownRequested() == .close {
            close(connection)
        }
    }

    private func close(_ connection: HTTPConnection) {
        guard connections.removeValue(forKey: connection.fd) != nil else { return }
        if let id = connection.pendingPromise?.id { awaiting.removeValue(forKey: id) }
        connection.close(discard: readBuffer)
        server.openConnections.wrappingSubtract(1, ordering: .relaxed)
    }
}
