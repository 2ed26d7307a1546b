import CLibSSL
import CSSLShims
import FoundationEssentials

/// Issues X509v3 certificates with OpenSSL: random 128-bit serial, SHA-256 signature (RSA PKCS#1 v1.5 or ECDSA,
/// whichever the signing key is). The one place that builds a certificate, for the development PKI and for
/// personal client certificates alike.
struct CertificateIssuer {
    /// The issuing certificate, or `nil` for a self-signed one.
    var certificate: Certificate?
    /// The key that signs.
    var key: PrivateKey

    /// A certificate for `subjectKey`.
    ///
    /// - Parameters:
    ///   - subject: the name's attributes in order, e.g. `[("O", "kyma"), ("CN", "helm-client")]`; values are
    ///     UTF-8, written as they are (no escaping) as UTF8String.
    ///   - subjectKey: the `EVP_PKEY` whose public half the certificate carries (a private key's too).
    ///   - notBefore: the start of the validity, to the second.
    ///   - notAfter: its end, to the second.
    ///   - extensions: `(NID, openssl.cnf-style value)` pairs, e.g. `(NID_basic_constraints, "critical,CA:TRUE")`;
    ///     for `NID_certificate_policies`, comma-separated dotted policy identifiers only (non-critical, no
    ///     qualifiers: OpenSSL's own parser wants a config file for it).
    func issue(
        subject: [(String, String)], subjectKey: OpaquePointer, notBefore: Date, notAfter: Date,
        extensions: [(Int32, String)]
    ) throws(OpenSSLError) -> Certificate {
        guard let x509 = X509_new() else { throw OpenSSLError.failed("X509_new") }
        let issued = Certificate(owning: x509)
        guard X509_set_version(x509, 2) == 1 else { throw OpenSSLError.failed("X509_set_version") }
        try setRandomSerial(x509)

        guard let name = X509_NAME_new() else { throw OpenSSLError.failed("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        for (field, value) in subject {
            let bytes = Array(value.utf8)
            guard X509_NAME_add_entry_by_txt(name, field, cshim_MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1 else {
                throw OpenSSLError.failed("X509_NAME_add_entry_by_txt(\(field))")
            }
        }
        guard X509_set_subject_name(x509, name) == 1 else { throw OpenSSLError.failed("X509_set_subject_name") }
        let issuerName = certificate.map { X509_get_subject_name($0.pointer) } ?? name
        guard X509_set_issuer_name(x509, issuerName) == 1 else { throw OpenSSLError.failed("X509_set_issuer_name") }

        // ASN1_TIME_set writes UTCTime before 2050 and GeneralizedTime from then on, as RFC 5280 asks.
        guard ASN1_TIME_set(X509_getm_notBefore(x509), time_t(notBefore.timeIntervalSince1970.rounded(.down))) != nil,
              ASN1_TIME_set(X509_getm_notAfter(x509), time_t(notAfter.timeIntervalSince1970.rounded(.down))) != nil
        else { throw OpenSSLError.failed("ASN1_TIME_set") }
        guard X509_set_pubkey(x509, subjectKey) == 1 else { throw OpenSSLError.failed("X509_set_pubkey") }

        let issuerX509 = certificate?.pointer ?? x509
        for (nid, value) in extensions {
            let added =
                nid == NID_certificate_policies
                ? cshim_X509_add_certificate_policies(x509, value) : cshim_X509_add_conf_extension(x509, issuerX509, nid, value)
            guard added == 1 else {
                throw OpenSSLError.failed("X509V3_EXT_conf_nid(\(String(cString: OBJ_nid2sn(nid))), \"\(value)\")")
            }
        }
        guard X509_sign(x509, key.pointer, EVP_sha256()) > 0 else { throw OpenSSLError.failed("X509_sign") }
        return issued
    }

    /// A positive random 128-bit serial number.
    private func setRandomSerial(_ x509: OpaquePointer) throws(OpenSSLError) {
        var random = [UInt8](repeating: 0, count: 16)
        guard RAND_bytes(&random, Int32(random.count)) == 1 else { throw OpenSSLError.failed("RAND_bytes") }
        random[0] |= 0x40  // never zero, always 16 bytes of hex
        guard let number = BN_bin2bn(random, Int32(random.count), nil) else { throw OpenSSLError.failed("BN_bin2bn") }
        defer { BN_free(number) }
        guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(x509)) != nil else {
            throw OpenSSLError.failed("BN_to_ASN1_INTEGER")
        }
    }
}

extension Certificate {
    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`).
    func pem() throws(OpenSSLError) -> [UInt8] {
        guard let pem = writtenToBIO({ bio in PEM_write_bio_X509(bio, pointer) == 1 }) else {
            throw OpenSSLError.failed("PEM_write_bio_X509")
        }
        return pem
    }
}

extension PrivateKey {
    /// A new ECDSA key on P-256.
    static func generateP256() throws(OpenSSLError) -> PrivateKey {
        guard let key = cshim_EVP_EC_gen("P-256") else { throw OpenSSLError.failed("EVP_EC_gen(P-256)") }
        return PrivateKey(owning: key)
    }

    /// A new RSA key of `bits` bits (public exponent 65537).
    static func generateRSA(bits: UInt32) throws(OpenSSLError) -> PrivateKey {
        guard let key = cshim_EVP_RSA_gen(bits) else { throw OpenSSLError.failed("EVP_RSA_gen(\(bits))") }
        return PrivateKey(owning: key)
    }
}
