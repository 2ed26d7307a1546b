#if canImport(Glibc)
import Glibc
#endif

/// Who a request came from, as far as sharing out the Kubernetes review queue goes: the peer's IP address
/// without its port, an IPv6 address reduced to its /64 network (one host usually holds a whole /64), and an
/// IPv4-mapped IPv6 address to its IPv4 address (a dual-stack listener sees IPv4 peers that way).
///
/// Behind a proxy or an ingress every caller shares the proxy's address, and so its share.
struct ClientAddress: Hashable, Sendable, CustomStringConvertible {
    let description: String

    /// - Parameter remoteAddress: the server's text for the peer: `1.2.3.4:5678` or `[2001:db8::1]:5678`.
    init(remoteAddress: String) {
        var host = Substring(remoteAddress)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = host[..<colon]
        }
        description = Self.network(of: String(host)) ?? String(host)
    }

    /// The /64 of an IPv6 address, or the IPv4 address inside an IPv4-mapped one; nil for anything else.
    private static func network(of host: String) -> String? {
        var address = in6_addr()
        guard host.contains(":"), inet_pton(AF_INET6, host, &address) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: address) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map { String($0) }.joined(separator: ".")
        }
        var prefix = bytes
        for index in 8..<16 { prefix[index] = 0 }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let formatted = prefix.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
        guard formatted != nil else { return nil }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/64"
    }
}
