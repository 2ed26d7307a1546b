/// The API's `Status` object, which it sends for every failed request (and inside watch `ERROR` events).
public struct Status: Codable, Sendable, Error, Equatable {
    /// `Failure` or `Success`.
    public var status: String?
    /// Human-readable description, e.g. `secrets "helm-secret" not found`.
    public var message: String?
    /// Machine-readable reason: `NotFound`, `Forbidden`, `Unauthorized`, `Expired`, `Gone`, …
    public var reason: String?
    /// The HTTP status code it stands for (404, 403, 401, 410, 503, …).
    public var code: Int?

    /// Creates a status value.
    public init(status: String? = nil, message: String? = nil, reason: String? = nil, code: Int? = nil) {
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
    }
}
