import FoundationEssentials

/// A personal client certificate just issued: the PEM to hand out, and what the audit ledger records.
public struct IssuedCertificate: Sendable, Equatable {
    /// The certificate, PEM (`-----BEGIN CERTIFICATE-----`), served as `cert.pem`.
    public let pem: [UInt8]
    /// Its subject, issuer, serial, validity and SHA-256 fingerprint, in the same forms as the bundle's metadata.
    public let info: CertificateInfo

    /// The serial number: 32 uppercase hex digits, no colons (as `openssl x509 -serial` prints it).
    public var serial: String { info.serial }
    /// The subject as RFC 2253 text, e.g. `CN=jane@example.com` (UTF-8 kept as it is).
    public var subject: String { info.subject }
    /// The start of the validity: the issuing time less a minute for clock skew.
    public var notBefore: Date { info.notBefore }
    /// The end of the validity.
    public var notAfter: Date { info.notAfter }
    /// The SHA-256 fingerprint of the DER certificate, uppercase hex with colons (`openssl x509 -fingerprint
    /// -sha256`).
    public var sha256: String { info.sha256 }
}
