import FoundationEssentials

/// A bundle that parsed and whose key matches its certificate; rendered once, served many times.
///
/// Building one does all the work (parsing, chain check, archive, JSON); the accessors just hand out bytes.
public struct ValidatedBundle: Sendable {
    /// The three files, exactly as decoded.
    public let files: BundleFiles
    /// What is in the bundle (never key material).
    public let metadata: BundleMetadata
    /// Lowercase hex SHA-256 over the bytes of `ca`, then `certificate`, then `key`: ETag material that
    /// changes whenever any file changes.
    public let fingerprint: String

    private let archiveBytes: [UInt8]
    private let metadataBytes: [UInt8]

    /// The mode of `key.pem` in the archive: readable by its owner only.
    public static let keyFileMode = 0o600
    /// The mode of `ca.pem` and `cert.pem` in the archive.
    public static let certificateFileMode = 0o644

    /// Parses `files` with OpenSSL, checks that the key belongs to the client certificate, verifies the chain
    /// (without checking dates), and renders the archive and the metadata JSON.
    ///
    /// A certificate that does not chain to the CA does not throw (`metadata.chainVerified` is `false`: log a
    /// warning); neither does an expired one (see `metadata.notAfter`).
    ///
    /// - Parameter files: the decoded bundle.
    /// - Throws: `BundleError` naming the key that does not parse, or the key whose private key does not
    ///   match its certificate (such a bundle is useless to helm).
    public init(validating files: BundleFiles) throws(BundleError) {
        let anchors = try Certificate.all(fromPEM: files.ca, key: files.keys.ca)
        let chain = try Certificate.all(fromPEM: files.certificate, key: files.keys.certificate)
        let privateKey = try PrivateKey.parse(pem: files.key, key: files.keys.key)
        let leaf = chain[0]
        guard privateKey.matches(leaf) else {
            throw BundleError(
                key: files.keys.key,
                reason: "does not match the certificate in \(files.keys.certificate) (its public key differs); put the client certificate and the key it was issued for in the same secret.")
        }
        let verified = chainVerifies(leaf: leaf, intermediates: Array(chain.dropFirst()), anchors: anchors)
        let metadata = BundleMetadata(
            certificates: [
                BundleKeys.helmHome.ca: anchors[0].info,
                BundleKeys.helmHome.certificate: leaf.info,
            ],
            key: KeyInfo(algorithm: privateKey.algorithm, bits: privateKey.bits, matchesCertificate: true),
            chainVerified: verified,
            notAfter: (anchors + chain).map(\.notAfter).min()!
        )

        self.files = files
        self.metadata = metadata
        self.fingerprint = SHA256.hex(files.ca + files.certificate + files.key)
        self.archiveBytes = try Self.archive(
            ca: files.ca, certificate: files.certificate, key: files.key, modificationTime: leaf.notBefore)
        self.metadataBytes = try Self.encode(metadata)
    }

    /// A gzip'd ustar archive of `ca.pem` (0644), `cert.pem` (0644) and `key.pem` (0600) at its root, owned by
    /// root (uid/gid 0), all dated `modificationTime`: the layout of `bundle.tar.gz`, which personal certificates'
    /// `personal.tar.gz` shares (extract either into `$(helm home)`). The same input gives the same bytes.
    /// - Throws: `BundleError` when zlib fails.
    public static func archive(
        ca: [UInt8], certificate: [UInt8], key: [UInt8], modificationTime: Date
    ) throws(BundleError) -> [UInt8] {
        var tar = TarArchive.archive(
            [
                .init(name: BundleKeys.helmHome.ca, mode: certificateFileMode, contents: ca),
                .init(name: BundleKeys.helmHome.certificate, mode: certificateFileMode, contents: certificate),
                .init(name: BundleKeys.helmHome.key, mode: keyFileMode, contents: key),
            ],
            modificationTime: Int64(modificationTime.timeIntervalSince1970))
        // The tar holds the key in the clear: cleared before it is freed (the gzip'd answer is what leaves).
        defer { PersonalKey.clear(&tar) }
        return try Gzip.compress(tar)
    }

    /// The `bundle.tar.gz` bytes: a gzip'd ustar archive of `ca.pem` (0644), `cert.pem` (0644) and `key.pem`
    /// (0600) at its root, owned by root (uid/gid 0), all dated the client certificate's notBefore. The same
    /// files always give the same bytes, on every replica.
    public func archive() -> [UInt8] { archiveBytes }

    /// `metadata` as pretty-printed JSON with sorted keys and RFC 3339 dates; never key material.
    public func metadataJSON() -> [UInt8] { metadataBytes }

    private static func encode(_ metadata: BundleMetadata) throws(BundleError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        do {
            return [UInt8](try encoder.encode(metadata))
        } catch {
            throw BundleError(key: nil, reason: "could not encode the bundle metadata as JSON: \(error)")
        }
    }
}
