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
    }

    /// The most entries kept unless told otherwise.
    public static let defaultCapacity = 10_000

    private struct State: Sendable {
        /// Sorted by `notAfter`, earliest first: pruning and dropping both take from the front.
        var entries: [Entry] = []
        var dropped = 0
    }

    /// The most entries kept.
    public let capacity: Int
    private let state = Mutex(State())

    /// - Parameter capacity: the most entries kept (at least 1).
    public init(capacity: Int = CertificateLedger.defaultCapacity) {
        self.capacity = max(1, capacity)
    }

    /// Adds an issued certificate. Prunes expired entries first; when the ledger is still full, drops the entry
    /// that expires first (which may be this one) and counts it.
    public func record(_ entry: Entry, now: Date = Date()) {
        state.withLock { state in
            Self.prune(&state, now: now)
            let position = state.entries.partitioningIndex { $0.notAfter > entry.notAfter }
            state.entries.insert(entry, at: position)
            if state.entries.count > capacity {
                state.entries.removeFirst()
                state.dropped += 1
            }
        }
    }

    /// The entries still valid at `now`, expiring first first, and how many were dropped.
    public func listing(now: Date = Date()) -> Listing {
        state.withLock { state in
            Self.prune(&state, now: now)
            return Listing(certificates: state.entries, dropped: state.dropped, capacity: capacity)
        }
    }

    /// Entries held now (expired ones not yet pruned included).
    public var count: Int { state.withLock { $0.entries.count } }

    private static func prune(_ state: inout State, now: Date) {
        let expired = state.entries.partitioningIndex { $0.notAfter > now }
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
