import FoundationEssentials

extension KubernetesClient {
    /// Asks the API server who `token` belongs to: `POST /apis/authentication.k8s.io/v1/tokenreviews` (201), sent
    /// with this client's own (service account) token, which needs the `system:auth-delegator` ClusterRole.
    /// The token under review is never logged, and never appears in a thrown error.
    /// - Parameters:
    ///   - token: the bearer token a caller presented.
    ///   - audiences: the audiences the token must be valid for; nil asks for the API server's own.
    /// - Returns: authenticated or not, the user, the server's error text, the audiences.
    /// - Throws: `.status` (403 when this client may not create TokenReviews, after one token re-read on 401),
    ///   `.transport`, `.decoding`, `.configuration`.
    public func reviewToken(_ token: String, audiences: [String]? = nil) throws(KubernetesError) -> TokenReviewResult {
        let request = TokenReview(token: token, audiences: audiences)
        do {
            let answer = try post(Self.tokenReviewsPath, request, what: "TokenReview")
            return answer.result
        } catch {
            throw error.redacting(token)
        }
    }

    /// Asks the API server whether `user` may act on `resource`:
    /// `POST /apis/authorization.k8s.io/v1/subjectaccessreviews` (201) with `spec.user`, `uid`, `groups`, `extra`
    /// and `resourceAttributes`. Needs the `system:auth-delegator` ClusterRole, like `reviewToken`.
    /// - Parameters:
    ///   - user: who (usually `reviewToken`'s user).
    ///   - resource: what, e.g. verb `get`, group `helm-cert-server.kyma-project.io`, resource `bundles`,
    ///     name `helm`, namespace `kyma-installer`.
    /// - Returns: allowed or not, with the server's reason.
    /// - Throws: `.status` (403 when this client may not create SubjectAccessReviews), `.transport`, `.decoding`,
    ///   `.configuration`.
    public func reviewAccess(user: UserInfo, resource: ResourceAttributes) throws(KubernetesError) -> SubjectAccessReviewResult {
        let request = SubjectAccessReview(user: user, resource: resource)
        return try post(Self.subjectAccessReviewsPath, request, what: "SubjectAccessReview").result
    }

    static let tokenReviewsPath = "/apis/authentication.k8s.io/v1/tokenreviews"
    static let subjectAccessReviewsPath = "/apis/authorization.k8s.io/v1/subjectaccessreviews"

    /// POSTs `object` as JSON and decodes the answer as the same type.
    private func post<T: Codable>(_ path: String, _ object: T, what: String) throws(KubernetesError) -> T {
        let body: [UInt8]
        do {
            body = Array(try JSONEncoder().encode(object))
        } catch {
            throw .decoding(.init(object: "\(what) request", problem: "could not be encoded: \(error)"))
        }
        let answer = try send(path: path, method: "POST", body: body)
        return try decode(T.self, from: answer, what: "\(what) answer")
    }
}

extension KubernetesError {
    /// The same error with every occurrence of `secret` replaced by `<redacted>`.
    func redacting(_ secret: String) -> KubernetesError {
        guard !secret.isEmpty else { return self }
        func scrub(_ text: String) -> String { text.replacing(secret, with: "<redacted>") }
        switch self {
        case .configuration(let problem): return .configuration(problem.mapText(scrub))
        case .transport(var failure):
            failure.request = scrub(failure.request)
            failure.message = scrub(failure.message)
            return .transport(failure)
        case .decoding(var failure):
            failure.object = scrub(failure.object)
            failure.field = failure.field.map(scrub)
            failure.problem = scrub(failure.problem)
            return .decoding(failure)
        case .status(var status):
            status.message = status.message.map(scrub)
            status.reason = status.reason.map(scrub)
            status.status = status.status.map(scrub)
            return .status(status)
        }
    }
}
