import CLibSSL
import CSSLShims
import CText

/// The public key a personal client certificate is issued for: from a checked CSR
/// (``CertificateSigningRequest/publicKey``) or a generated key (``PersonalKey/publicKey``).
///
/// There is no public initializer: every `PublicKey` is of an allowed kind (``Algorithm``), so the issuer never
/// signs a weak or exotic key. It holds the public half only (an `EVP_PKEY` without private parts).
///
/// Immutable after creation; OpenSSL reads it from any thread, hence `@unchecked Sendable`.
public final class PublicKey: @unchecked Sendable {
    /// The kinds of key a client certificate may carry: what Go's TLS client (Helm 2) and server (Tiller) use,
    /// at sizes that are safe today.
    public enum Algorithm: Sendable, Equatable, CustomStringConvertible {
        /// ECDSA on NIST P-256 (prime256v1).
        case ecdsaP256
        /// ECDSA on NIST P-384 (secp384r1).
        case ecdsaP384
        /// RSA with a modulus of `bits` bits, ``PublicKey/minimumRSABits`` … ``PublicKey/maximumRSABits``.
        case rsa(bits: Int)

        public var description: String {
            switch self {
            case .ecdsaP256: "ECDSA P-256"
            case .ecdsaP384: "ECDSA P-384"
            case .rsa(let bits): "RSA-\(bits)"
            }
        }

        /// The certificate's keyUsage for this kind of key: TLS signs with every kind; an RSA key may also be
        /// used for RSA key transport (TLS 1.2 `RSA` cipher suites), which needs keyEncipherment.
        var keyUsage: String {
            switch self {
            case .ecdsaP256, .ecdsaP384: "critical,digitalSignature"
            case .rsa: "critical,digitalSignature,keyEncipherment"
            }
        }
    }

    /// The smallest RSA modulus accepted: NIST SP 800-131A's minimum since 2014.
    public static let minimumRSABits = 2048
    /// The largest RSA modulus accepted. Bounds the cost of checking a CSR's signature (which grows with the
    /// cube of the size), and Go's crypto/tls refuses larger RSA keys in certificates since Go 1.24 anyway.
    public static let maximumRSABits = 8192

    let pointer: OpaquePointer
    /// What kind of key this is.
    public let algorithm: Algorithm

    /// Takes ownership of `pointer`, a key already checked to be of `algorithm`.
    private init(owning pointer: OpaquePointer, algorithm: Algorithm) {
        self.pointer = pointer
        self.algorithm = algorithm
    }

    deinit { EVP_PKEY_free(pointer) }

    /// Checks that `pointer` is of an allowed kind and takes ownership of it; frees it when it is not.
    ///
    /// - Throws: ``CertificateSigningRequestError/unsupportedKeyType(_:)``,
    ///   ``CertificateSigningRequestError/unsupportedCurve(_:)`` or
    ///   ``CertificateSigningRequestError/rsaKeySize(bits:)``.
    static func checked(owning pointer: OpaquePointer) throws(CertificateSigningRequestError) -> PublicKey {
        do {
            return PublicKey(owning: pointer, algorithm: try algorithm(of: pointer))
        } catch {
            EVP_PKEY_free(pointer)
            throw error
        }
    }

    private static func algorithm(of pointer: OpaquePointer) throws(CertificateSigningRequestError) -> Algorithm {
        switch EVP_PKEY_get_base_id(pointer) {
        case EVP_PKEY_RSA:
            let bits = Int(EVP_PKEY_get_bits(pointer))
            guard bits >= minimumRSABits, bits <= maximumRSABits else { throw .rsaKeySize(bits: bits) }
            return .rsa(bits: bits)
        case EVP_PKEY_EC:
            var name = [CChar](repeating: 0, count: 64)
            var length = 0
            guard EVP_PKEY_get_group_name(pointer, &name, name.count, &length) == 1 else {
                drainErrorQueue()
                throw .unsupportedCurve("with explicit parameters")
            }
            let curve = String(cText: name.prefix(length))
            // OpenSSL names a curve given by explicit parameters when they match a known one, but a certificate
            // carrying them is refused by Go (Tiller) and by openssl verify: only a named curve is accepted
            // (OSSL_PKEY_PARAM_EC_ENCODING is OSSL_PKEY_EC_ENCODING_GROUP; core_names.h is not in the module map).
            var encoding = [CChar](repeating: 0, count: 32)
            var encodingLength = 0
            guard EVP_PKEY_get_utf8_string_param(pointer, "encoding", &encoding, encoding.count, &encodingLength) == 1,
                String(cText: encoding.prefix(encodingLength)) == "named_curve"
            else {
                drainErrorQueue()
                throw .unsupportedCurve("\(curve) given by explicit parameters (make the key with a named curve: openssl ecparam -name prime256v1 -param_enc named_curve, the default)")
            }
            switch OBJ_sn2nid(curve) {
            case NID_X9_62_prime256v1: return .ecdsaP256
            case NID_secp384r1: return .ecdsaP384
            default: throw .unsupportedCurve(curve)
            }
        case let id:
            let name = OBJ_nid2sn(id).map { String(cString: $0) } ?? "unknown (\(id))"
            throw .unsupportedKeyType(name)
        }
    }

    /// The public half of `key` (generated by this process as `algorithm`), as a key of its own: the
    /// `SubjectPublicKeyInfo` written out and read back, so no private part comes along.
    static func publicHalf(of key: PrivateKey, algorithm: Algorithm) throws(OpenSSLError) -> PublicKey {
        let length = i2d_PUBKEY(key.pointer, nil)
        guard length > 0 else { throw OpenSSLError.failed("i2d_PUBKEY") }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_PUBKEY(key.pointer, &cursor)
        }
        guard written == length else { throw OpenSSLError.failed("i2d_PUBKEY") }
        let parsed: OpaquePointer? = der.withUnsafeBufferPointer { buffer in
            var cursor = buffer.baseAddress
            return d2i_PUBKEY(nil, &cursor, Int(buffer.count))
        }
        guard let parsed else { throw OpenSSLError.failed("d2i_PUBKEY") }
        return PublicKey(owning: parsed, algorithm: algorithm)
    }
}

extension PublicKey: CustomStringConvertible {
    /// The kind of key, e.g. `PublicKey(ECDSA P-256)`.
    public var description: String { "PublicKey(\(algorithm))" }
}
