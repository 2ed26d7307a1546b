import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Open connections, and those of them still in their TLS handshake, per client address across all loops, for
/// ``HTTPServerLimits/maxConnectionsPerClient`` and ``HTTPServerLimits/maxHandshakingConnectionsPerClient``.
///
/// Holds one entry per address with a connection open (so at most ``HTTPServerLimits/maxConnections``);
/// an address's entry goes when its last connection closes. One short lock per accept, handshake end and close.
final class ClientConnectionCounts: Sendable {
    /// What ``admit(_:handshaking:)`` decided.
    enum Admission: Equatable, Sendable {
        case admitted
        /// The address already has ``limit`` connections open.
        case tooManyConnections
        /// The address already has ``handshakeLimit`` connections in their TLS handshake.
        case tooManyHandshakes
    }

    private struct Count {
        var open = 0
        var handshaking = 0
    }

    /// The most connections one address may have open.
    let limit: Int
    /// The most connections one address may have in their TLS handshake at once.
    let handshakeLimit: Int
    private let counts = Mutex<[ClientAddress: Count]>([:])

    init(limit: Int, handshakeLimit: Int = .max) {
        self.limit = limit
        self.handshakeLimit = handshakeLimit
    }

    /// Counts one more connection from `address` (`handshaking`: it starts with a TLS handshake), unless the
    /// address is at a limit (then nothing is counted).
    func admit(_ address: ClientAddress, handshaking: Bool = false) -> Admission {
        counts.withLock { counts in
            var count = counts[address, default: Count()]
            guard count.open < limit else { return .tooManyConnections }
            if handshaking {
                guard count.handshaking < handshakeLimit else { return .tooManyHandshakes }
                count.handshaking += 1
            }
            count.open += 1
            counts[address] = count
            return .admitted
        }
    }

    /// A connection from `address` finished its TLS handshake.
    func handshakeEnded(_ address: ClientAddress) {
        counts.withLock { counts in
            guard var count = counts[address], count.handshaking > 0 else { return }
            count.handshaking -= 1
            counts[address] = count
        }
    }

    /// A connection from `address` closed (`handshaking`: still in its TLS handshake).
    func release(_ address: ClientAddress, handshaking: Bool = false) {
        counts.withLock { counts in
            guard var count = counts[address] else { return }
            if handshaking && count.handshaking > 0 { count.handshaking -= 1 }
            count.open -= 1
            counts[address] = count.open > 0 ? count : nil
        }
    }

    /// Connections open from `address`.
    func openConnections(from address: ClientAddress) -> Int { counts.withLock { $0[address]?.open ?? 0 } }

    /// Connections from `address` in their TLS handshake.
    func handshakingConnections(from address: ClientAddress) -> Int { counts.withLock { $0[address]?.handshaking ?? 0 } }

    /// Addresses with a connection open.
    var addressCount: Int { counts.withLock { $0.count } }
}
