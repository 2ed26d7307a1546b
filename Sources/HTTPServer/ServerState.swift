import Logging
import Synchronization

/// What the server and all its loops share: configuration, responder, counters, the current TLS context.
final class ServerState: Sendable {
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let logger: Logger
    let timeouts: HTTPConnectionStateMachine.Timeouts
    /// Open connections across all loops (for the cap and ``HTTPServer/openConnectionCount``).
    let openConnections = Atomic<Int>(0)
    /// Connections across all loops still in their TLS handshake (for ``HTTPServerLimits/maxHandshakingConnections``).
    let handshakingConnections = Atomic<Int>(0)
    /// Open and handshaking connections per client address (for ``HTTPServerLimits/maxConnectionsPerClient`` and
    /// ``HTTPServerLimits/maxHandshakingConnectionsPerClient``).
    let clientConnections: ClientConnectionCounts
    let shuttingDown = Atomic<Bool>(false)
    /// Monotonic nanoseconds after which remaining connections are closed during shutdown.
    let graceDeadline = Atomic<Int64>(Int64.max)
    /// When the connection cap was last logged (monotonic ns), to log at most once per second.
    let lastCapLog = Atomic<Int64>(Int64.min)
    /// The context new TLS connections use; replaced by `reloadTLS`.
    let tlsContext: Mutex<TLSContext?>

    init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger, tls: TLSContext?) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.timeouts = HTTPConnectionStateMachine.Timeouts(configuration.limits)
        self.clientConnections = ClientConnectionCounts(
            limit: configuration.limits.maxConnectionsPerClient,
            handshakeLimit: configuration.limits.maxHandshakingConnectionsPerClient)
        self.tlsContext = Mutex(tls)
    }

    /// Whether to log that a cap was hit now (at most once per second).
    func shouldLogCap(now: Int64) -> Bool {
        let last = lastCapLog.load(ordering: .relaxed)
        guard now &- last >= 1_000_000_000 || last == Int64.min else { return false }
        return lastCapLog.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
    }
}
