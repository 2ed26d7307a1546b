import CEventShims
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One event-loop thread: its own epoll instance, its own `SO_REUSEPORT` listener, its connections.
///
/// Everything here is touched only by the loop's thread, except ``inbox`` (``wake()``, and deferred
/// responses handed over by ``HTTPResponsePromise``). Timeouts are checked by a sweep over the loop's
/// connections a few times a second (the `epoll_wait` timeout), so no connection needs a timer of its own.
/// Each connection gets a read and a write budget per turn; one that used it up goes to the back of the
/// queue, after the connections that became ready meanwhile (round-robin), so one fast client cannot
/// starve the others. At the end of each turn the loop runs what responders put off to it (``EventLoopTurn``)
/// and delivers the answers that released.
final class EventLoop: @unchecked Sendable {
    /// A connection and what the loop counts it under.
    private struct Entry {
        let connection: HTTPConnection
        let client: ClientAddress
        /// Counted in ``ServerState/handshakingConnections``.
        var handshaking: Bool
    }

    let server: ServerState
    var logger: Logger { server.logger }
    /// Deferred responses from other threads, and the `eventfd` that wakes this loop.
    let inbox: EventLoopInbox
    /// What the connections of this loop share.
    private let context: HTTPConnectionContext
    private let epollFD: Int32
    private var listenerFD: Int32
    /// Whether the listener is polled (not while descriptors run out).
    private var gate = ListenerGate(retryDelay: EventLoop.acceptRetryDelay)
    private var connections: [Int32: Entry] = [:]
    /// Connections that used up their budget with work left: driven again next turn, after the new events.
    private var ready: [HTTPConnection] = []
    private var shuttingDown = false
    private let sweepInterval: Int64

    /// How long accepting pauses after `accept4` failed for lack of descriptors (or memory), unless a connection
    /// of this loop closes first: 100 ms, so the loop neither spins on a listener it cannot serve nor leaves
    /// clients in the backlog for long once descriptors are free.
    static let acceptRetryDelay: Int64 = 100_000_000
    /// Connections accepted per turn at most, so a flood of new connections cannot starve open ones (the
    /// listener is level-triggered: the rest are accepted next turn).
    static let acceptsPerTurn = 64

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
        context = HTTPConnectionContext(
            limits: server.configuration.limits, responder: server.responder, logger: server.logger, inbox: inbox,
            currentTLSContext: { [server] in server.tlsContext.withLock { $0 } })
        sweepInterval = min(max(server.timeouts.shortest / 4, 5_000_000), 250_000_000)
        try register(listenerFD, events: EPOLLIN.rawValue)
        try register(inbox.wakeFD, events: EPOLLIN.rawValue)
    }

    deinit {
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

    /// Runs until shutdown has finished on this loop.
    func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var nextSweep = Socket.monotonicNow() + sweepInterval
        inbox.adoptCurrentThread()
        context.turn.adoptCurrentThread()
        while true {
            var timeout: Int32 = 0
            if ready.isEmpty && !context.turn.hasTasks && !inbox.hasOwnDeliveries {
                let until = min(nextSweep, gate.resumesAt) - Socket.monotonicNow()
                timeout = Int32(clamping: max(1, until / 1_000_000))
            }
            let count = epoll_wait(epollFD, events, Int32(capacity), timeout)
            if count < 0 && errno != EINTR {
                logger.error("epoll_wait failed", metadata: ["error": "\(HTTPServerError.system("epoll_wait()"))"])
                break
            }
            let now = Socket.monotonicNow()
            // Before this batch's requests: one that arrived together with the shutdown wake-up is answered
            // with `Connection: close`, not as if the server were staying up.
            if server.shuttingDown.load(ordering: .acquiring) && !shuttingDown { beginShuttingDown() }
            let gone = EPOLLHUP.rawValue | EPOLLERR.rawValue
            let again = ready
            ready.removeAll(keepingCapacity: true)
            for i in 0..<Int(max(count, 0)) {
                let fd = events[i].data.fd
                if fd == listenerFD {
                    acceptConnections(now: now)
                } else if fd == inbox.wakeFD {
                    deliverResponses(now: now)
                } else if let connection = connections[fd]?.connection {
                    if connection.hangUpReported(peerGone: events[i].events & gone != 0) == .close {
                        close(connection)
                    } else {
                        drive(connection, now: now)
                    }
                }
            }
            for connection in again where connections[connection.fd]?.connection === connection {
                drive(connection, now: now)
            }
            if now >= nextSweep {
                sweep(now: now)
                nextSweep = now + sweepInterval
            }
            // What responders put off to the end of the turn (an audit batch, say), then the answers it released
            // on this thread, which woke nobody.
            context.turn.end()
            deliverResponses(now: now)
            apply(gate.timePassed(now: now))
            if shuttingDown {
                if connections.isEmpty { break }
                if now >= server.graceDeadline.load(ordering: .relaxed) {
                    for entry in Array(connections.values) { close(entry.connection) }
                    break
                }
            }
        }
        inbox.close()  // promises fulfilled from now on are dropped
    }

    /// Hands deferred responses from other threads to their connections. One whose connection closed or
    /// timed out meanwhile (it no longer waits for that promise number) is dropped.
    private func deliverResponses(now: Int64) {
        for delivery in inbox.takeDeliveries() {
            guard let connection = connections[delivery.connection]?.connection else { continue }
            if connection.deliver(delivery.response, promise: delivery.id, context: context, now: now) {
                drive(connection, now: now)
            }
        }
    }

    private func acceptConnections(now: Int64) {
        var accepted = 0
        while !shuttingDown && gate.isPolling && accepted < Self.acceptsPerTurn {
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
                default:
                    let error = HTTPServerError.system("accept4()")
                    apply(gate.acceptFailed(now: now), error: error)
                    return
                }
            }
            accepted += 1
            apply(gate.accepted())
            admit(fd, storage: storage, now: now)
        }
    }

    /// Checks the connection caps for a newly accepted socket; registers it as a connection or closes it.
    private func admit(_ fd: Int32, storage: sockaddr_storage, now: Int64) {
        let limits = server.configuration.limits
        let tlsContext = server.tlsContext.withLock { $0 }
        if server.openConnections.wrappingAdd(1, ordering: .relaxed).newValue > limits.maxConnections {
            server.openConnections.wrappingSubtract(1, ordering: .relaxed)
            return refuse(fd, now: now, "connection limit reached: closing new connections", limit: limits.maxConnections)
        }
        let client = ClientAddress(storage)
        switch server.clientConnections.admit(client, handshaking: tlsContext != nil) {
        case .admitted:
            break
        case .tooManyConnections:
            server.openConnections.wrappingSubtract(1, ordering: .relaxed)
            return refuse(
                fd, now: now, "per-client connection limit reached: closing new connections from this address",
                limit: limits.maxConnectionsPerClient, remote: Socket.describe(storage))
        case .tooManyHandshakes:
            server.openConnections.wrappingSubtract(1, ordering: .relaxed)
            return refuse(
                fd, now: now, "per-client handshake limit reached: closing new connections from this address",
                limit: limits.maxHandshakingConnectionsPerClient, remote: Socket.describe(storage))
        }
        if tlsContext != nil
            && server.handshakingConnections.wrappingAdd(1, ordering: .relaxed).newValue > limits.maxHandshakingConnections
        {
            server.handshakingConnections.wrappingSubtract(1, ordering: .relaxed)
            server.clientConnections.release(client, handshaking: true)
            server.openConnections.wrappingSubtract(1, ordering: .relaxed)
            return refuse(
                fd, now: now, "handshake limit reached: closing new connections", limit: limits.maxHandshakingConnections)
        }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let transport: any Transport
        if let tlsContext {
            guard let tls = TLSTransport(fd: fd, context: tlsContext) else {
                logger.warning("SSL_new failed", metadata: ["reason": "\(TLSContext.openSSLErrors())"])
                server.handshakingConnections.wrappingSubtract(1, ordering: .relaxed)
                server.clientConnections.release(client, handshaking: true)
                server.openConnections.wrappingSubtract(1, ordering: .relaxed)
                Glibc.close(fd)
                return
            }
            transport = tls
        } else {
            transport = PlainTransport(fd: fd)
        }
        let connection = HTTPConnection(
            transport: transport, tls: tlsContext != nil, remoteAddress: Socket.describe(storage), now: now,
            timeouts: server.timeouts)
        connections[fd] = Entry(connection: connection, client: client, handshaking: tlsContext != nil)
        var event = epoll_event()
        event.events = EPOLLIN.rawValue | EPOLLOUT.rawValue | EPOLLRDHUP.rawValue | EPOLLET.rawValue
        event.data.fd = fd
        if epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) != 0 {
            logger.warning("epoll_ctl failed", metadata: ["error": "\(HTTPServerError.system("epoll_ctl(ADD)"))"])
            close(connection)
        }
    }

    /// Closes a socket a cap refused, logging the cap at most once a second.
    private func refuse(_ fd: Int32, now: Int64, _ message: Logger.Message, limit: Int, remote: String? = nil) {
        Glibc.close(fd)
        if server.shouldLogCap(now: now) {
            var metadata: Logger.Metadata = ["limit": "\(limit)"]
            if let remote { metadata["remote"] = "\(remote)" }
            logger.warning(message, metadata: metadata)
        }
    }

    /// Does what the listener gate said: polls the listener or stops, and logs an episode's start and end.
    private func apply(_ action: ListenerGate.Action, error: HTTPServerError? = nil) {
        switch action {
        case .none:
            break
        case .pause(let first):
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, listenerFD, nil)
            if first {
                logger.warning(
                    "cannot accept connections: not polling the listener until a connection closes",
                    metadata: ["error": "\(error.map(String.init(describing:)) ?? "-")", "retry": "\(Self.acceptRetryDelay / 1_000_000) ms"])
            }
        case .resume:
            guard !shuttingDown && listenerFD >= 0 else { return }
            do {
                try register(listenerFD, events: EPOLLIN.rawValue)
            } catch {
                logger.error("could not poll the listener again", metadata: ["error": "\(error)"])
            }
        case .episodeEnded:
            logger.notice("accepting connections again")
        }
    }

    private func drive(_ connection: HTTPConnection, now: Int64) {
        let result = connection.drive(context, now: now)
        if let entry = connections[connection.fd], entry.handshaking && !connection.machine.isHandshaking {
            connections[connection.fd]?.handshaking = false
            server.handshakingConnections.wrappingSubtract(1, ordering: .relaxed)
            server.clientConnections.handshakeEnded(entry.client)
        }
        switch result {
        case .wait: break
        case .close: close(connection)
        case .yield: ready.append(connection)
        }
    }

    /// Closes connections whose deadline passed; answers late deferred responses with 503.
    private func sweep(now: Int64) {
        var expired: [HTTPConnection] = []
        var late: [HTTPConnection] = []
        for entry in connections.values {
            switch entry.connection.checkDeadline(context, now: now) {
            case .close: expired.append(entry.connection)
            case .respondTimedOut: late.append(entry.connection)
            default: break
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
            drive(connection, now: now)
        }
    }

    /// Stops accepting and closes idle connections; in-flight ones finish (up to the grace deadline).
    private func beginShuttingDown() {
        shuttingDown = true
        if listenerFD >= 0 {
            if gate.isPolling { _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, listenerFD, nil) }
            Glibc.close(listenerFD)
            listenerFD = -1
        }
        for entry in Array(connections.values) where entry.connection.shutdownRequested() == .close {
            close(entry.connection)
        }
    }

    private func close(_ connection: HTTPConnection) {
        guard let entry = connections[connection.fd], entry.connection === connection else { return }
        connections.removeValue(forKey: connection.fd)
        connection.close()
        if entry.handshaking { server.handshakingConnections.wrappingSubtract(1, ordering: .relaxed) }
        server.clientConnections.release(entry.client, handshaking: entry.handshaking)
        server.openConnections.wrappingSubtract(1, ordering: .relaxed)
        apply(gate.connectionClosed())  // a descriptor was freed
    }
}
