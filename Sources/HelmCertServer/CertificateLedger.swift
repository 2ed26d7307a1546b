import FoundationEssentials
import Synchronization

/// The personal certificates this replica issued since it started that are still valid: what
/// `GET /v1/bundles/NAME/certificates` lists, so an operator can answer "who holds a working certificate now".
///
/// Bounded: at most ``capacity`` entries (default ``defaultCapacity``, 10,000: about 3 MiB at the audit line's
/// field limits, far more than a team issues in a day). Expired entries are pruned whenever the ledger is
/// written or read. When it is full of valid entries, the one that expires first is dropped (it is the least
/// use to whoever looks for working certificates) and counted: the list answer says how many were dropped, so
/// a reader knows it may be incomplete. The audit log keeps every issued certificate regardless.
///
/// One user holds at most ``maxPerUser`` entries (default ``defaultMaxPerUser``, 100): beyond, that user's own entry
/// expiring first is dropped (counted as well), so one user issuing 10,000 certificates cannot flush everyone
/// else's entries out.
///
/// Each replica keeps its own ledger, emptied by a restart: the audit log is the record that lasts.
public final class CertificateLedger: Sendable {
    /// One issued certificate, as listed (never key material).
    public struct Entry: Sendable, Equatable, Codable {
        /// Who asked: the caller as audited, and the certificate's CN.
        public var user: String
        /// The serial number, uppercase hex as `openssl x509 -serial` prints it.
        public var serial: String
        /// The subject, RFC 2253 (`CN=alice`).
        public var subject: String
        public var notBefore: Date
        public var notAfter: Date
        /// Lowercase hex SHA-256 of the certificate's DER.
        public var sha256: String

        public init(user: String, serial: String, subject: String, notBefore: Date, notAfter: Date, sha256: String) {
            self.user = user
            self.serial = serial
            self.subject = subject
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.sha256 = sha256
        }
    }

    /// What the list route answers.
    public struct Listing: Sendable, Equatable {
        /// The valid entries, the one expiring first first.
        public var certificates: [Entry]
        /// How many still-valid entries were dropped since start because the ledger was full.
        public var dropped: Int
        /// The ledger's bound.
        public var capacity: Int
        /// Changes whenever the entries or `dropped` do: a listing with the same generation lists the same.
        public var generation: UInt64 = 0
    }

    /// Why ``record(_:now:)`` dropped a still-valid entry.
    public enum Drop: String, Sendable, CaseIterable {
        /// The ledger held ``capacity`` entries: the one expiring first went.
        case full
        /// The user held ``maxPerUser`` entries: their own one expiring first went.
        case userFull = "user_full"
    }

    /// The most entries kept unless told otherwise.
    public static let defaultCapacity = 10_000
    /// The most entries kept for one user unless told otherwise.
    public static let defaultMaxPerUser = 100

    private struct State: Sendable {
        /// Sorted by `notAfter`, earliest first: pruning and dropping both take from the front.
        var entries: [Entry] = []
        var dropped = 0
        /// Counts changes, so that an answer encoded from one listing can be reused until the next.
        var generation: UInt64 = 0
        /// Entries held, by user; a user with none has no entry (at most ``capacity`` keys).
        var byUser: [String: Int] = [:]

        mutating func remove(at index: Int) {
            forget(entries.remove(at: index).user)
        }

        /// One entry of `user` less.
        mutating func forget(_ user: String) {
            let held = byUser[user, default: 1]
            byUser[user] = held <= 1 ? nil : held - 1
        }
    }

    /// The most entries kept.
    public let capacity: Int
    /// The most entries kept for one user.
    public let maxPerUser: Int
    private let state = Mutex(State())

    /// - Parameters:
    ///   - capacity: the most entries kept (at least 1).
    ///   - maxPerUser: the most entries kept for one user (at least 1).
    public init(capacity: Int = CertificateLedger.defaultCapacity, maxPerUser: Int = CertificateLedger.defaultMaxPerUser) {
        self.capacity = max(1, capacity)
        self.maxPerUser = max(1, maxPerUser)
    }

    /// Adds an issued certificate. Prunes expired entries first; when its user then holds more than
    /// ``maxPerUser``, drops that user's entry expiring first (which may be this one); when the ledger is still
    /// over ``capacity``, drops the entry that expires first. Returns why an entry was dropped (each counted in
    /// the listing's `dropped`), nil when none was.
    @discardableResult
    public func record(_ entry: Entry, now: Date = Date()) -> Drop? {
        state.withLock { state in
            Self.prune(&state, now: now)
            state.generation &+= 1
            let position = state.entries.partitioningIndex { $0.notAfter > entry.notAfter }
            state.entries.insert(entry, at: position)
            state.byUser[entry.user, default: 0] += 1
            if state.byUser[entry.user, default: 0] > maxPerUser,
                let own = state.entries.firstIndex(where: { $0.user == entry.user })
            {
                state.remove(at: own)
                state.dropped += 1
                return .userFull
            }
            if state.entries.count > capacity {
                state.remove(at: 0)
                state.dropped += 1
                return .full
            }
            return nil
        }
    }

    /// The entries still valid at `now`, expiring first first, and how many were dropped.
    public func listing(now: Date = Date()) -> Listing {
        state.withLock { state in
            Self.prune(&state, now: now)
            return Listing(
                certificates: state.entries, dropped: state.dropped, capacity: capacity, generation: state.generation)
        }
    }

    /// Entries held now (expired ones not yet pruned included).
    public var count: Int { state.withLock { $0.entries.count } }

    private static func prune(_ state: inout State, now: Date) {
        let expired = state.entries.partitioningIndex { $0.notAfter > now }
        if expired > 0 { state.generation &+= 1 }
        for gone in state.entries[..<expired] { state.forget(gone.user) }
        state.entries.removeFirst(expired)
    }
}

extension Array {
    /// The first index whose element satisfies `isAfter`, for an array where every element satisfying it comes
    /// after every one that does not (binary search).
    func partitioningIndex(where isAfter: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if isAfter(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
