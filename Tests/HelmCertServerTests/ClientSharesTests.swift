import HTTPServer
import Testing
@testable import HelmCertServer

@Suite("Places shared by client address")
struct ClientSharesTests {
    @Test("places are bounded overall and per client, and given back")
    func bounds() {
        var shares = ClientShares(maxTotal: 3, maxPerClient: 2)
        let a = ClientAddress(remoteAddress: "10.0.0.1:1"), b = ClientAddress(remoteAddress: "10.0.0.2:1")
        #expect(shares.take(a) == nil)
        #expect(shares.take(a) == nil)
        #expect(shares.take(a) == .clientFull(a))
        #expect(shares.take(b) == nil)
        #expect(shares.take(b) == .full)
        #expect(shares.total == 3)
        shares.release(a)
        #expect(shares.taken(by: a) == 1)
        #expect(shares.take(b) == nil)
        #expect(shares.taken(by: b) == 2)
    }
}
