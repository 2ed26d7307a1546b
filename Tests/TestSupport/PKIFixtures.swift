// Certificate fixtures made at test time by the real `openssl` CLI: no key file is ever committed. Each call
// makes fresh keys in a temporary directory and removes it again. For bundles and certificates that our own code
// parses and judges (the bundle validator, client CAs, chains, expiry), so their maker is independent of that
// code. Certificates that only have to make TLS work come from TestPKI, in-process.
import Foundation
import HelmBundle

/// Helm client TLS bundles — good, foreign CA, expired, mismatched key — in RSA and ECDSA variants, made by
/// the real `openssl` CLI (`req -x509` for CAs, `req -new` + `ca` for issued certificates).
public enum PKIFixtures {
    /// The key algorithm of a generated key.
    public enum Algorithm: String, Sendable, CaseIterable, CustomStringConvertible {
        /// ECDSA on P-256.
        case ecdsa
        /// RSA, 2048 bits.
        case rsa
        /// Ed25519 (has no traditional key format: always PKCS#8).
        case ed25519
        public var description: String { rawValue }
    }

    /// How a generated private key is written.
    public enum KeyFormat: String, Sendable, CaseIterable, CustomStringConvertible {
        /// PKCS#8, `-----BEGIN PRIVATE KEY-----` (what `openssl genpkey` writes).
        case pkcs8
        /// PKCS#1 `RSA PRIVATE KEY` or SEC1 `EC PRIVATE KEY` (what older `openssl genrsa`/`ecparam` wrote).
        case traditional
        public var description: String { rawValue }
    }

    /// A certificate and its private key, as PEM.
    public struct Credential: Sendable {
        /// The certificate PEM.
        public var certificatePEM: [UInt8]
        /// The private key PEM. Test material only.
        public var keyPEM: [UInt8]

        public init(certificatePEM: [UInt8], keyPEM: [UInt8]) {
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
        }
    }

    /// A failed `openssl` run, with what it printed.
    public struct FixtureError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    // MARK: Ready-made bundles

    /// A CA (`CN=tiller-ca,O=kyma`) and a client certificate (`CN=helm-client,O=kyma`, clientAuth, valid from
    /// an hour ago for 365 days) with its key, all of `algorithm`.
    public static func goodBundle(_ algorithm: Algorithm = .ecdsa, keyFormat: KeyFormat = .pkcs8) throws -> BundleFiles {
        let authority = try certificateAuthority(algorithm: algorithm)
        let client = try issue(by: authority, algorithm: algorithm, keyFormat: keyFormat)
        return BundleFiles(ca: authority.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM)
    }

    /// A bundle whose client certificate was issued by a different CA (`CN=foreign-ca`) than the one in `ca`.
    public static func foreignCABundle(_ algorithm: Algorithm = .ecdsa) throws -> BundleFiles {
        let authority = try certificateAuthority(algorithm: algorithm)
        let foreign = try certificateAuthority(commonName: "foreign-ca", algorithm: algorithm)
        let client = try issue(by: foreign, algorithm: algorithm)
        return BundleFiles(ca: authority.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM)
    }

    /// The client certificate's validity in `expiredBundle`: 2020-01-01T00:00:00Z …
    public static let expiredNotBefore = "20200101000000Z"
    /// … 2021-01-01T00:00:00Z.
    public static let expiredNotAfter = "20210101000000Z"

    /// A good bundle except that the client certificate expired (valid 2020-01-01 … 2021-01-01 UTC).
    public static func expiredBundle(_ algorithm: Algorithm = .ecdsa) throws -> BundleFiles {
        let authority = try certificateAuthority(algorithm: algorithm)
        let client = try issue(by: authority, algorithm: algorithm, startDate: expiredNotBefore, endDate: expiredNotAfter)
        return BundleFiles(ca: authority.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM)
    }

    /// A bundle whose key belongs to another certificate than `certificate`.
    public static func mismatchedKeyBundle(_ algorithm: Algorithm = .ecdsa) throws -> BundleFiles {
        let authority = try certificateAuthority(algorithm: algorithm)
        let client = try issue(by: authority, algorithm: algorithm)
        let other = try issue(by: authority, algorithm: algorithm)
        return BundleFiles(ca: authority.certificatePEM, certificate: client.certificatePEM, key: other.keyPEM)
    }

    /// A Secret's `data` map for `files`: padded standard base64 under `keys` (Kyma's by default).
    public static func secretData(_ files: BundleFiles, keys: BundleKeys = .kyma) -> [String: String] {
        [
            keys.ca: Data(files.ca).base64EncodedString(),
            keys.certificate: Data(files.certificate).base64EncodedString(),
            keys.key: Data(files.key).base64EncodedString(),
        ]
    }

    // MARK: Building blocks

    /// A self-signed CA (basicConstraints CA:TRUE, keyUsage keyCertSign/cRLSign, SKI), valid 10 years.
    public static func certificateAuthority(
        commonName: String = "tiller-ca", algorithm: Algorithm = .ecdsa
    ) throws -> Credential {
        let directory = try TemporaryDirectory("pki-fixture")
        defer { directory.remove() }
        try directory.write("openssl.cnf", configuration(directory: directory.path))
        try generateKey(algorithm, format: .pkcs8, to: directory.file("ca.key"))
        try openssl([
            "req", "-x509", "-new", "-config", directory.file("openssl.cnf"), "-extensions", "ca_extensions",
            "-key", directory.file("ca.key"), "-subj", "/O=kyma/CN=\(commonName)", "-days", "3650", "-sha256",
            "-out", directory.file("ca.pem"),
        ])
        return Credential(certificatePEM: try directory.read("ca.pem"), keyPEM: try directory.read("ca.key"))
    }

    /// A leaf certificate and key issued by `authority` with `openssl ca`.
    ///
    /// - Parameters:
    ///   - authority: the issuing CA.
    ///   - commonName: the subject's CN (O is always `kyma`).
    ///   - algorithm: the new key's algorithm.
    ///   - keyFormat: how the new key is written.
    ///   - extendedKeyUsage: `clientAuth` or `serverAuth`.
    ///   - subjectAlternativeNames: e.g. `DNS:localhost,IP:127.0.0.1`, or `nil` for none.
    ///   - startDate: `notBefore` as `YYYYMMDDHHMMSSZ`, or `nil` for an hour ago.
    ///   - endDate: `notAfter` as `YYYYMMDDHHMMSSZ`, or `nil` for 365 days from now.
    ///   - certificateAuthority: issue an intermediate CA (the CA extensions) instead of a leaf.
    public static func issue(
        by authority: Credential, commonName: String = "helm-client", algorithm: Algorithm = .ecdsa,
        keyFormat: KeyFormat = .pkcs8, extendedKeyUsage: String = "clientAuth",
        subjectAlternativeNames: String? = nil, startDate: String? = nil, endDate: String? = nil,
        certificateAuthority: Bool = false
    ) throws -> Credential {
        let directory = try TemporaryDirectory("pki-fixture")
        defer { directory.remove() }
        try directory.write("ca.pem", authority.certificatePEM)
        try directory.write("ca.key", authority.keyPEM)
        try directory.write("index.txt", "")
        try FileManager.default.createDirectory(atPath: directory.file("issued"), withIntermediateDirectories: true)
        try directory.write(
            "openssl.cnf",
            configuration(
                directory: directory.path, extendedKeyUsage: extendedKeyUsage,
                subjectAlternativeNames: subjectAlternativeNames))
        try generateKey(algorithm, format: keyFormat, to: directory.file("client.key"))
        try openssl([
            "req", "-new", "-config", directory.file("openssl.cnf"), "-key", directory.file("client.key"),
            "-subj", "/O=kyma/CN=\(commonName)", "-out", directory.file("client.csr"),
        ])
        let hourAgo = Date().addingTimeInterval(-3600)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        try openssl([
            "ca", "-batch", "-config", directory.file("openssl.cnf"),
            "-extensions", certificateAuthority ? "ca_extensions" : "leaf_extensions",
            "-cert", directory.file("ca.pem"), "-keyfile", directory.file("ca.key"), "-rand_serial", "-notext",
            "-md", "sha256", "-startdate", startDate ?? formatter.string(from: hourAgo),
            "-enddate", endDate ?? formatter.string(from: hourAgo.addingTimeInterval(365 * 86_400)),
            "-in", directory.file("client.csr"), "-out", directory.file("client.pem"),
        ])
        return Credential(certificatePEM: try directory.read("client.pem"), keyPEM: try directory.read("client.key"))
    }

    /// Runs the real `openssl` with `arguments`, throwing with its stderr if it fails.
    @discardableResult
    public static func openssl(_ arguments: [String], stdin: [UInt8] = []) throws -> CommandResult {
        let result = try runCommand(["openssl"] + arguments, stdin: stdin)
        guard result.status == 0 else {
            throw FixtureError(description: "openssl \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderrText)")
        }
        return result
    }

    private static func generateKey(_ algorithm: Algorithm, format: KeyFormat, to path: String) throws {
        switch algorithm {
        case .ecdsa: try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path])
        case .rsa: try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path])
        case .ed25519: try openssl(["genpkey", "-algorithm", "ED25519", "-out", path])
        }
        if format == .traditional && algorithm != .ed25519 {
            // `pkey` truncates its output before reading its input: go through a second file.
            try openssl(["pkey", "-in", path, "-traditional", "-out", path + ".traditional"])
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: path + ".traditional", toPath: path)
        }
    }

    /// An `openssl.cnf` for `req` and `ca` that depends on nothing in the system's configuration.
    private static func configuration(
        directory: String, extendedKeyUsage: String = "clientAuth", subjectAlternativeNames: String? = nil
    ) -> String {
        """
        [ req ]
        distinguished_name = req_distinguished_name
        [ req_distinguished_name ]
        [ ca ]
        default_ca = fixture_ca
        [ fixture_ca ]
        database = \(directory)/index.txt
        new_certs_dir = \(directory)/issued
        serial = \(directory)/serial
        policy = fixture_policy
        unique_subject = no
        copy_extensions = none
        default_md = sha256
        [ fixture_policy ]
        organizationName = optional
        commonName = supplied
        [ ca_extensions ]
        basicConstraints = critical, CA:TRUE
        keyUsage = critical, keyCertSign, cRLSign
        subjectKeyIdentifier = hash
        [ leaf_extensions ]
        basicConstraints = critical, CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = \(extendedKeyUsage)
        subjectKeyIdentifier = hash
        authorityKeyIdentifier = keyid:always
        \(subjectAlternativeNames.map { "subjectAltName = \($0)" } ?? "")

        """
    }
}
