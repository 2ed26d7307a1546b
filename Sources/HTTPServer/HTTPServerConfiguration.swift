#if canImport(Glibc)
import Glibc
#endif

/// Where and how an ``HTTPServer`` listens.
public struct HTTPServerConfiguration: Sendable {
    /// The address to bind: `"0.0.0.0"`, `"127.0.0.1"`, `"::"` (IPv6 and IPv4), `"::1"`.
    public var host: String
    /// The TCP port; 0 picks a free one (read it back from ``HTTPServer/localPort``).
    public var port: Int
    /// How many event-loop threads (each with its own epoll and `SO_REUSEPORT` listener).
    public var eventLoopCount: Int
    /// TLS settings, or nil for plain HTTP.
    public var tls: TLSConfiguration?
    /// Size limits and timeouts.
    public var limits: HTTPServerLimits

    /// A configuration; `eventLoopCount` defaults to the number of online cores.
    public init(
        host: String = "0.0.0.0", port: Int = 8443, eventLoopCount: Int = HTTPServerConfiguration.coreCount,
        tls: TLSConfiguration? = nil, limits: HTTPServerLimits = HTTPServerLimits()
    ) {
        self.host = host
        self.port = port
        self.eventLoopCount = eventLoopCount
        self.tls = tls
        self.limits = limits
    }

    /// The number of online CPU cores (at least 1).
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
