/// The three files `helm` reads from `$(helm home)`, as bytes (PEM), exactly as decoded.
///
/// The bytes are never re-encoded: what the secret holds is what gets served, byte for byte.
/// Equality compares the three files only, not `keys`.
public struct BundleFiles: Sendable, Equatable {
    /// The CA certificate(s), served as `ca.pem`.
    public var ca: [UInt8]
    /// The client certificate (optionally followed by intermediates), served as `cert.pem`.
    public var certificate: [UInt8]
    /// The client private key, served as `key.pem`. Never log it.
    public var key: [UInt8]
    /// Where each file came from (secret keys or file names), so that validation errors can name them.
    /// `BundleKeys.helmHome` for bundles built from bytes.
    public var keys: BundleKeys

    /// A bundle from bytes already in hand; nothing is checked until `ValidatedBundle(validating:)`.
    ///
    /// - Parameters:
    ///   - ca: the CA certificate PEM.
    ///   - certificate: the client certificate PEM.
    ///   - key: the client private key PEM.
    public init(ca: [UInt8], certificate: [UInt8], key: [UInt8]) {
        self.init(ca: ca, certificate: certificate, key: key, keys: .helmHome)
    }

    /// A bundle from bytes, remembering which secret keys (or files) they came from.
    ///
    /// - Parameters:
    ///   - ca: the CA certificate PEM.
    ///   - certificate: the client certificate PEM.
    ///   - key: the client private key PEM.
    ///   - keys: the names to use in error messages about each file.
    public init(ca: [UInt8], certificate: [UInt8], key: [UInt8], keys: BundleKeys) {
        self.ca = ca
        self.certificate = certificate
        self.key = key
        self.keys = keys
    }

    /// The names the files have in `$(helm home)` and in `bundle.tar.gz`, in archive order.
    public static let helmFileNames = [BundleKeys.helmHome.ca, BundleKeys.helmHome.certificate, BundleKeys.helmHome.key]

    /// The bytes of the file `helm` knows as `name`: `"ca.pem"`, `"cert.pem"` or `"key.pem"`; `nil` for any
    /// other name. Handy for serving `/ca.pem`-style routes.
    public func contents(ofHelmFile name: String) -> [UInt8]? {
        switch name {
        case BundleKeys.helmHome.ca: ca
        case BundleKeys.helmHome.certificate: certificate
        case BundleKeys.helmHome.key: key
        default: nil
        }
    }

    public static func == (lhs: BundleFiles, rhs: BundleFiles) -> Bool {
        lhs.ca == rhs.ca && lhs.certificate == rhs.certificate && lhs.key == rhs.key
    }

    /// Checks that `ca` and `certificate` hold PEM `CERTIFICATE` blocks and `key` an unencrypted PEM
    /// private key, throwing an error that names the offending key.
    func checkingPEMBlocks() throws(BundleError) -> BundleFiles {
        try Self.checkCertificate(ca, key: keys.ca, role: "the CA certificate")
        try Self.checkCertificate(certificate, key: keys.certificate, role: "the Helm client certificate")
        try Self.checkPrivateKey(key, key: keys.key)
        return self
    }

    private static func checkCertificate(_ bytes: [UInt8], key: String, role: String) throws(BundleError) {
        if bytes.allSatisfy(Self.isWhitespace) {
            throw BundleError(key: key, reason: "is empty; it must hold \(role) as PEM (-----BEGIN CERTIFICATE-----). Re-create the secret with the certificate file.")
        }
        let pem = PEMContents(scanning: bytes)
        if pem.containsCertificate { return }
        if pem.containsPrivateKey || pem.containsEncryptedPrivateKey {
            throw BundleError(key: key, reason: "holds a private key, not a certificate; it must hold \(role) as PEM (-----BEGIN CERTIFICATE-----). Check that the secret's keys were not swapped.")
        }
        throw BundleError(key: key, reason: "holds no PEM CERTIFICATE block; it must hold \(role) as PEM (-----BEGIN CERTIFICATE-----), not DER or other text. Re-create the secret with the PEM file.")
    }

    private static func checkPrivateKey(_ bytes: [UInt8], key: String) throws(BundleError) {
        if bytes.allSatisfy(Self.isWhitespace) {
            throw BundleError(key: key, reason: "is empty; it must hold the Helm client private key as PEM. Re-create the secret with the key file.")
        }
        let pem = PEMContents(scanning: bytes)
        if pem.containsPrivateKey { return }
        if pem.containsEncryptedPrivateKey {
            throw BundleError(key: key, reason: "holds an encrypted private key, which helm cannot use; decrypt it (openssl pkey -in key.pem -out key-plain.pem) and re-create the secret.")
        }
        if pem.containsCertificate {
            throw BundleError(key: key, reason: "holds a certificate, not a private key; it must hold the Helm client private key as PEM. Check that the secret's keys were not swapped.")
        }
        throw BundleError(key: key, reason: "holds no PEM private key (RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY); re-create the secret with the PEM key file.")
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

extension BundleFiles: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Sizes and sources only: printing or logging a bundle never shows the key.
    public var description: String {
        "BundleFiles(ca: \(ca.count) bytes from \(keys.ca), certificate: \(certificate.count) bytes from "
            + "\(keys.certificate), key: \(key.count) bytes from \(keys.key))"
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and test failure messages from printing the key bytes.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "ca": "\(ca.count) bytes", "certificate": "\(certificate.count) bytes", "key": "\(key.count) bytes (redacted)",
            "keys": keys,
        ])
    }
}
