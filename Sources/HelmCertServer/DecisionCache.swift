/// Token decisions of one kind (allowed, or refused), each kept for one fixed time, at most `capacity` of them.
///
/// With one time-to-live for every entry, the order entries were stored in is the order they expire in: the
/// oldest is both the first to go stale and the one evicted when the cache is full, so neither needs a search.
/// Keys are the tokens' SHA-256 digests, never the tokens.
struct DecisionCache: Sendable {
    private struct Entry: Sendable {
        var decision: TokenDecision
        var expires: ContinuousClock.Instant
        /// Which store this is, to tell it from an older slot of the same key in `order`.
        var serial: UInt64
    }

    /// The most decisions kept.
    let capacity: Int
    /// How long a decision is reused.
    let timeToLive: Duration
    private var entries: [[UInt8]: Entry] = [:]
    /// Keys in the order they were stored, oldest from `head` on; a key stored again leaves an outdated slot
    /// behind (its serial no longer matches), dropped when it reaches the front or when outdated slots would
    /// outnumber `capacity`: at most 2 × `capacity` + 1 slots.
    private var order: [(key: [UInt8], serial: UInt64)] = []
    private var head = 0
    private var serials: UInt64 = 0

    /// - Parameters:
    ///   - capacity: the most decisions kept (at least 1).
    ///   - timeToLive: how long each is reused.
    init(capacity: Int, timeToLive: Duration) {
        self.capacity = max(1, capacity)
        self.timeToLive = timeToLive
    }

    /// How many decisions are kept now (stale ones not yet dropped included).
    var count: Int { entries.count }

    /// How many slots the store order holds, outdated ones included (at most 2 × `capacity` + 1).
    var orderSlots: Int { order.count - head }

    /// The decision stored for `key`, unless it has expired by `now`.
    mutating func decision(for key: [UInt8], now: ContinuousClock.Instant) -> TokenDecision? {
        guard let entry = entries[key] else { return nil }
        guard entry.expires > now else {
            entries[key] = nil
            return nil
        }
        return entry.decision
    }

    /// Keeps `decision` for `key` until `now + timeToLive`, first dropping expired decisions and, when full, the
    /// oldest.
    mutating func store(_ decision: TokenDecision, for key: [UInt8], now: ContinuousClock.Instant) {
        while let oldest = front(), entries[oldest.key]!.expires <= now || entries.count >= capacity && entries[key] == nil {
            entries[oldest.key] = nil
            head += 1
        }
        serials += 1
        entries[key] = Entry(decision: decision, expires: now + timeToLive, serial: serials)
        order.append((key, serials))
        if order.count - head > 2 * capacity {
            // Outdated slots of keys stored again: at most `capacity` current ones and as many outdated remain.
            order = order[head...].filter { entries[$0.key]?.serial == $0.serial }
            head = 0
        } else if head > order.count / 2 && head > 64 {
            order.removeFirst(head)
            head = 0
        }
    }

    /// The oldest slot that is still current, after dropping outdated ones.
    private mutating func front() -> (key: [UInt8], serial: UInt64)? {
        while head < order.count {
            let slot = order[head]
            if entries[slot.key]?.serial == slot.serial { return slot }
            head += 1
        }
        return nil
    }
}
