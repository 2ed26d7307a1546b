/// What a TokenReview (`authentication.k8s.io/v1`) found out about a bearer token.
public struct TokenReviewResult: Sendable, Equatable {
    /// Whether the API server recognised the token (absent on the wire = false).
    public var authenticated: Bool
    /// Who the token belongs to, when authenticated (the API sends `{}` otherwise).
    public var user: UserInfo?
    /// Why the token was not authenticated, e.g. `invalid bearer token`.
    public var error: String?
    /// The audiences the token is valid for that the review asked about (or the server's own).
    public var audiences: [String]?

    /// Creates a result value.
    public init(authenticated: Bool, user: UserInfo? = nil, error: String? = nil, audiences: [String]? = nil) {
        self.authenticated = authenticated
        self.user = user
        self.error = error
        self.audiences = audiences
    }
}

/// The TokenReview object on the wire: the request carries `spec`, the 201 answer also `status`.
struct TokenReview: Codable, Sendable {
    struct Spec: Codable, Sendable {
        var token: String?
        var audiences: [String]?
    }

    struct ReviewStatus: Codable, Sendable {
        var authenticated: Bool?
        var user: UserInfo?
        var error: String?
        var audiences: [String]?
    }

    var apiVersion = "authentication.k8s.io/v1"
    var kind = "TokenReview"
    var spec: Spec
    var status: ReviewStatus?

    init(token: String, audiences: [String]?) {
        spec = Spec(token: token, audiences: audiences)
    }

    /// The answer's status as a result (an answer without status is not authenticated).
    var result: TokenReviewResult {
        TokenReviewResult(authenticated: status?.authenticated ?? false, user: status?.user,
                          error: status?.error, audiences: status?.audiences)
    }
}
