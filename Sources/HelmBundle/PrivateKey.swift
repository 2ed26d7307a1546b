import CLibSSL
import CSSLShims

/// An owned OpenSSL `EVP_PKEY`, freed when this goes away.
final class PrivateKey {
    let pointer: OpaquePointer

    /// Takes ownership of `pointer`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { EVP_PKEY_free(pointer) }

    /// The first private key in `pem` (PKCS#1, SEC1 or PKCS#8, unencrypted).
    ///
    /// - Parameters:
    ///   - pem: the key's PEM text.
    ///   - key: the secret key the bytes came from, for error messages.
    static func parse(pem: [UInt8], key: String) throws(BundleError) -> PrivateKey {
        let parsed: OpaquePointer? = try withReadingBIO(pem) { bio in
            // An empty passphrase callback result makes encrypted keys fail instead of prompting on a TTY.
            PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        let reasons = drainErrorQueue()
        guard let parsed else {
            // Don't echo key bytes: OpenSSL's reasons name the failing step only.
            throw BundleError(key: key, reason: "holds no private key OpenSSL can parse (\(reasons)); re-create the secret with the unencrypted PEM key.")
        }
        return PrivateKey(owning: parsed)
    }

    /// `"RSA"`, `"EC"`, `"Ed25519"`, `"Ed448"`, or OpenSSL's short name for other key types.
    var algorithm: String {
        let id = EVP_PKEY_get_base_id(pointer)
        switch id {
        case EVP_PKEY_RSA: return "RSA"
        case EVP_PKEY_EC: return "EC"
        case EVP_PKEY_ED25519: return "Ed25519"
        case EVP_PKEY_ED448: return "Ed448"
        default:
            guard let name = OBJ_nid2sn(id) else { return "unknown" }
            return String(cString: name)
        }
    }

    /// The key size in bits as OpenSSL counts it (RSA modulus, EC field size).
    var bits: Int { Int(EVP_PKEY_get_bits(pointer)) }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), written through a secure-heap BIO
    /// (cleared when freed), so the returned array is the only copy left outside OpenSSL's key.
    func pkcs8PEM() throws(OpenSSLError) -> [UInt8] {
        guard let pem = writtenToBIO(secure: true, { bio in
            PEM_write_bio_PKCS8PrivateKey(bio, pointer, nil, nil, 0, nil, nil) == 1
        }) else { throw OpenSSLError.failed("PEM_write_bio_PKCS8PrivateKey") }
        return pem
    }

    /// Whether this is the private half of `certificate`'s public key.
    func matches(_ certificate: Certificate) -> Bool {
        defer { drainErrorQueue() }
        return X509_check_private_key(certificate.pointer, pointer) == 1
    }
}
