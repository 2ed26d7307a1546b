import Testing
@testable import HelmCertServer

@Suite("Cached token decisions")
struct DecisionCacheTests {
    static let start = ContinuousClock.now
    static func key(_ n: Int) -> [UInt8] { withUnsafeBytes(of: n) { Array($0) } }
    static let allowed = TokenDecision.allowed(Caller(user: "ci", method: .kubernetes, groups: []))

    @Test("a decision is reused until its time to live has passed, then forgotten")
    func expiry() {
        var cache = DecisionCache(capacity: 4, timeToLive: .seconds(10))
        cache.store(.unknownToken, for: Self.key(1), now: Self.start)
        #expect(cache.decision(for: Self.key(1), now: Self.start + .seconds(9)) == .unknownToken)
        #expect(cache.decision(for: Self.key(1), now: Self.start + .seconds(10)) == nil)
        #expect(cache.count == 0)
    }

    @Test("when full, the oldest decision makes room and the count never passes the capacity")
    func capacity() {
        var cache = DecisionCache(capacity: 3, timeToLive: .seconds(60))
        for n in 0..<10 {
            cache.store(.unknownToken, for: Self.key(n), now: Self.start + .milliseconds(n))
            #expect(cache.count <= 3)
        }
        #expect(cache.decision(for: Self.key(6), now: Self.start) == nil)
        for n in 7..<10 { #expect(cache.decision(for: Self.key(n), now: Self.start) == .unknownToken) }
    }

    @Test("expired decisions are let go as new ones are stored, before the cache is full")
    func expiredAreDropped() {
        var cache = DecisionCache(capacity: 10, timeToLive: .seconds(10))
        cache.store(.unknownToken, for: Self.key(1), now: Self.start)
        cache.store(.unknownToken, for: Self.key(2), now: Self.start + .seconds(5))
        cache.store(.unknownToken, for: Self.key(3), now: Self.start + .seconds(11))
        #expect(cache.count == 2)
        #expect(cache.decision(for: Self.key(2), now: Self.start + .seconds(11)) == .unknownToken)
    }

    @Test("storing a key again renews it, and its outdated slot never evicts it later")
    func restore() {
        var cache = DecisionCache(capacity: 2, timeToLive: .seconds(10))
        cache.store(Self.allowed, for: Self.key(1), now: Self.start)
        cache.store(.unknownToken, for: Self.key(2), now: Self.start + .seconds(1))
        cache.store(Self.allowed, for: Self.key(1), now: Self.start + .seconds(2))
        cache.store(.unknownToken, for: Self.key(3), now: Self.start + .seconds(3))  // evicts 2, the oldest now
        #expect(cache.decision(for: Self.key(1), now: Self.start + .seconds(11)) == Self.allowed)
        #expect(cache.decision(for: Self.key(2), now: Self.start + .seconds(3)) == nil)
        #expect(cache.decision(for: Self.key(3), now: Self.start + .seconds(3)) == .unknownToken)
    }

    @Test("one key stored over and over keeps one decision and a bounded store order, and the cache stays usable")
    func manyRestores() {
        var cache = DecisionCache(capacity: 4, timeToLive: .seconds(60))
        cache.store(Self.allowed, for: Self.key(0), now: Self.start)   // stays current at the front of the order
        for n in 0..<10_000 {
            cache.store(.unknownToken, for: Self.key(1), now: Self.start + .milliseconds(n))
            #expect(cache.orderSlots <= 2 * 4 + 1)
        }
        #expect(cache.count == 2)
        for n in 2..<6 { cache.store(.unknownToken, for: Self.key(n), now: Self.start + .seconds(11)) }
        #expect(cache.count == 4)
        #expect(cache.decision(for: Self.key(0), now: Self.start + .seconds(11)) == nil, "the oldest made room")
        #expect(cache.decision(for: Self.key(1), now: Self.start + .seconds(11)) == nil, "then the next oldest")
    }
}
