import Glibc
import Testing

@testable import HTTPServer

@Suite("ClientConnectionCounts")
struct ClientConnectionCountsTests {
    /// The client address of `text` (an IPv4 or IPv6 literal), as accept4 reports it.
    func address(_ text: String) -> ClientAddress {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            if text.contains(":") {
                var v6 = sockaddr_in6()
                v6.sin6_family = sa_family_t(AF_INET6)
                inet_pton(AF_INET6, text, &v6.sin6_addr)
                withUnsafeBytes(of: v6) { raw.copyMemory(from: $0) }
            } else {
                var v4 = sockaddr_in()
                v4.sin_family = sa_family_t(AF_INET)
                inet_pton(AF_INET, text, &v4.sin_addr)
                withUnsafeBytes(of: v4) { raw.copyMemory(from: $0) }
            }
        }
        return ClientAddress(storage)
    }

    @Test("an address gets at most `limit` connections; a closed one frees its slot; others are counted apart")
    func capPerAddress() {
        let counts = ClientConnectionCounts(limit: 2)
        let a = address("10.0.0.1"), b = address("10.0.0.2")
        #expect(counts.admit(a) == .admitted && counts.admit(a) == .admitted)
        #expect(counts.admit(a) == .tooManyConnections)
        #expect(counts.openConnections(from: a) == 2)
        #expect(counts.admit(b) == .admitted)
        counts.release(a)
        #expect(counts.admit(a) == .admitted)
    }

    @Test("an address gets at most `handshakeLimit` connections in their handshake; a finished handshake or a close frees one")
    func handshakeSharePerAddress() {
        let counts = ClientConnectionCounts(limit: 10, handshakeLimit: 2)
        let a = address("10.0.0.1"), b = address("10.0.0.2")
        #expect(counts.admit(a, handshaking: true) == .admitted && counts.admit(a, handshaking: true) == .admitted)
        #expect(counts.admit(a, handshaking: true) == .tooManyHandshakes)
        #expect(counts.openConnections(from: a) == 2 && counts.handshakingConnections(from: a) == 2)
        #expect(counts.admit(b, handshaking: true) == .admitted)
        #expect(counts.admit(a) == .admitted)  // plain connections do not count as handshaking
        counts.handshakeEnded(a)
        #expect(counts.handshakingConnections(from: a) == 1 && counts.openConnections(from: a) == 3)
        #expect(counts.admit(a, handshaking: true) == .admitted)
        counts.release(a, handshaking: true)
        #expect(counts.handshakingConnections(from: a) == 1)
        #expect(counts.admit(a, handshaking: true) == .admitted)
        #expect(counts.admit(a, handshaking: true) == .tooManyHandshakes)
    }

    @Test("the server's share: 1/8 of maxHandshakingConnections per address, at least 1")
    func handshakeShareOfLimits() {
        #expect(HTTPServerLimits().maxHandshakingConnectionsPerClient == 128)
        #expect(HTTPServerLimits(maxHandshakingConnections: 16).maxHandshakingConnectionsPerClient == 2)
        #expect(HTTPServerLimits(maxHandshakingConnections: 2).maxHandshakingConnectionsPerClient == 1)
    }

    @Test("the table holds only addresses with a connection open")
    func tableIsBounded() {
        let counts = ClientConnectionCounts(limit: 256)
        for i in 1...100 { #expect(counts.admit(address("10.0.1.\(i)")) == .admitted) }
        #expect(counts.addressCount == 100)
        for i in 1...100 { counts.release(address("10.0.1.\(i)")) }
        #expect(counts.addressCount == 0)
        counts.release(address("10.0.1.1"))  // a stray release does not go negative or add an entry
        #expect(counts.addressCount == 0)
    }

    @Test("IPv4 and its IPv4-mapped IPv6 form are one client; IPv6 addresses of one /64 are one client, other /64s differ")
    func addressForms() {
        #expect(address("192.0.2.7") == address("::ffff:192.0.2.7"))
        #expect(address("192.0.2.7") != address("192.0.2.8"))
        #expect(address("::ffff:192.0.2.7") != address("::ffff:192.0.2.8"))
        #expect(address("2001:db8::1") == address("2001:db8::2"))
        #expect(address("2001:db8:0:0:ffff:ffff:ffff:ffff") == address("2001:db8::1"))
        #expect(address("2001:db8:0:1::1") != address("2001:db8::1"))
    }

    @Test("one /64 cannot get around the per-client cap by using a new IPv6 address for each connection")
    func ipv6NetworkSharesOneCap() {
        let counts = ClientConnectionCounts(limit: 2)
        #expect(counts.admit(address("2001:db8::1")) == .admitted)
        #expect(counts.admit(address("2001:db8::2")) == .admitted)
        #expect(counts.admit(address("2001:db8::3")) == .tooManyConnections)
        #expect(counts.admit(address("2001:db8:0:1::1")) == .admitted)
    }
}
