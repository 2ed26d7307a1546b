/// The resource a SubjectAccessReview asks about (`authorization.k8s.io/v1` `ResourceAttributes`).
public struct ResourceAttributes: Codable, Sendable, Equatable {
    /// The namespace of the resource; absent for cluster-scoped resources or "all namespaces".
    public var namespace: String?
    /// e.g. `get`, `list`, `create`.
    public var verb: String?
    /// The API group, e.g. `helm-cert-server.kyma-project.io` (empty for the core group).
    public var group: String?
    /// The resource (plural), e.g. `bundles`.
    public var resource: String?
    /// The subresource, e.g. `certificates` (RBAC grants it as `bundles/certificates`); absent for the resource
    /// itself.
    public var subresource: String?
    /// The resource's name; absent means "any name".
    public var name: String?

    /// Creates resource attributes; absent fields are left out of the request.
    public init(namespace: String? = nil, verb: String? = nil, group: String? = nil, resource: String? = nil,
                subresource: String? = nil, name: String? = nil) {
        self.namespace = namespace
        self.verb = verb
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.name = name
    }
}

/// The API server's authorisation decision from a SubjectAccessReview.
public struct SubjectAccessReviewResult: Sendable, Equatable {
    /// Whether the user may perform the action (absent on the wire = false).
    public var allowed: Bool
    /// True when an authorizer explicitly denied (no later authorizer was asked).
    public var denied: Bool?
    /// Why, e.g. `RBAC: allowed by RoleBinding "…"`; often absent when not allowed.
    public var reason: String?
    /// An authorizer's error while deciding (the decision may still be usable).
    public var evaluationError: String?

    /// Creates a result value.
    public init(allowed: Bool, denied: Bool? = nil, reason: String? = nil, evaluationError: String? = nil) {
        self.allowed = allowed
        self.denied = denied
        self.reason = reason
        self.evaluationError = evaluationError
    }
}

/// The SubjectAccessReview object on the wire: the request carries `spec`, the 201 answer also `status`.
struct SubjectAccessReview: Codable, Sendable {
    struct Spec: Codable, Sendable {
        var resourceAttributes: ResourceAttributes
        var user: String?
        var uid: String?
        var groups: [String]?
        var extra: [String: [String]]?
    }

    struct ReviewStatus: Codable, Sendable {
        var allowed: Bool?
        var denied: Bool?
        var reason: String?
        var evaluationError: String?
    }

    var apiVersion = "authorization.k8s.io/v1"
    var kind = "SubjectAccessReview"
    var spec: Spec
    var status: ReviewStatus?

    init(user: UserInfo, resource: ResourceAttributes) {
        spec = Spec(resourceAttributes: resource, user: user.username, uid: user.uid, groups: user.groups,
                    extra: user.extra)
    }

    /// The answer's status as a result (an answer without status is not allowed).
    var result: SubjectAccessReviewResult {
        SubjectAccessReviewResult(allowed: status?.allowed ?? false, denied: status?.denied,
                                  reason: status?.reason, evaluationError: status?.evaluationError)
    }
}
