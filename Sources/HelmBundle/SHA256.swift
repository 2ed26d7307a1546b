import CLibSSL
import CSSLShims

/// SHA-256 through OpenSSL (its low-level `SHA256_*` functions, see `cshim_sha256`: this hashes the bearer token
/// of every request, where `EVP_Digest` would cost about as much again as the hashing itself).
///
/// The low-level functions bypass OpenSSL's providers, so this never runs in a FIPS provider. It is used to
/// compare bearer tokens in constant time and to name bundle versions (ETags, fingerprints), not to protect data.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { digest($0) }
    }

    /// The 32-byte digest of the UTF-8 bytes of `text` (no copy when the string is stored contiguously, as
    /// native strings are).
    public static func digest(utf8 text: some StringProtocol) -> [UInt8] {
        if let digest = text.utf8.withContiguousStorageIfAvailable({ digest(UnsafeRawBufferPointer($0)) }) {
            return digest
        }
        return digest(Array(text.utf8))
    }

    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: 32) { digest, count in
            cshim_sha256(bytes.baseAddress, bytes.count, digest.baseAddress)
            count = 32
        }
    }

    /// The digest of `bytes` as lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        digest(bytes).map { hexByte($0, uppercase: false) }.joined()
    }
}
