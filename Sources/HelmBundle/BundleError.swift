/// Why a Helm TLS bundle could not be decoded or validated.
///
/// Names the secret key (or file) that was wrong, never its bytes, and says what to do about it.
/// Safe to log.
public struct BundleError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The secret key (or mounted file name) that was wrong, e.g. `"global.helm.tls.key"`;
    /// `nil` when the problem is not tied to one key.
    public var key: String?
    /// What is wrong and what to do, e.g. `"is not valid base64; re-create the secret …"`.
    public var reason: String

    /// - Parameters:
    ///   - key: the secret key that was wrong, or `nil`.
    ///   - reason: what is wrong and what to do; never include key material.
    public init(key: String?, reason: String) {
        self.key = key
        self.reason = reason
    }

    /// `"<key> <reason>"`, or just the reason when no key is named.
    public var description: String {
        guard let key else { return reason }
        return "\(key) \(reason)"
    }
}
