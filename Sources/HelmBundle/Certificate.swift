import CLibSSL
import CSSLShims
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An owned OpenSSL `X509`, freed when this goes away.
final class Certificate {
    let pointer: OpaquePointer

    /// Takes ownership of `pointer`.
    init(owning pointer: OpaquePointer) {
        self.pointer = pointer
    }

    deinit { X509_free(pointer) }

    /// Every PEM `CERTIFICATE` in `pem`, in order.
    ///
    /// - Parameters:
    ///   - pem: PEM text, possibly with several certificates and other blocks around them.
    ///   - key: the secret key the bytes came from, for error messages.
    /// - Throws: when no certificate parses.
    static func all(fromPEM pem: [UInt8], key: String) throws(BundleError) -> [Certificate] {
        let certificates: [Certificate] = try withReadingBIO(pem) { bio in
            var found: [Certificate] = []
            while let x509 = PEM_read_bio_X509(bio, nil, nil, nil) {
                found.append(Certificate(owning: x509))
            }
            return found
        }
        // Reading until the end leaves "no start line" on the queue; a corrupt block leaves its reason.
        let reasons = drainErrorQueue()
        guard !certificates.isEmpty else {
            throw BundleError(key: key, reason: "holds no certificate OpenSSL can parse (\(reasons)); re-create the secret with a valid PEM certificate.")
        }
        return certificates
    }

    /// The subject as RFC 2253 text, e.g. `CN=helm-client,O=kyma`; non-ASCII characters stay UTF-8 (`CN=José`)
    /// rather than `\C3\A9` escapes, as the text goes into JSON and logs, which are UTF-8.
    var subject: String { Self.rfc2253(X509_get_subject_name(pointer)) }
    /// The issuer as RFC 2253 text.
    var issuer: String { Self.rfc2253(X509_get_issuer_name(pointer)) }

    /// The serial number as `openssl x509 -serial` prints it: uppercase hex, no colons.
    var serial: String {
        let bytes = writtenToBIO { bio in i2a_ASN1_INTEGER(bio, X509_get0_serialNumber(pointer)) > 0 } ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    var notBefore: Date { Self.date(X509_get0_notBefore(pointer)) }
    var notAfter: Date { Self.date(X509_get0_notAfter(pointer)) }

    /// The SHA-256 fingerprint of the DER certificate, uppercase hex with colons (`AB:CD:…`).
    var sha256Fingerprint: String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        guard X509_digest(pointer, EVP_sha256(), &digest, &length) == 1 else {
            drainErrorQueue()
            return ""
        }
        return digest.prefix(Int(length)).map { hexByte($0, uppercase: true) }.joined(separator: ":")
    }

    /// Whether the certificate carries `key` (an `EVP_PKEY`) as its public key.
    func carries(publicKey key: OpaquePointer?) -> Bool {
        defer { drainErrorQueue() }
        return EVP_PKEY_eq(X509_get0_pubkey(pointer), key) == 1
    }

    /// The metadata the service reports for this certificate.
    var info: CertificateInfo {
        CertificateInfo(
            subject: subject, issuer: issuer, serial: serial,
            notBefore: notBefore, notAfter: notAfter, sha256: sha256Fingerprint)
    }

    private static func rfc2253(_ name: OpaquePointer?) -> String {
        let flags = cshim_XN_FLAG_RFC2253 & ~UInt(ASN1_STRFLGS_ESC_MSB)
        let bytes = writtenToBIO { bio in X509_NAME_print_ex(bio, name, 0, flags) >= 0 } ?? []
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func date(_ time: UnsafePointer<ASN1_TIME>?) -> Date {
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else {
            drainErrorQueue()
            return Date(timeIntervalSince1970: 0)
        }
        return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
    }
}

/// Two hex digits for `byte`.
func hexByte(_ byte: UInt8, uppercase: Bool) -> String {
    let digits: [Character] = Array(uppercase ? "0123456789ABCDEF" : "0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
