import HelmBundle
import Dispatch
import FoundationEssentials
import HTTPServer
import KubernetesClient
import Logging
import Synchronization

/// `--kube-auth`: decides about bearer tokens the token file does not know by asking the Kubernetes API —
/// a TokenReview (who is this?) and then a SubjectAccessReview (may they do ``Permission``: `get` the virtual
/// resource `bundles.<group>` named after the bundle, in the server's namespace; for personal certificates,
/// `create` or `list` on its subresource `bundles/certificates`?). One reviewer per permission: its cache holds
/// decisions about that permission only.
///
/// - Decisions are cached by the token's SHA-256 (never the token itself), allowed and refused ones apart, each
///   bounded (``Limits``): allowed ones for `allowedTTL`, refusals for the shorter `refusedTTL`. A stream of
///   made-up tokens fills only the refusal cache, so it never evicts an allowed decision.
/// - Reviews run on a queue of their own, at most `concurrency` at a time; concurrent requests with the same
///   token share one review. At most `maxPending` requests wait for a review (their own or one they joined),
///   and at most `maxPendingPerClient` of them from one client address (``ClientAddress``), so one client cannot
///   take every place; beyond either, new requests are refused as unavailable (503) instead of queueing without
///   bound behind a slow API server.
/// - A waiting request whose client has left (its `hasLeft` says so) gives its place back when the places run
///   out, and is told ``clientLeft``; a review whose requests have all left is not sent to the API.
/// - API failures are not cached.
public final class KubernetesTokenReviewer: TokenReviewer {
    /// What a caller must be allowed, as RBAC sees it.
    public struct Permission: Sendable, Equatable {
        public var namespace: String
        public var group: String
        public var resource: String = "bundles"
        /// A subresource of ``resource`` (`certificates`: RBAC grants `bundles/certificates`), or nil.
        public var subresource: String? = nil
        public var name: String
        public var verb: String = "get"
        public init(namespace: String, group: String, name: String, verb: String = "get", subresource: String? = nil) {
            self.namespace = namespace
            self.group = group
            self.name = name
            self.verb = verb
            self.subresource = subresource
        }

        /// The resource as an RBAC rule names it: `bundles`, or `bundles/certificates`.
        public var rbacResource: String { subresource.map { "\(resource)/\($0)" } ?? resource }
    }

    /// How much the reviewer keeps and lets wait.
    public struct Limits: Sendable {
        /// How long an allowed decision is reused (default 60 s).
        public var allowedTTL: Duration = .seconds(60)
        /// How long a refusal (unknown token, forbidden) is reused (default 10 s).
        public var refusedTTL: Duration = .seconds(10)
        /// The most allowed decisions cached (default 1024).
        public var allowedCapacity = 1024
        /// The most refusals cached (default 4096).
        public var refusedCapacity = 4096
        /// The most reviews in flight against the API at once (default 4).
        public var concurrency = 4
        /// The most requests waiting for a review, in flight or queued, joined ones included (default 256).
        public var maxPending = 256
        /// The most of those from one client address (default 16).
        public var maxPendingPerClient = 16

        public init() {}
    }

    /// A request waiting for a review: whose share it uses, whether it is still wanted, and where its decision
    /// goes.
    private struct Waiter: Sendable {
        let client: ClientAddress
        let hasLeft: @Sendable () -> Bool
        let completion: @Sendable (TokenDecision) -> Void
    }

    /// The requests waiting for one token's review. `id` tells a review queued for an entry that was dropped
    /// (all its waiters left) from a newer entry for the same token.
    private struct Review: Sendable {
        let id: UInt64
        var waiters: [Waiter]
    }

    private struct State: Sendable {
        var allowed: DecisionCache
        var refused: DecisionCache
        var waiting: [[UInt8]: Review] = [:]
        var nextID: UInt64 = 0
        /// Requests waiting (for a review of their own or one they joined): at most `maxPending`, and
        /// `maxPendingPerClient` by client address.
        var pending: ClientShares

        mutating func release(_ waiter: Waiter) { pending.release(waiter.client) }

        /// Removes the waiters whose client has left, giving their places back; a review left with no waiter is
        /// dropped (not asked, if it has not started). Returns the removed waiters, to be told outside the lock.
        mutating func dropLeft(from key: [UInt8]) -> [Waiter] {
            guard var review = waiting[key] else { return [] }
            var left: [Waiter] = []
            review.waiters.removeAll { waiter in
                guard waiter.hasLeft() else { return false }
                left.append(waiter)
                return true
            }
            for waiter in left { release(waiter) }
            waiting[key] = review.waiters.isEmpty ? nil : review
            return left
        }

        mutating func dropLeft() -> [Waiter] {
            Array(waiting.keys).flatMap { dropLeft(from: $0) }
        }
    }

    /// What a waiter whose client left is told (its request is audited as the client having gone).
    static let clientLeft = TokenDecision.unavailable("the client left before its token was reviewed")

    private let client: KubernetesClient
    private let permission: Permission
    private let audiences: [String]
    private let logger: Logger
    private let limits: Limits
    private let state: Mutex<State>
    private let queue = DispatchQueue(label: "helm-cert-server.kube-auth", attributes: .concurrent)
    private let slots: DispatchSemaphore

    /// - Parameters:
    ///   - client: the API client, authenticated as the server's service account (which needs
    ///     `system:auth-delegator`).
    ///   - permission: what callers must be allowed.
    ///   - audiences: the audiences a token must have been minted for (TokenReview `spec.audiences`,
    ///     `--kube-auth-audience`); empty accepts tokens for the API server's own audience, which every pod's
    ///     default token has, so a token lent to any other service would work here too.
    ///   - logger: where API failures are logged (never a token).
    ///   - limits: cache sizes and lifetimes, concurrency and queue shares.
    public init(
        client: KubernetesClient, permission: Permission, audiences: [String] = [], logger: Logger,
        limits: Limits = Limits()
    ) {
        self.client = client
        self.permission = permission
        self.audiences = audiences
        self.logger = logger
        self.limits = limits
        state = Mutex(State(
            allowed: DecisionCache(capacity: limits.allowedCapacity, timeToLive: limits.allowedTTL),
            refused: DecisionCache(capacity: limits.refusedCapacity, timeToLive: limits.refusedTTL),
            pending: ClientShares(maxTotal: limits.maxPending, maxPerClient: limits.maxPendingPerClient)))
        slots = DispatchSemaphore(value: limits.concurrency)
    }

    public func cachedDecision(forToken token: Substring) -> TokenDecision? {
        let key = SHA256.digest(utf8: token)
        let now = ContinuousClock.now
        return state.withLock { state in
            state.allowed.decision(for: key, now: now) ?? state.refused.decision(for: key, now: now)
        }
    }

    public func review(
        token: String, from remoteAddress: String, hasLeft: @escaping @Sendable () -> Bool,
        completion: @escaping @Sendable (TokenDecision) -> Void
    ) {
        let key = SHA256.digest(utf8: token)
        let waiter = Waiter(client: ClientAddress(remoteAddress: remoteAddress), hasLeft: hasLeft, completion: completion)
        enum Plan { case start(UInt64), joined, refuse(String) }
        let (plan, left) = state.withLock { state -> (Plan, [Waiter]) in
            var left: [Waiter] = []
            if state.pending.refusal(for: waiter.client) != nil {
                // Full: first give back the places of requests whose clients have gone.
                left = state.dropLeft()
            }
            switch state.pending.take(waiter.client) {
            case .full:
                return (.refuse("too many Kubernetes token reviews are waiting; retry shortly"), left)
            case .clientFull(let client):
                return (.refuse("too many Kubernetes token reviews from \(client) are waiting; retry shortly"), left)
            case nil:
                break
            }
            if state.waiting[key] != nil {
                state.waiting[key]!.waiters.append(waiter)
                return (.joined, left)
            }
            state.nextID += 1
            state.waiting[key] = Review(id: state.nextID, waiters: [waiter])
            return (.start(state.nextID), left)
        }
        for gone in left { gone.completion(Self.clientLeft) }
        switch plan {
        case .joined:
            return
        case .refuse(let reason):
            completion(.unavailable(reason))
            return
        case .start(let id):
            queue.async { [self] in
                slots.wait()
                defer { slots.signal() }
                // Nobody waits any more (every client left): the API is not asked.
                let (wanted, gone) = state.withLock { state -> (Bool, [Waiter]) in
                    let gone = state.dropLeft(from: key)
                    return (state.waiting[key]?.id == id, gone)
                }
                for waiter in gone { waiter.completion(Self.clientLeft) }
                guard wanted else { return }
                let decision = decide(token)
                let now = ContinuousClock.now
                let waiters = state.withLock { state -> [Waiter] in
                    switch decision {
                    case .allowed: state.allowed.store(decision, for: key, now: now)
                    case .unknownToken, .forbidden: state.refused.store(decision, for: key, now: now)
                    case .unavailable, .missing, .malformed, .duplicateAuthorization: break  // API failures are asked again next time
                    }
                    guard state.waiting[key]?.id == id, let review = state.waiting.removeValue(forKey: key) else { return [] }
                    for waiter in review.waiters { state.release(waiter) }
                    return review.waiters
                }
                for waiter in waiters { waiter.completion(decision) }
            }
        }
    }

    /// The two API calls a decision makes, each followed apart.
    private enum Call: String, Sendable { case tokenReview = "TokenReview", accessReview = "SubjectAccessReview" }

    /// Whether each call failed last time: while one fails, one error line starts the episode and one line ends
    /// it, however many requests come meanwhile (each new made-up token would otherwise log a line).
    private let failing = Mutex<Set<Call>>([])

    private func failed(_ call: Call, _ error: any Error, metadata: Logger.Metadata? = nil) {
        guard failing.withLock({ $0.insert(call).inserted }) else { return }
        logger.error("\(call.rawValue) failed: \(error) (further failures are not logged until one succeeds)", metadata: metadata)
    }

    private func succeeded(_ call: Call) {
        guard failing.withLock({ $0.remove(call) != nil }) else { return }
        logger.notice("\(call.rawValue) works again")
    }

    /// TokenReview, then SubjectAccessReview. Runs on the review queue.
    func decide(_ token: String) -> TokenDecision {
        let review: TokenReviewResult
        do {
            review = try client.reviewToken(token, audiences: audiences.isEmpty ? nil : audiences)
        } catch {
            failed(.tokenReview, error)
            return .unavailable("cannot check the token with the Kubernetes API (TokenReview failed: \(error)); retry shortly")
        }
        succeeded(.tokenReview)
        guard review.authenticated, let user = review.user, let username = user.username else {
            return .unknownToken
        }
        // An authenticator that ignores spec.audiences answers without status.audiences: the token may have been
        // minted for anyone, so it is not taken (as the TokenReview API's documentation asks of its clients).
        if !audiences.isEmpty && !(review.audiences ?? []).contains(where: audiences.contains) {
            logger.warning(
                "TokenReview authenticated a token without any of the audiences asked for; refusing it (is the API server's authenticator audience-aware?)",
                metadata: ["user": "\(username)", "asked": "\(audiences)", "answered": "\(review.audiences ?? [])"])
            return .unknownToken
        }
        let caller = Caller(user: username, method: .kubernetes, groups: user.groups ?? [])
        let attributes = ResourceAttributes(
            namespace: permission.namespace, verb: permission.verb, group: permission.group,
            resource: permission.resource, subresource: permission.subresource, name: permission.name)
        let access: SubjectAccessReviewResult
        do {
            access = try client.reviewAccess(user: user, resource: attributes)
        } catch {
            failed(.accessReview, error, metadata: ["user": "\(username)"])
            return .unavailable("cannot check permissions with the Kubernetes API (SubjectAccessReview failed: \(error)); retry shortly")
        }
        succeeded(.accessReview)
        guard access.allowed else {
            var detail = "\(username) may not \(permission.verb) \(permission.rbacResource).\(permission.group) \"\(permission.name)\" in namespace \(permission.namespace): grant verb \"\(permission.verb)\" on resource \"\(permission.rbacResource)\" in API group \"\(permission.group)\" with resourceNames [\"\(permission.name)\"] through a Role in \(permission.namespace) and a RoleBinding to this user or one of its groups"
            if let reason = access.reason, !reason.isEmpty { detail += " (RBAC: \(reason))" }
            return .forbidden(caller, detail: detail)
        }
        return .allowed(caller)
    }
}
