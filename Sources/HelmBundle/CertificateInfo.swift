import FoundationEssentials

/// What the service reports about one certificate (`ca.pem` or `cert.pem`): the first in its file.
///
/// Encodes its dates as RFC 3339 UTC strings (`"2027-11-27T06:45:00Z"`) whatever the encoder's date strategy.
public struct CertificateInfo: Codable, Sendable, Equatable {
    /// The subject as RFC 2253 text, e.g. `"CN=helm-client,O=kyma"`.
    public var subject: String
    /// The issuer as RFC 2253 text, e.g. `"CN=tiller-ca,O=kyma"`.
    public var issuer: String
    /// The serial number in hex, as `openssl x509 -serial` prints it (uppercase, no colons).
    public var serial: String
    /// The start of the validity period.
    public var notBefore: Date
    /// The end of the validity period.
    public var notAfter: Date
    /// The SHA-256 fingerprint, uppercase hex with colons, like `openssl x509 -fingerprint -sha256`.
    public var sha256: String

    /// - Parameters: one per property, see there.
    public init(subject: String, issuer: String, serial: String, notBefore: Date, notAfter: Date, sha256: String) {
        self.subject = subject
        self.issuer = issuer
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.sha256 = sha256
    }

    private enum CodingKeys: String, CodingKey {
        case subject, issuer, serial, notBefore, notAfter, sha256
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        subject = try container.decode(String.self, forKey: .subject)
        issuer = try container.decode(String.self, forKey: .issuer)
        serial = try container.decode(String.self, forKey: .serial)
        notBefore = try container.decodeRFC3339(forKey: .notBefore)
        notAfter = try container.decodeRFC3339(forKey: .notAfter)
        sha256 = try container.decode(String.self, forKey: .sha256)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subject, forKey: .subject)
        try container.encode(issuer, forKey: .issuer)
        try container.encode(serial, forKey: .serial)
        try container.encodeRFC3339(notBefore, forKey: .notBefore)
        try container.encodeRFC3339(notAfter, forKey: .notAfter)
        try container.encode(sha256, forKey: .sha256)
    }
}
