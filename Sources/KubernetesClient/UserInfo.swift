/// Who a token belongs to, as a TokenReview reports it and a SubjectAccessReview takes it
/// (`authentication.k8s.io/v1` `UserInfo`).
public struct UserInfo: Codable, Sendable, Equatable {
    /// e.g. `system:serviceaccount:ci:runner`.
    public var username: String?
    /// The user's unique id (a service account's uid).
    public var uid: String?
    /// e.g. `system:serviceaccounts`, `system:serviceaccounts:ci`, `system:authenticated`.
    public var groups: [String]?
    /// Further attributes the authenticator provides (e.g. `authentication.kubernetes.io/pod-name`).
    public var extra: [String: [String]]?

    /// Creates user information; every field may be absent, as in the API.
    public init(username: String? = nil, uid: String? = nil, groups: [String]? = nil, extra: [String: [String]]? = nil) {
        self.username = username
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }
}
