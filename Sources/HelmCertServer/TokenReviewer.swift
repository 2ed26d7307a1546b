/// What authentication decided about a request's credentials.
public enum TokenDecision: Sendable, Equatable {
    case allowed(Caller)
    /// No `Authorization` header.
    case missing
    /// An `Authorization` header that is not `Bearer <token>`.
    case malformed
    /// More than one `Authorization` header → 400: which one counts would be a guess (a proxy may have added
    /// one), so neither does.
    case duplicateAuthorization
    /// A bearer token nobody vouches for → 401.
    case unknownToken
    /// Authenticated but not allowed to fetch the bundle → 403; `detail` names the missing permission.
    case forbidden(Caller, detail: String)
    /// The check could not be made (API down) → 503.
    case unavailable(String)
}

/// Checks bearer tokens that the static token file does not know, e.g. with Kubernetes TokenReview and
/// SubjectAccessReview (`--kube-auth`). Reviews run off the event loops.
public protocol TokenReviewer: Sendable {
    /// A recent decision for this token, if one is cached (called on an event loop: must not block).
    func cachedDecision(forToken token: Substring) -> TokenDecision?
    /// Decides about `token` on a thread of the reviewer's own and calls `completion` once, from any thread.
    /// - Parameters:
    ///   - token: the bearer token.
    ///   - remoteAddress: the peer that sent it (`1.2.3.4:5678`, `[::1]:5678`), whose share of the waiting
    ///     reviews it uses.
    ///   - hasLeft: whether the request's client has gone (its answer would be dropped): such a request may be
    ///     dropped from the queue, its completion called at once with an `unavailable` decision.
    ///   - completion: gets the decision.
    func review(
        token: String, from remoteAddress: String, hasLeft: @escaping @Sendable () -> Bool,
        completion: @escaping @Sendable (TokenDecision) -> Void)
}
