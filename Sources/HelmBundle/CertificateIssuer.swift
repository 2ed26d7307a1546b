import CLibSSL
import CSSLShims

/// Issues X509v3 certificates with OpenSSL: random 128-bit serial, SHA-256 signature.
struct CertificateIssuer {
    /// The issuing certificate, or `nil` for a self-signed one.
    var certificate: Certificate?
    /// The key that signs.
    var key: PrivateKey

    /// A certificate for `subjectKey`.
    ///
    /// - Parameters:
    ///   - subject: the name's attributes in order, e.g. `[("O", "kyma"), ("CN", "helm-client")]`.
    ///   - subjectKey: the key whose public half the certificate carries.
    ///   - validFrom: `notBefore`, as seconds from now (negative: in the past).
    ///   - days: the validity from now, in days.
    ///   - extensions: `(NID, openssl.cnf-style value)` pairs, e.g. `(NID_basic_constraints, "critical,CA:TRUE")`.
    func issue(
        subject: [(String, String)], subjectKey: PrivateKey, validFrom: Int, days: Int,
        extensions: [(Int32, String)]
    ) throws -> Certificate {
        guard let x509 = X509_new() else { throw OpenSSLError.failed("X509_new") }
        let issued = Certificate(owning: x509)
        guard X509_set_version(x509, 2) == 1 else { throw OpenSSLError.failed("X509_set_version") }
        try setRandomSerial(x509)

        guard let name = X509_NAME_new() else { throw OpenSSLError.failed("X509_NAME_new") }
        defer { X509_NAME_free(name) }
        for (field, value) in subject {
            guard X509_NAME_add_entry_by_txt(name, field, cshim_MBSTRING_ASC, value, -1, -1, 0) == 1 else {
                throw OpenSSLError.failed("X509_NAME_add_entry_by_txt(\(field))")
            }
        }
        guard X509_set_subject_name(x509, name) == 1 else { throw OpenSSLError.failed("X509_set_subject_name") }
        let issuerName = certificate.map { X509_get_subject_name($0.pointer) } ?? name
        guard X509_set_issuer_name(x509, issuerName) == 1 else { throw OpenSSLError.failed("X509_set_issuer_name") }

        guard X509_gmtime_adj(X509_getm_notBefore(x509), validFrom) != nil,
              X509_time_adj_ex(X509_getm_notAfter(x509), Int32(days), 0, nil) != nil
        else { throw OpenSSLError.failed("X509_gmtime_adj") }
        guard X509_set_pubkey(x509, subjectKey.pointer) == 1 else { throw OpenSSLError.failed("X509_set_pubkey") }

        let issuerX509 = certificate?.pointer ?? x509
        for (nid, value) in extensions {
            guard cshim_X509_add_conf_extension(x509, issuerX509, nid, value) == 1 else {
                throw OpenSSLError.failed("X509V3_EXT_conf_nid(\(String(cString: OBJ_nid2sn(nid))), \"\(value)\")")
            }
        }
        guard X509_sign(x509, key.pointer, EVP_sha256()) > 0 else { throw OpenSSLError.failed("X509_sign") }
        return issued
    }

    /// A positive random 128-bit serial number.
    private func setRandomSerial(_ x509: OpaquePointer) throws {
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
    func pem() throws -> [UInt8] {
        guard let pem = writtenToBIO({ bio in PEM_write_bio_X509(bio, pointer) == 1 }) else {
            throw OpenSSLError.failed("PEM_write_bio_X509")
        }
        return pem
    }
}

extension PrivateKey {
    /// A new ECDSA key on P-256.
    static func generateP256() throws -> PrivateKey {
        guard let key = cshim_EVP_EC_gen("P-256") else { throw OpenSSLError.failed("EVP_EC_gen(P-256)") }
        return PrivateKey(owning: key)
    }
}
