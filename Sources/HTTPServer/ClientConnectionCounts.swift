import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A client's IP address (any port), as the per-client connection cap counts it. IPv4 addresses are kept
/// in their IPv4-mapped IPv6 form (`::ffff:a.b.c.d`), so one client counts the same on an IPv4 and a dual-stack
/// listener.
struct ClientAddress: Hashable, Sendable {
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
                } else if family == sa_family_t(AF_INET) {
                    let offset = MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
                    out[10] = 0xFF
                    out[11] = 0xFF
                    UnsafeMutableRawBufferPointer(rebasing: out[12..<16])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 4]))
                }
            }
        }
        high = bytes.0
        low = bytes.1
    }
}

/// Open connections per client address across all loops, for ``HTTPServerLimits/maxConnectionsPerClient``.
///
/// Holds one entry per address with a connection open (so at most ``HTTPServerLimits/maxConnections``);
/// an address's entry goes when its last connection closes. One short lock per accept and per close.
final class ClientConnectionCounts: Sendable {
    /// The most connections one address may have open.
    let limit: Int
    private let counts = Mutex<[ClientAddress: Int]>([:])

    init(limit: Int) { self.limit = limit }

    /// Counts one more connection from `address`; false (and nothing counted) when it already has `limit`.
    func admit(_ address: ClientAddress) -> Bool {
        counts.withLock { counts in
            let open = counts[address, default: 0]
            guard open < limit else { return false }
            counts[address] = open + 1
            return true
        }
    }

    /// A connection from `address` closed.
    func release(_ address: ClientAddress) {
        counts.withLock { counts in
            guard let open = counts[address] else { return }
            counts[address] = open > 1 ? open - 1 : nil
        }
    }

    /// Connections open from `address`.
    func openConnections(from address: ClientAddress) -> Int { counts.withLock { $0[address, default: 0] } }

    /// Addresses with a connection open.
    var addressCount: Int { counts.withLock { $0.count } }
}
