import CLibSSL

/// SHA-256 through OpenSSL's EVP interface.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let succeeded = bytes.withUnsafeBytes { buffer in
            EVP_Digest(buffer.baseAddress, buffer.count, &digest, &length, EVP_sha256(), nil) == 1
        }
        // EVP_Digest with a built-in digest fails only when memory runs out; there is no bundle to serve then.
        precondition(succeeded, "EVP_Digest(SHA-256) failed: \(drainErrorQueue())")
        return Array(digest.prefix(Int(length)))
    }

    /// The digest of `bytes` as lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        digest(bytes).map { hexByte($0, uppercase: false) }.joined()
    }
}
