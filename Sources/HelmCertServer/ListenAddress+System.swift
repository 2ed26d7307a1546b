import CText

#if canImport(Glibc)
import Glibc
#endif

extension ListenAddress {
    /// The same address with a name (`localhost`) replaced by the first address the system resolver gives
    /// for it (its preference order, RFC 6724: `::1` before `127.0.0.1` where IPv6 is configured). Address
    /// literals come back unchanged. The HTTP server binds literals only.
    /// - Throws: ``ListenAddressError/unresolvable(_:reason:)``.
    public func resolved() throws(ListenAddressError) -> ListenAddress {
        if Self.isLiteral(host) { return self }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let first = list else {
            throw .unresolvable(host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(first.pointee.ai_addr, first.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else {
            throw .unresolvable(host, reason: "no numeric address")
        }
        let numeric = String(cText: text)
        // A link-local IPv6 address comes back with its zone (`fe80::1%eth0`), which the server cannot bind.
        guard Self.isLiteral(numeric) else { throw .unresolvable(host, reason: "resolves to \(numeric), which cannot be bound") }
        return ListenAddress(host: numeric, port: port)
    }

    /// Refuses an address another process already listens on.
    ///
    /// The server's listeners use `SO_REUSEPORT` (one per event loop), which would let it share a port with
    /// another process of the same user, silently taking half of its connections. So first a socket *without*
    /// `SO_REUSEPORT` is bound there and closed: the kernel refuses it (`EADDRINUSE`) while anyone listens on
    /// that address, or on a wildcard or specific address overlapping it, whatever their options. Unlike a
    /// connect probe it also sees listeners on other interfaces' addresses and sends the other process
    /// nothing. `SO_REUSEADDR` is set, as on the real listeners, so connections of an earlier run still in
    /// TIME_WAIT do not count. Port 0 is skipped (the kernel picks a free port). A process that starts
    /// listening between this check and the real bind is not seen: the window is the start-up's few
    /// milliseconds.
    /// - Throws: ``ListenAddressError/inUse(_:)``, or ``ListenAddressError/cannotBind(_:reason:)`` (not an
    ///   address of this host, a port below 1024 without the privilege).
    public func ensureNoOtherListener() throws(ListenAddressError) {
        guard port != 0 else { return }
        var v4 = sockaddr_in()
        var v6 = sockaddr_in6()
        let family: Int32
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            family = AF_INET
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = UInt16(port).bigEndian
        } else if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            family = AF_INET6
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = UInt16(port).bigEndian
        } else {
            throw .cannotBind(self, reason: "\(host) is not an IPv4 or IPv6 address")
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .cannotBind(self, reason: "socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var on: Int32 = 1
        var off: Int32 = 0
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        // Dual-stack, as the real listener: `[::]` then also conflicts with an IPv4 listener on the port.
        if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = family == AF_INET
            ? withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            : withUnsafePointer(to: &v6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        guard bound != 0 else { return }
        let code = errno
        if code == EADDRINUSE { throw .inUse(self) }
        throw .cannotBind(self, reason: "bind: \(String(cString: strerror(code)))")
    }

    private static func isLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}
