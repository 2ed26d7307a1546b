import FoundationEssentials

/// Why a personal client certificate could not be issued (the request itself was fine).
public enum ClientCertificateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The caller's identity is empty.
    case emptyCommonName
    /// The caller's identity has more than ``CertificateAuthority/maximumCommonNameLength`` characters
    /// (carries how many), more than X.520's upper bound for a common name.
    case commonNameTooLong(characters: Int)
    /// The caller's identity has a control character (U+0000–U+001F, U+007F–U+009F).
    case commonNameHasControlCharacters
    /// The caller's identity has an invisible character (carries the first, as `U+202E`): a format character
    /// (Unicode category Cf: bidirectional overrides, zero-width spaces and joiners) or a line or paragraph
    /// separator (Zl, Zp). `al\u{200B}ice` would read as "alice" in every log, list and certificate viewer.
    case commonNameHasInvisibleCharacters(String)
    /// The requested lifetime is under one second.
    case nonPositiveTTL
    /// The CA expired at `notAfter`: nothing it signs would verify.
    case authorityExpired(notAfter: Date)
    /// OpenSSL failed while building or signing the certificate.
    case openSSL(OpenSSLError)

    public var description: String {
        switch self {
        case .emptyCommonName:
            "The caller has an empty identity, which cannot be a certificate's common name; sign in as a named user."
        case .commonNameTooLong(let characters):
            "The caller's identity has \(characters) characters; a certificate's common name has at most \(CertificateAuthority.maximumCommonNameLength) (X.520 ub-common-name), so no personal certificate can name it. Use a shorter user name."
        case .commonNameHasControlCharacters:
            "The caller's identity contains control characters, which no certificate's common name should carry; use a user name without them."
        case .commonNameHasInvisibleCharacters(let scalar):
            "The caller's identity contains the invisible character \(scalar) (a format character or a line or paragraph separator), which would make the certificate's common name read as another name; use a user name without it."
        case .nonPositiveTTL:
            "A certificate's lifetime must be at least one second; ask for e.g. ttl=8h."
        case .authorityExpired(let notAfter):
            "The issuing CA expired at \(RFC3339.string(from: notAfter)); renew the CA (issuer secret and ca.pem) before issuing certificates."
        case .openSSL(let error):
            "Issuing the certificate failed inside OpenSSL: \(error)."
        }
    }
}
