import FoundationEssentials

/// Why the issuer Secret cannot be used to issue personal client certificates. Names the Secret key that was
/// wrong (never its bytes) and says what to do. Safe to log.
public enum CertificateAuthorityError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Neither `ca.key` nor `tls.key` is in the Secret.
    case noKeyPair
    /// `key` is missing, though the private key of its pair (`pairedWith`) is there.
    case missing(key: String, pairedWith: String)
    /// `key` holds no PEM block of the kind it must (`expected`: "certificate" or "private key").
    case notPEM(key: String, expected: String)
    /// `key` holds an encrypted private key; the service has no passphrase.
    case encryptedKey(key: String)
    /// `key` has the right PEM block but OpenSSL cannot parse it; `detail` says why and what to do.
    case unreadable(key: String, detail: String)
    /// The certificate in `key` is not a CA: basicConstraints is missing or says CA:FALSE.
    case notCertificateAuthority(key: String)
    /// The certificate in `key` has a keyUsage without keyCertSign, so its signatures on certificates are invalid.
    case cannotSignCertificates(key: String)
    /// The private key in `key` is of a kind that cannot sign with SHA-256 here (only RSA and ECDSA can);
    /// `type` is OpenSSL's name for it.
    case unsupportedKeyType(key: String, type: String)
    /// The private key in `privateKey` is not the one for the certificate in `certificate`.
    case keyMismatch(certificate: String, privateKey: String)
    /// The certificate in `key` (subject `subject`) is not among `ca.pem`'s certificates (`bundleSubjects`),
    /// so Tiller would not accept what it signs.
    case notBundleCA(key: String, subject: String, bundleSubjects: [String])
    /// The certificate in `key` expired at `notAfter`.
    case expired(key: String, notAfter: Date)
    /// The certificate in `key` has no subjectKeyIdentifier, which every certificate it signs names (as its
    /// authorityKeyIdentifier).
    case noSubjectKeyIdentifier(key: String)
    /// A trial signature at load failed (`detail`): issuing would fail for everyone.
    case cannotIssue(key: String, detail: String)

    /// The Secret key the error is about (the certificate's, for a mismatch); `nil` for ``noKeyPair``.
    public var secretKey: String? {
        switch self {
        case .noKeyPair: nil
        case .missing(let key, _), .notPEM(let key, _), .encryptedKey(let key), .unreadable(let key, _),
            .notCertificateAuthority(let key), .cannotSignCertificates(let key), .unsupportedKeyType(let key, _),
            .notBundleCA(let key, _, _), .expired(let key, _), .noSubjectKeyIdentifier(let key), .cannotIssue(let key, _):
            key
        case .keyMismatch(let certificate, _): certificate
        }
    }

    public var description: String {
        let pairs = "the issuer secret must hold the CA's certificate and key as ca.crt + ca.key, or tls.crt + tls.key (as cert-manager writes a CA)"
        switch self {
        case .noKeyPair:
            return "The issuer secret holds neither ca.key nor tls.key; \(pairs)."
        case .missing(let key, let pairedWith):
            return "The issuer secret has \(pairedWith) but no \(key); \(pairs)."
        case .notPEM(let key, let expected):
            return "The issuer secret's \(key) holds no PEM \(expected); \(pairs), as PEM (re-create it with kubectl create secret generic --from-file)."
        case .encryptedKey(let key):
            return "The issuer secret's \(key) is an encrypted private key, and the service has no passphrase; decrypt it (openssl pkey -in ca.key -out ca-plain.key) and re-create the secret."
        case .unreadable(let key, let detail):
            return "The issuer secret's \(key) \(detail)"
        case .notCertificateAuthority(let key):
            return "The issuer secret's \(key) is not a CA certificate (it needs basicConstraints CA:TRUE); put the certificate of the CA that signed ca.pem's client certificates there, not a leaf."
        case .cannotSignCertificates(let key):
            return "The issuer secret's \(key) is a CA whose keyUsage lacks keyCertSign, so certificates it signs would be refused; use a CA certificate with keyUsage keyCertSign (or none)."
        case .unsupportedKeyType(let key, let type):
            return "The issuer secret's \(key) is a \(type) key; the issuing CA must have an RSA or ECDSA key (certificates are signed with SHA-256)."
        case .keyMismatch(let certificate, let privateKey):
            return "The issuer secret's \(privateKey) is not the private key of the certificate in \(certificate); put the CA certificate and its own key in the same secret."
        case .notBundleCA(let key, let subject, let bundleSubjects):
            let trusted = bundleSubjects.isEmpty ? "no certificate" : bundleSubjects.map { "\"\($0)\"" }.joined(separator: ", ")
            return "The issuer secret's \(key) (\"\(subject)\") is not the CA in the bundle's ca.pem (\(trusted)): Tiller would refuse what it signs. Use the secret of the CA whose certificate ca.pem holds (same subject and key)."
        case .noSubjectKeyIdentifier(let key):
            return "The issuer secret's \(key) is a CA certificate without a subjectKeyIdentifier extension, which the certificates it signs must name (authorityKeyIdentifier); re-issue the CA certificate with subjectKeyIdentifier=hash (same subject and key), or let cert-manager make it."
        case .cannotIssue(let key, let detail):
            return "The issuer secret's \(key) passes every check but a trial certificate could not be signed with it (\(detail)); use another CA certificate and key."
        case .expired(let key, let notAfter):
            return "The issuer secret's \(key) expired at \(RFC3339.string(from: notAfter)); nothing it signs verifies any more. Renew the CA certificate (keeping its subject and key) and update this secret, ca.pem and Tiller's CA together."
        }
    }
}
