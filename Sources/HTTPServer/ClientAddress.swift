import CText

#if canImport(Glibc)
import Glibc
#endif

/// A client's IP address (any port), as the per-client caps and HelmCertServer's review queue count it. IPv4
/// addresses are kept in their IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so one client counts the same on an
/// IPv4 and a dual-stack listener. Any other IPv6 address is reduced to its /64 network: one host usually holds
/// a whole /64 and can pick a new address in it for each connection.
///
/// Behind a proxy or an ingress every caller shares the proxy's address, and so its share.
public struct ClientAddress: Hashable, Sendable, CustomStringConvertible {
    /// The 16 address bytes, big-endian, in two halves.
    var high: UInt64
    var low: UInt64

    /// The address of the peer in `storage` (`AF_INET` or `AF_INET6`; anything else is all zeros).
    init(_ storage: sockaddr_storage) {
        let family = storage.ss_family
        var bytes = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &bytes) { out in
            withUnsafeBytes(of: storage) { raw in
                if family == sa_family_t(AF_INET6) {
                    let offset = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
                    out.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 16]))
                    Self.reduce(out)
                } else if family == sa_family_t(AF_INET) {
                    let offset = MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
                    Self.map(ipv4: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 4]), into: out)
                }
            }
        }
        high = bytes.0
        low = bytes.1
    }

    /// The address in ``HTTPRequest/remoteAddress``'s text for the peer: `1.2.3.4:5678` or
    /// `[2001:db8::1]:5678` (a bare host is taken too). Text that holds no IP address is all zeros, as a peer of
    /// another family is in ``init(_:)``.
    public init(remoteAddress: String) {
        var host = Substring(remoteAddress)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = host[..<colon]
        }
        let text = String(host)
        var bytes = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &bytes) { out in
            var v6 = in6_addr()
            var v4 = in_addr()
            if inet_pton(AF_INET6, text, &v6) == 1 {
                withUnsafeBytes(of: v6) { out.copyMemory(from: $0) }
                Self.reduce(out)
            } else if inet_pton(AF_INET, text, &v4) == 1 {
                withUnsafeBytes(of: v4) { Self.map(ipv4: $0, into: out) }
            }
        }
        high = bytes.0
        low = bytes.1
    }

    /// The IPv4 address of an IPv4-mapped one (`10.1.2.3`), else the /64 network (`2001:db8:1:2::/64`).
    public var description: String {
        let bytes = withUnsafeBytes(of: (high, low)) { Array($0) }
        if Self.isMapped(bytes) {
            return bytes[12...].map { String($0) }.joined(separator: ".")
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(cText: text) + "/64"
    }

    private static func isMapped<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool where Bytes.Index == Int {
        bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
    }

    /// Zeroes the host half of an IPv6 address in `out`, unless it is IPv4-mapped.
    private static func reduce(_ out: UnsafeMutableRawBufferPointer) {
        if !isMapped(UnsafeRawBufferPointer(out)) {
            for index in 8..<16 { out[index] = 0 }
        }
    }

    /// Writes the IPv4-mapped IPv6 form of the 4 bytes of `ipv4` to `out` (which is all zeros).
    private static func map(ipv4: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) {
        out[10] = 0xFF
        out[11] = 0xFF
        UnsafeMutableRawBufferPointer(rebasing: out[12..<16]).copyMemory(from: ipv4)
    }
}
