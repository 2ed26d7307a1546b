/// Size limits and timeouts that keep one client from hurting the others.
///
/// Every refusal is a short `text/plain` body naming what was wrong, followed by closing the connection.
public struct HTTPServerLimits: Sendable {
    /// Most bytes of request line plus headers (including the final empty line, and any empty lines before the
    /// request line); beyond: 431, close.
    public var maxHeaderBytes: Int
    /// Time for a TLS handshake to complete; beyond: close.
    public var handshakeTimeout: Duration
    /// Time to receive a whole request head once it started (for a new connection: from accept or
    /// handshake end); beyond: close (slowloris).
    public var headerTimeout: Duration
    /// Time a keep-alive connection may sit idle between requests; beyond: close.
    public var idleTimeout: Duration
    /// Most open connections across all loops; beyond: accepted and closed at once.
    public var maxConnections: Int
    /// Time a responder that deferred (``HTTPResponder/respond(to:promise:)`` returned nil) has to fulfil
    /// its promise; beyond: the server answers 503 and closes the connection.
    public var responseTimeout: Duration

    /// Limits with defaults: 16 KiB head, 10 s handshake, 10 s head, 60 s idle, 20 000 connections,
    /// 30 s for a deferred response.
    public init(
        maxHeaderBytes: Int = 16 * 1024, handshakeTimeout: Duration = .seconds(10),
        headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60), maxConnections: Int = 20_000,
        responseTimeout: Duration = .seconds(30)
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.handshakeTimeout = handshakeTimeout
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.responseTimeout = responseTimeout
    }
}

extension Duration {
    /// Whole nanoseconds (saturating), for the loops' monotonic clock.
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? Int64.min : Int64.max }
        return ns &+ attoseconds / 1_000_000_000
    }
}
