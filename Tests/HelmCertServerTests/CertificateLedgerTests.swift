import FoundationEssentials
import Testing
@testable import HelmCertServer

@Suite("The ledger of issued certificates")
struct CertificateLedgerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func entry(_ n: Int, expiresIn seconds: TimeInterval) -> CertificateLedger.Entry {
        .init(
            user: "user\(n)", serial: "SERIAL\(n)", subject: "CN=user\(n)", notBefore: start - 60,
            notAfter: start + seconds, sha256: "sha\(n)")
    }

    @Test("lists the valid certificates, the one expiring first first")
    func order() {
        let ledger = CertificateLedger()
        ledger.record(Self.entry(1, expiresIn: 300), now: Self.start)
        ledger.record(Self.entry(2, expiresIn: 100), now: Self.start)
        ledger.record(Self.entry(3, expiresIn: 200), now: Self.start)
        let listing = ledger.listing(now: Self.start)
        #expect(listing.certificates.map(\.user) == ["user2", "user3", "user1"])
        #expect(listing.dropped == 0)
    }

    @Test("expired certificates are pruned, from the list and from memory")
    func pruning() {
        let ledger = CertificateLedger()
        ledger.record(Self.entry(1, expiresIn: 100), now: Self.start)
        ledger.record(Self.entry(2, expiresIn: 200), now: Self.start)
        #expect(ledger.listing(now: Self.start + 100).certificates.map(\.user) == ["user2"])
        #expect(ledger.count == 1)
        ledger.record(Self.entry(3, expiresIn: 1000), now: Self.start + 300)
        #expect(ledger.count == 1)
    }

    @Test("when full, the entry that expires first is dropped and counted; the bound holds")
    func bound() {
        let ledger = CertificateLedger(capacity: 3)
        for n in 0..<10 {
            ledger.record(Self.entry(n, expiresIn: TimeInterval(1000 - n)), now: Self.start)
            #expect(ledger.count <= 3)
        }
        let listing = ledger.listing(now: Self.start)
        // Later entries expire sooner here: each new one is the first to go once the ledger is full.
        #expect(listing.certificates.map(\.user) == ["user2", "user1", "user0"])
        #expect(listing.dropped == 7)
        #expect(listing.capacity == 3)
    }

    @Test("a full ledger makes room from its expired entries before dropping a valid one")
    func expiredMakeRoom() {
        let ledger = CertificateLedger(capacity: 2)
        ledger.record(Self.entry(1, expiresIn: 10), now: Self.start)
        ledger.record(Self.entry(2, expiresIn: 500), now: Self.start)
        ledger.record(Self.entry(3, expiresIn: 500), now: Self.start + 20)
        #expect(ledger.listing(now: Self.start + 20).dropped == 0)
        #expect(ledger.count == 2)
    }

    @Test("one user's flood drops only that user's own entries, expiring first first; others keep theirs")
    func perUserBound() {
        let ledger = CertificateLedger(capacity: 1000, maxPerUser: 5)
        ledger.record(Self.entry(1, expiresIn: 100), now: Self.start)
        ledger.record(Self.entry(2, expiresIn: 200), now: Self.start)
        var drops: [CertificateLedger.Drop?] = []
        for n in 0..<1000 {
            let flood = CertificateLedger.Entry(
                user: "mallory", serial: "M\(n)", subject: "CN=mallory", notBefore: Self.start - 60,
                notAfter: Self.start + 300 + TimeInterval(n), sha256: "m\(n)")
            drops.append(ledger.record(flood, now: Self.start))
        }
        let listing = ledger.listing(now: Self.start)
        #expect(listing.certificates.filter { $0.user == "mallory" }.map(\.serial) == ["M995", "M996", "M997", "M998", "M999"])
        #expect(listing.certificates.prefix(2).map(\.user) == ["user1", "user2"], "the others are all still there")
        #expect(listing.dropped == 995)
        #expect(drops.compactMap { $0 } == Array(repeating: .userFull, count: 995))
        #expect(ledger.count == 7)
    }

    @Test("a user's share comes back as their entries expire")
    func perUserPruned() {
        let ledger = CertificateLedger(capacity: 10, maxPerUser: 1)
        #expect(ledger.record(Self.entry(1, expiresIn: 10), now: Self.start) == nil)
        #expect(ledger.record(Self.entry(1, expiresIn: 100), now: Self.start + 20) == nil, "the expired one no longer counts")
        #expect(ledger.record(Self.entry(1, expiresIn: 200), now: Self.start + 20) == .userFull)
        #expect(ledger.listing(now: Self.start + 20).certificates.map(\.notAfter) == [Self.start + 200])
    }
}
