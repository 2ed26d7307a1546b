import CLibSSL
import CSSLShims
import FoundationEssentials

/// The CA that signs personal client certificates: the certificate and key from the issuer Secret, checked to
/// be a CA, to belong together, to be the CA in the bundle's `ca.pem` (so Tiller accepts what it signs), and
/// to be unexpired.
///
/// Immutable once made. Signing only reads the key and certificate (each signature gets its own OpenSSL
/// context), so one authority serves every thread: hence `@unchecked Sendable`. The key lives only in
/// OpenSSL's memory and is cleared when the authority goes away; no description shows it.
public final class CertificateAuthority: @unchecked Sendable {
    /// Which Secret keys it was read from (for logs: "issuing with ca.crt + ca.key").
    public let secretKeys: IssuerSecretKeys
    /// The CA certificate's subject, serial, validity and fingerprint (never key material).
    public let info: CertificateInfo

    let certificate: Certificate
    let key: PrivateKey

    /// Reads and checks the issuing CA.
    ///
    /// - Parameters:
    ///   - secretData: the issuer Secret's `data`, each value already base64-decoded (PEM bytes). The pair is
    ///     chosen by ``IssuerSecretKeys`` (`ca.*` when `ca.key` is present, else `tls.*`). Of the certificate
    ///     key, the first certificate is the CA's own (cert-manager may put its chain after it).
    ///   - bundleCA: the `ca.pem` the service serves (PEM, one or more certificates). The issuer must be one of
    ///     them, compared by subject and public key rather than byte for byte: Tiller (Go's `crypto/x509`)
    ///     finds a client certificate's parent by its issuer name and checks the signature with the parent's
    ///     key, so a renewed CA certificate with the same subject and key signs certificates that `ca.pem`'s
    ///     older copy verifies, and refusing it would break issuing at every CA renewal for no gain.
    ///   - now: the time to check expiry against.
    /// - Throws: ``CertificateAuthorityError`` naming the Secret key that is wrong.
    public init(secretData: [String: [UInt8]], bundleCA: [UInt8], now: Date = Date()) throws(CertificateAuthorityError) {
        guard let keys = IssuerSecretKeys.chosen(in: secretData) else { throw .noKeyPair }
        guard let certificatePEM = secretData[keys.certificate] else {
            throw .missing(key: keys.certificate, pairedWith: keys.key)
        }
        let keyPEM = secretData[keys.key]!

        let certificate = try Self.certificate(certificatePEM, key: keys.certificate)
        let key = try Self.privateKey(keyPEM, key: keys.key)

        // Extension flags are cached once computed; EXFLAG_INVALID means an extension did not decode.
        let flags = X509_get_extension_flags(certificate.pointer)
        guard flags & UInt32(EXFLAG_INVALID) == 0, flags & UInt32(EXFLAG_CA) != 0 else {
            throw .notCertificateAuthority(key: keys.certificate)
        }
        // X509_get_key_usage is all ones when there is no keyUsage extension (any use allowed).
        guard X509_get_key_usage(certificate.pointer) & UInt32(KU_KEY_CERT_SIGN) != 0 else {
            throw .cannotSignCertificates(key: keys.certificate)
        }
        guard key.algorithm == "RSA" || key.algorithm == "EC" else {
            throw .unsupportedKeyType(key: keys.key, type: key.algorithm)
        }
        guard key.matches(certificate) else {
            throw .keyMismatch(certificate: keys.certificate, privateKey: keys.key)
        }

        let bundleCertificates = (try? Certificate.all(fromPEM: bundleCA, key: BundleKeys.helmHome.ca)) ?? []
        guard bundleCertificates.contains(where: { Self.sameSubjectAndKey(certificate, $0) }) else {
            throw .notBundleCA(key: keys.certificate, subject: certificate.subject, bundleSubjects: bundleCertificates.map(\.subject))
        }
        guard certificate.notAfter > now else { throw .expired(key: keys.certificate, notAfter: certificate.notAfter) }
        guard X509_get0_subject_key_id(certificate.pointer) != nil else {
            throw .noSubjectKeyIdentifier(key: keys.certificate)
        }

        self.secretKeys = keys
        self.certificate = certificate
        self.key = key
        self.info = certificate.info

        // One trial signature, so that a CA that loads is one that issues (and /readyz saying "ready" is true):
        // about a millisecond, once per load.
        do {
            _ = try issueClientCertificate(
                commonName: "helm-cert-server trial", publicKey: try PersonalKey.generate().publicKey, ttl: .seconds(1),
                now: now)
        } catch {
            throw .cannotIssue(key: keys.certificate, detail: "\(error)")
        }
    }

    /// The end of the CA's validity: no certificate it issues lasts longer.
    public var notAfter: Date { info.notAfter }

    private static func certificate(_ pem: [UInt8], key: String) throws(CertificateAuthorityError) -> Certificate {
        guard PEMContents(scanning: pem).containsCertificate else {
            throw .notPEM(key: key, expected: "CERTIFICATE")
        }
        do {
            return try Certificate.all(fromPEM: pem, key: key)[0]
        } catch {
            throw .unreadable(key: key, detail: error.reason)
        }
    }

    private static func privateKey(_ pem: [UInt8], key: String) throws(CertificateAuthorityError) -> PrivateKey {
        let contents = PEMContents(scanning: pem)
        guard contents.containsPrivateKey else {
            if contents.containsEncryptedPrivateKey { throw .encryptedKey(key: key) }
            throw .notPEM(key: key, expected: "private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)")
        }
        do {
            return try PrivateKey.parse(pem: pem, key: key)
        } catch {
            // A traditional key encrypted with Proc-Type headers has a plain label but does not parse.
            throw .unreadable(key: key, detail: error.reason)
        }
    }

    private static func sameSubjectAndKey(_ a: Certificate, _ b: Certificate) -> Bool {
        X509_NAME_cmp(X509_get_subject_name(a.pointer), X509_get_subject_name(b.pointer)) == 0
            && a.carries(publicKey: X509_get0_pubkey(b.pointer))
    }
}

extension CertificateAuthority: CustomStringConvertible {
    /// The subject, its source keys and its end: never key material.
    public var description: String {
        "CertificateAuthority(\(info.subject) from \(secretKeys), notAfter \(RFC3339.string(from: info.notAfter)))"
    }
}
