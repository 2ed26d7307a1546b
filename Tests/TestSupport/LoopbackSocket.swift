import Foundation

/// A TCP socket bound to 127.0.0.1 on a port the kernel picks (port 0), closed by `close()` or deinit.
///
/// Not listening, it holds a port that refuses connections; listening, it is a peer that completes the TCP
/// handshake and then never answers (nobody accepts); closed at once, it names a free port (``freeLoopbackPort()``).
public final class LoopbackSocket: @unchecked Sendable {
    /// The bound port.
    public let port: Int
    private let descriptor: Int32
    private let lock = NSLock()
    private var isOpen = true

    /// Binds a new socket.
    ///
    /// - Parameters:
    ///   - listening: also `listen` (backlog 8), so connects complete without anyone accepting them.
    ///   - reusePort: set `SO_REUSEPORT` first, as the server's own listeners do.
    /// - Throws: `LoopbackSocketError` naming the call that failed and `errno`'s text.
    public init(listening: Bool = false, reusePort: Bool = false) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw LoopbackSocketError(call: "socket") }
        if reusePort {
            var on: Int32 = 1
            setsockopt(descriptor, SOL_SOCKET, SO_REUSEPORT, &on, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let failed: String? = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                if bind(descriptor, pointer, length) != 0 { return "bind(127.0.0.1:0)" }
                if listening && listen(descriptor, 8) != 0 { return "listen" }
                if getsockname(descriptor, pointer, &length) != 0 { return "getsockname" }
                return nil
            }
        }
        if let failed {
            let error = LoopbackSocketError(call: failed)
            Glibc.close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Closes the socket (the port is free again). Safe to call twice.
    public func close() {
        lock.withLock {
            guard isOpen else { return }
            isOpen = false
            Glibc.close(descriptor)
        }
    }

    deinit { close() }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick for port 0, released again).
public func freeLoopbackPort() throws -> Int {
    try LoopbackSocket().port
}

/// A socket call failed while binding a loopback port.
public struct LoopbackSocketError: Error, CustomStringConvertible {
    /// The call, e.g. `bind(127.0.0.1:0)`.
    public var call: String
    /// `strerror(errno)` right after it.
    public var reason: String

    init(call: String) {
        self.call = call
        reason = String(cString: strerror(errno))
    }

    public var description: String { "\(call) failed: \(reason)" }
}
