/// Size limits, counts and timeouts that keep one client from hurting the others: every buffer and count a
/// client can make the server hold has one here.
///
/// What one connection can hold at most (README, "Bounded resources"): its input, under
/// ``maxHeaderBytes`` + 1 bytes (no more is read than it takes to see a head is too long), or while it reads a
/// body, the body (under ``maxBodyBytes``; no more is read than its end); its output, under
/// ``maxUnsentOutputBytes`` plus the largest single response (nothing more is parsed while the limit is
/// reached); and for TLS OpenSSL's record buffers. The connection counts bound how many do.
///
/// Every refusal of a request is a short `text/plain` body naming what was wrong, followed by closing the
/// connection; a connection refused at accept is closed at once.
public struct HTTPServerLimits: Sendable {
    /// Most bytes of request line plus headers, counting every byte before the end of the head (empty lines
    /// before the request line and the final empty line included); beyond: 431, close.
    public var maxHeaderBytes: Int
    /// Most header lines in one request head (the request line not counted); beyond: 431, close. Each parsed
    /// line costs a name and a value string, so thousands of two-byte lines within ``maxHeaderBytes`` would
    /// cost many times the head's size for each request held (awaiting a deferred answer); 100 is far more
    /// than any client here sends (curl sends 3 to 5).
    public var maxHeaderLines: Int
    /// The default of ``maxHeaderLines``: 100.
    public static let defaultMaxHeaderLines = 100
    /// Most bytes of request body any route may take, whatever its responder asks
    /// (``HTTPResponder/maxBodyBytes(method:path:)``, which is 0 unless a route opts in); a body over the
    /// route's limit gets 413, close, and none of it is read. While a body is read the connection's input holds
    /// it and nothing more (reads stop at its end), so input stays under `max(maxHeaderBytes + 1, this)`.
    /// 16 KiB: a certificate signing request is 1 to 4 KiB.
    public var maxBodyBytes: Int
    /// Time for a TLS handshake to complete; beyond: close.
    public var handshakeTimeout: Duration
    /// Time to receive a whole request head once it started (for a new connection: from accept or
    /// handshake end), and the body after it on a route that takes one; beyond: close (slowloris).
    public var headerTimeout: Duration
    /// Time a keep-alive connection may sit idle between requests, and time a response may go unread;
    /// beyond: close.
    public var idleTimeout: Duration
    /// Most open connections across all loops; beyond: accepted and closed at once.
    public var maxConnections: Int
    /// Time a responder that deferred (``HTTPResponder/respond(to:promise:)`` returned nil) has to fulfil
    /// its promise; beyond: the server answers 503 and closes the connection.
    public var responseTimeout: Duration
    /// Backpressure: while a connection has this many bytes of output its client has not taken yet, no
    /// further pipelined request is parsed and its socket is not read. One response is never split, so a
    /// connection holds at most this plus its largest response. 64 KiB: about 200 small answers pipelined
    /// ahead of a slow reader, and as much as the kernel's socket buffer usually takes at once.
    public var maxUnsentOutputBytes: Int
    /// Most connections across all loops still in their TLS handshake (the expensive part: key exchange CPU
    /// and OpenSSL's handshake buffers); beyond: accepted and closed at once. Counted apart from
    /// ``maxConnections``, so a burst of new clients cannot crowd out the ones already served.
    public var maxHandshakingConnections: Int
    /// Most connections from one client address in their TLS handshake at once: an eighth of
    /// ``maxHandshakingConnections`` (at least 1), so that a few addresses cannot hold every handshake slot with
    /// connections that never send a ClientHello while others wait; beyond: accepted and closed at once.
    public var maxHandshakingConnectionsPerClient: Int {
        max(1, maxHandshakingConnections / Self.handshakeShareDivisor)
    }
    /// One client address may hold 1/8 of the handshake slots (``maxHandshakingConnectionsPerClient``).
    public static let handshakeShareDivisor = 8
    /// Most open connections from one client address (IP, any port; an IPv6 address counts as its /64);
    /// beyond: accepted and closed at once.
    /// A cluster service sees many clients behind one node or NAT address, so this is generous; it stops one
    /// client from taking every connection slot.
    public var maxConnectionsPerClient: Int
    /// After the last response of a connection that closes, how long the server keeps reading (and dropping)
    /// what the client still sends until the client ends its stream, so closing does not reset the
    /// connection under an unread response; beyond: close.
    public var drainTimeout: Duration

    /// Limits with defaults: 16 KiB head, 10 s handshake, 10 s head, 60 s idle, 20 000 connections,
    /// 30 s for a deferred response, 64 KiB unsent output, 1 024 handshaking connections, 256 connections
    /// per client address, 2 s drain, 100 header lines, 16 KiB body.
    public init(
        maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int = 16 * 1024, handshakeTimeout: Duration = .seconds(10),
        headerTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60), maxConnections: Int = 20_000,
        responseTimeout: Duration = .seconds(30), maxUnsentOutputBytes: Int = 64 * 1024,
        maxHandshakingConnections: Int = 1_024, maxConnectionsPerClient: Int = 256, drainTimeout: Duration = .seconds(2),
        maxHeaderLines: Int = defaultMaxHeaderLines
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderLines = maxHeaderLines
        self.maxBodyBytes = maxBodyBytes
        self.handshakeTimeout = handshakeTimeout
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
        self.responseTimeout = responseTimeout
        self.maxUnsentOutputBytes = maxUnsentOutputBytes
        self.maxHandshakingConnections = maxHandshakingConnections
        self.maxConnectionsPerClient = maxConnectionsPerClient
        self.drainTimeout = drainTimeout
    }
}
