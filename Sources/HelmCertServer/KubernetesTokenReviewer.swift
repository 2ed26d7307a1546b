import HelmBundle
import Dispatch
import FoundationEssentials
import KubernetesClient
import Logging
import Synchronization

/// `--kube-auth`: decides about bearer tokens the token file does not know by asking the Kubernetes API —
/// a TokenReview (who is this?) and then a SubjectAccessReview (may they `get` the virtual resource
/// `bundles.<group>` named after the bundle, in the server's namespace?).
///
/// - Decisions are cached by the token's SHA-256 (never the token itself): allowed for `allowedTTL`, refused for
///   the shorter `refusedTTL`, at most `capacity` entries (expired ones go first, then the oldest).
/// - Reviews run on a queue of their own, at most `concurrency` at a time; concurrent requests with the same
///   token share one review. With more than `maxPending` reviews waiting, new ones are refused as unavailable
///   (503) instead of queueing without bound behind a slow API server.
/// - API failures are not cached.
public final class KubernetesTokenReviewer: TokenReviewer {
    /// What a caller must be allowed, as RBAC sees it.
    public struct Permission: Sendable {
        public var namespace: String
        public var group: String
        public var resource: String = "bundles"
        public var name: String
        public var verb: String = "get"
        public init(namespace: String, group: String, name: String) {
            self.namespace = namespace
            self.group = group
            self.name = name
        }
    }

    private struct Entry: Sendable {
        var decision: TokenDecision
        var expires: ContinuousClock.Instant
        var inserted: UInt64
    }

    private struct State: Sendable {
        var cache: [[UInt8]: Entry] = [:]
        var waiting: [[UInt8]: [@Sendable (TokenDecision) -> Void]] = [:]
        var pending = 0
        var insertions: UInt64 = 0
    }

    private let client: KubernetesClient
    private let permission: Permission
    private let logger: Logger
    private let allowedTTL: Duration
    private let refusedTTL: Duration
    private let capacity: Int
    private let maxPending: Int
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "helm-cert-server.kube-auth", attributes: .concurrent)
    private let slots: DispatchSemaphore

    /// - Parameters:
    ///   - client: the API client, authenticated as the server's service account (which needs
    ///     `system:auth-delegator`).
    ///   - permission: what callers must be allowed.
    ///   - allowedTTL: how long an allowed decision is reused.
    ///   - refusedTTL: how long a refusal (unknown token, forbidden) is reused.
    ///   - capacity: the most cached decisions.
    ///   - concurrency: the most reviews in flight against the API at once.
    ///   - maxPending: the most reviews waiting or in flight before new ones are refused.
    public init(
        client: KubernetesClient, permission: Permission, logger: Logger, allowedTTL: Duration = .seconds(60),
        refusedTTL: Duration = .seconds(10), capacity: Int = 4096, concurrency: Int = 4, maxPending: Int = 256
    ) {
        self.client = client
        self.permission = permission
        self.logger = logger
        self.allowedTTL = allowedTTL
        self.refusedTTL = refusedTTL
        self.capacity = capacity
        self.maxPending = maxPending
        slots = DispatchSemaphore(value: concurrency)
    }

    public func cachedDecision(forToken token: Substring) -> TokenDecision? {
        let key = SHA256.digest(utf8: token)
        let now = ContinuousClock.now
        return state.withLock { state in
            guard let entry = state.cache[key] else { return nil }
            guard entry.expires > now else {
                state.cache[key] = nil
                return nil
            }
            return entry.decision
        }
    }

    public func review(token: String, completion: @escaping @Sendable (TokenDecision) -> Void) {
        let key = SHA256.digest(utf8: token)
        enum Plan { case start, joined, refuse }
        let plan = state.withLock { state -> Plan in
            if state.waiting[key] != nil {
                state.waiting[key]!.append(completion)
                return .joined
            }
            guard state.pending < maxPending else { return .refuse }
            state.pending += 1
            state.waiting[key] = [completion]
            return .start
        }
        switch plan {
        case .joined:
            return
        case .refuse:
            completion(.unavailable("too many Kubernetes token reviews are waiting; retry shortly"))
            return
        case .start:
            queue.async { [self] in
                slots.wait()
                let decision = decide(token)
                slots.signal()
                let waiters = state.withLock { state -> [@Sendable (TokenDecision) -> Void] in
                    state.pending -= 1
                    let waiters = state.waiting.removeValue(forKey: key) ?? []
                    if let ttl = ttl(for: decision) { store(decision, key: key, ttl: ttl, in: &state) }
                    return waiters
                }
                for waiter in waiters { waiter(decision) }
            }
        }
    }

    private func ttl(for decision: TokenDecision) -> Duration? {
        switch decision {
        case .allowed: allowedTTL
        case .unknownToken, .forbidden: refusedTTL
        case .unavailable, .missing, .malformed: nil
        }
    }

    private func store(_ decision: TokenDecision, key: [UInt8], ttl: Duration, in state: inout State) {
        let now = ContinuousClock.now
        if state.cache.count >= capacity {
            state.cache = state.cache.filter { $0.value.expires > now }
            if state.cache.count >= capacity, let oldest = state.cache.min(by: { $0.value.inserted < $1.value.inserted }) {
                state.cache[oldest.key] = nil
            }
        }
        state.insertions += 1
        state.cache[key] = Entry(decision: decision, expires: now + ttl, inserted: state.insertions)
    }

    /// TokenReview, then SubjectAccessReview. Runs on the review queue.
    func decide(_ token: String) -> TokenDecision {
        let review: TokenReviewResult
        do {
            review = try client.reviewToken(token)
        } catch {
            logger.error("TokenReview failed: \(error)")
            return .unavailable("cannot check the token with the Kubernetes API (TokenReview failed: \(error)); retry shortly")
        }
        guard review.authenticated, let user = review.user, let username = user.username else {
            return .unknownToken
        }
        let caller = Caller(user: username, method: "kubernetes", groups: user.groups ?? [])
        let attributes = ResourceAttributes(
            namespace: permission.namespace, verb: permission.verb, group: permission.group,
            resource: permission.resource, name: permission.name)
        let access: SubjectAccessReviewResult
        do {
            access = try client.reviewAccess(user: user, resource: attributes)
        } catch {
            logger.error("SubjectAccessReview failed: \(error)", metadata: ["user": "\(username)"])
            return .unavailable("cannot check permissions with the Kubernetes API (SubjectAccessReview failed: \(error)); retry shortly")
        }
        guard access.allowed else {
            var detail = "\(username) may not get \(permission.resource).\(permission.group) \"\(permission.name)\" in namespace \(permission.namespace): grant verb \"get\" on resource \"\(permission.resource)\" in API group \"\(permission.group)\" with resourceNames [\"\(permission.name)\"] through a Role in \(permission.namespace) and a RoleBinding to this user or one of its groups"
            if let reason = access.reason, !reason.isEmpty { detail += " (RBAC: \(reason))" }
            return .forbidden(caller, detail: detail)
        }
        return .allowed(caller)
    }
}
