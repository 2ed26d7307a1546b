import CLibSSL
import FoundationEssentials
import DurationUnits

extension CertificateAuthority {
    /// The most characters a certificate's common name may have: X.520's `ub-common-name` (RFC 5280, appendix
    /// A.1), which OpenSSL also enforces.
    public static let maximumCommonNameLength = 64
    /// How far before the issuing time a certificate's validity starts, so that a peer whose clock is a little
    /// behind already accepts it.
    public static let clockSkewAllowance: Duration = .seconds(60)
    /// The certificate policy every personal certificate carries (in a non-critical certificatePolicies
    /// extension), so that helm-cert-server can tell its own short-lived certificates from the shared one signed by
    /// the same CA and never take one as a client identity (``HTTPRequest/clientCertificatePolicies``): a
    /// certificate got for `create` on `bundles/certificates` must not open `key.pem` or the ledger. The OID is
    /// under `2.25`, the arc of UUIDs (ITU-T X.667, no registration needed): UUID
    /// b83c3a45-646e-41ba-8dc1-82e56e37a218 as a decimal. Tiller (Go's `crypto/tls`) and OpenSSL verify the chain
    /// without policy checking, so they accept it as before.
    public static let personalCertificatePolicy = "2.25.244890670913518628770558701436816302616"

    /// Issues a personal TLS client certificate for `publicKey`, naming `commonName`.
    ///
    /// The certificate: subject `CN=<commonName>` and nothing else; extendedKeyUsage clientAuth only; keyUsage
    /// digitalSignature (+ keyEncipherment for an RSA key); basicConstraints CA:FALSE, critical; subject and
    /// authority key identifiers; certificatePolicies ``personalCertificatePolicy``; a random 128-bit serial; valid from `now` − ``clockSkewAllowance`` to
    /// `now + ttl`, cut at the CA's own notAfter; signed with SHA-256.
    ///
    /// No `O` (organisation) attribute, though Kubernetes would read it as the user's groups: groups are
    /// authorization data that change after issuing, a certificate would freeze a stale copy of them for its
    /// lifetime, and Tiller, the only verifier, ignores the subject entirely (it checks the chain alone).
    ///
    /// - Parameters:
    ///   - commonName: the caller's identity as audited: any UTF-8 text of 1 to ``maximumCommonNameLength``
    ///     characters (Unicode scalars) without control characters, format characters or line and paragraph
    ///     separators (invisible ones), written as it is (nothing escaped) as a
    ///     UTF8String.
    ///   - publicKey: from a ``CertificateSigningRequest`` or a ``PersonalKey``.
    ///   - ttl: the lifetime asked for, at least one second (the caller applies its own maximum first).
    ///   - now: the issuing time.
    /// - Throws: ``ClientCertificateError``.
    public func issueClientCertificate(
        commonName: String, publicKey: PublicKey, ttl: Duration, now: Date = Date()
    ) throws(ClientCertificateError) -> IssuedCertificate {
        let characters = commonName.unicodeScalars.count
        guard characters > 0 else { throw .emptyCommonName }
        guard characters <= Self.maximumCommonNameLength else { throw .commonNameTooLong(characters: characters) }
        guard !commonName.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            throw .commonNameHasControlCharacters
        }
        if let invisible = commonName.unicodeScalars.first(where: { Self.isInvisible($0) }) {
            throw .commonNameHasInvisibleCharacters("U+" + String(invisible.value, radix: 16, uppercase: true).leftPadded(to: 4))
        }
        guard ttl >= .seconds(1) else { throw .nonPositiveTTL }
        guard now < notAfter else { throw .authorityExpired(notAfter: notAfter) }

        let requested = now.addingTimeInterval(ttl.timeInterval)
        do {
            let issued = try CertificateIssuer(certificate: certificate, key: key).issue(
                subject: [("CN", commonName)], subjectKey: publicKey.pointer,
                notBefore: now.addingTimeInterval(-Self.clockSkewAllowance.timeInterval),
                notAfter: min(requested, notAfter),
                extensions: [
                    (NID_basic_constraints, "critical,CA:FALSE"),
                    (NID_key_usage, publicKey.algorithm.keyUsage),
                    (NID_ext_key_usage, "clientAuth"),
                    (NID_subject_key_identifier, "hash"),
                    (NID_authority_key_identifier, "keyid:always"),
                    (NID_certificate_policies, Self.personalCertificatePolicy),
                ])
            return IssuedCertificate(pem: try issued.pem(), info: issued.info)
        } catch {
            throw .openSSL(error)
        }
    }

    /// Unicode categories Cf (format), Zl and Zp (line and paragraph separators): characters that show as
    /// nothing, or reorder what follows.
    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}
