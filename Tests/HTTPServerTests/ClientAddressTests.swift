import Testing
@testable import HTTPServer

@Suite("Client addresses for the per-client caps and the review queue's shares")
struct ClientAddressTests {
    @Test("the port is dropped; IPv6 is reduced to its /64; IPv4-mapped IPv6 is its IPv4 address", arguments: [
        ("10.1.2.3:40000", "10.1.2.3"),
        ("[2001:db8:1:2:aaaa::1]:443", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2:ffff:1:2:3]:5", "2001:db8:1:2::/64"),
        ("[::ffff:10.1.2.3]:40000", "10.1.2.3"),
        ("[::1]:1", "::/64"),
        ("not an address", "::/64"),
    ])
    func shareKey(remote: String, expected: String) {
        #expect(ClientAddress(remoteAddress: remote).description == expected)
    }

    @Test("two ports of one host share; two hosts do not; IPv4 and its IPv4-mapped form are one client")
    func sharing() {
        #expect(ClientAddress(remoteAddress: "10.0.0.1:1") == ClientAddress(remoteAddress: "10.0.0.1:2"))
        #expect(ClientAddress(remoteAddress: "10.0.0.1:1") != ClientAddress(remoteAddress: "10.0.0.2:1"))
        #expect(ClientAddress(remoteAddress: "[::ffff:10.0.0.1]:1") == ClientAddress(remoteAddress: "10.0.0.1:2"))
        #expect(ClientAddress(remoteAddress: "[2001:db8::1]:1") == ClientAddress(remoteAddress: "[2001:db8::2]:2"))
    }
}
