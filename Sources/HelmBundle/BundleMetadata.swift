import FoundationEssentials

/// The JSON metadata served for a bundle: what is in it and when it stops working. Never key material.
///
/// Shape (the API contract):
/// `{"certificates":{"ca.pem":{…},"cert.pem":{…}},"key":{"algorithm":"EC","bits":256,"matchesCertificate":true},"chainVerified":true,"notAfter":"2027-11-27T06:45:00Z"}`.
/// Dates encode as RFC 3339 UTC strings whatever the encoder's date strategy.
public struct BundleMetadata: Codable, Sendable, Equatable {
    /// `"ca.pem"` and `"cert.pem"`: the first certificate of each file.
    public var certificates: [String: CertificateInfo]
    /// The client key.
    public var key: KeyInfo
    /// Whether `cert.pem` verifies against `ca.pem` (signatures and chain; validity dates NOT checked).
    public var chainVerified: Bool
    /// The earliest `notAfter` of all certificates in `ca.pem` and `cert.pem`: when the bundle stops working.
    public var notAfter: Date

    /// - Parameters: one per property, see there.
    public init(certificates: [String: CertificateInfo], key: KeyInfo, chainVerified: Bool, notAfter: Date) {
        self.certificates = certificates
        self.key = key
        self.chainVerified = chainVerified
        self.notAfter = notAfter
    }

    private enum CodingKeys: String, CodingKey {
        case certificates, key, chainVerified, notAfter
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        certificates = try container.decode([String: CertificateInfo].self, forKey: .certificates)
        key = try container.decode(KeyInfo.self, forKey: .key)
        chainVerified = try container.decode(Bool.self, forKey: .chainVerified)
        notAfter = try container.decodeRFC3339(forKey: .notAfter)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(certificates, forKey: .certificates)
        try container.encode(key, forKey: .key)
        try container.encode(chainVerified, forKey: .chainVerified)
        try container.encodeRFC3339(notAfter, forKey: .notAfter)
    }
}
