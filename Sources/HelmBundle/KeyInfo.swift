/// What the service reports about the client private key (never the key itself).
public struct KeyInfo: Codable, Sendable, Equatable {
    /// `"RSA"`, `"EC"` or `"Ed25519"` (other types by OpenSSL's short name).
    public var algorithm: String
    /// The key size in bits as OpenSSL 3 counts it: RSA modulus, EC field size, 256 for Ed25519.
    public var bits: Int
    /// Whether the key is the private half of `cert.pem`'s public key (always `true` in a `ValidatedBundle`).
    public var matchesCertificate: Bool

    /// - Parameters: one per property, see there.
    public init(algorithm: String, bits: Int, matchesCertificate: Bool) {
        self.algorithm = algorithm
        self.bits = bits
        self.matchesCertificate = matchesCertificate
    }
}
