import CLibSSL

/// The key the service generates for the one-liner (`personal.tar.gz`), when the caller sends no CSR.
public enum PersonalKeyAlgorithm: String, Sendable, CaseIterable, CustomStringConvertible {
    /// ECDSA on P-256: the default. Small, and the cheapest for Tiller to verify in every handshake.
    case ecdsaP256 = "ecdsa-p256"
    /// RSA, 2048 bits: for clients or policies that want RSA.
    case rsa2048 = "rsa-2048"

    public var description: String { rawValue }

    var publicKeyAlgorithm: PublicKey.Algorithm {
        switch self {
        case .ecdsaP256: .ecdsaP256
        case .rsa2048: .rsa(bits: 2048)
        }
    }
}

/// A private key generated for one caller, to be handed out once (as `key.pem`) and then forgotten.
///
/// The key lives in OpenSSL's memory, which `EVP_PKEY_free` clears when this goes away; the PEM text passes
/// only through an OpenSSL secure-heap buffer that is cleared when freed. The array ``pkcs8PEM()`` returns is the
/// caller's to clear once used (``clear(_:)``): `personal.tar.gz` clears it, the tar it is packed into (sized once,
/// never grown) and zlib's working memory, so what is left is the gzip'd answer, sent and dropped (never stored,
/// logged or cached). Immutable, hence `@unchecked Sendable`; no description shows the key.
public final class PersonalKey: @unchecked Sendable {
    /// How it was generated.
    public let algorithm: PersonalKeyAlgorithm
    /// Its public half, to issue the certificate for.
    public let publicKey: PublicKey

    private let key: PrivateKey

    private init(algorithm: PersonalKeyAlgorithm, key: PrivateKey) throws(OpenSSLError) {
        self.algorithm = algorithm
        self.key = key
        self.publicKey = try PublicKey.publicHalf(of: key, algorithm: algorithm.publicKeyAlgorithm)
    }

    /// Generates a fresh key. RSA-2048 costs about a thousand times as much CPU as P-256, and varies widely (a
    /// random prime search; docs/benchmark.md has the figures): run it off the event loops, a bounded few at a time.
    ///
    /// - Parameter algorithm: ECDSA P-256 unless RSA-2048 is asked for.
    public static func generate(_ algorithm: PersonalKeyAlgorithm = .ecdsaP256) throws(OpenSSLError) -> PersonalKey {
        let key: PrivateKey
        switch algorithm {
        case .ecdsaP256: key = try PrivateKey.generateP256()
        case .rsa2048: key = try PrivateKey.generateRSA(bits: 2048)
        }
        return try PersonalKey(algorithm: algorithm, key: key)
    }

    /// The key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which Helm 2 loads: its
    /// `tls.LoadX509KeyPair` (Go's `crypto/tls`) tries PKCS#1, then PKCS#8, then SEC1, and PKCS#8 is also what
    /// the development bundle serves and `openssl genpkey` writes.
    public func pkcs8PEM() throws(OpenSSLError) -> [UInt8] {
        try key.pkcs8PEM()
    }

    /// Overwrites `bytes` with zeros where they are (`OPENSSL_cleanse`, which the compiler cannot leave out), for
    /// key material about to be dropped. Call it on the array's only reference, or it clears a copy.
    public static func clear(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { OPENSSL_cleanse($0.baseAddress, $0.count) }
    }
}

extension PersonalKey: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The algorithm only: printing or logging the key never shows it.
    public var description: String { "PersonalKey(\(algorithm), private key redacted)" }
    public var debugDescription: String { description }
    /// Keeps `dump` and test failure messages from reaching the key.
    public var customMirror: Mirror { Mirror(self, children: ["algorithm": algorithm]) }
}
