// In-process, as `--dev` makes its PKI: HelmBundle's CertificateIssuer drives OpenSSL's library, which is fast and
// needs no `openssl` binary. For certificates that only have to make TLS work; fixtures that our own code parses
// and judges are made by the real `openssl` CLI instead (PKIFixtures).
import CLibSSL
import Foundation
@testable import HelmBundle

/// Throwaway ECDSA P-256 certificates for tests that need TLS to run: CAs, server certificates (SANs
/// `127.0.0.1` and `localhost`) and client certificates, written as `<name>.pem` and `<name>.key` (PKCS#8) into a
/// temporary directory that `remove()` deletes. Each is valid from an hour ago for two days, with a random serial.
///
/// ```swift
/// let pki = try TestPKI()
/// defer { pki.remove() }
/// let ca = try pki.makeCA("ca")
/// let server = try pki.issue("server", commonName: "server", ca: ca)
/// let client = try pki.issue("client", commonName: "helm-client", ca: ca, client: true)
/// ```
public struct TestPKI: Sendable {
    /// The paths of a certificate and its private key.
    public struct Files: Sendable {
        /// The certificate, PEM.
        public let certificate: String
        /// Its private key, PKCS#8 PEM. Test material only.
        public let key: String
    }

    /// Where the files are.
    public let directory: TemporaryDirectory

    /// Makes an empty temporary directory whose name starts with `prefix`.
    public init(_ prefix: String = "test-pki") throws { directory = try TemporaryDirectory(prefix) }

    /// Writes into `directory`, which the caller removes.
    public init(in directory: TemporaryDirectory) { self.directory = directory }

    /// A self-signed CA (`CN=<commonName>`, CA:TRUE, keyCertSign and cRLSign) as `<name>.pem` and `<name>.key`.
    ///
    /// - Parameters:
    ///   - name: the file names' stem; also the common name unless `commonName` is given.
    ///   - commonName: the subject's CN.
    public func makeCA(_ name: String, commonName: String? = nil) throws -> Files {
        let key = try PrivateKey.generateP256()
        let certificate = try CertificateIssuer(certificate: nil, key: key).issue(
            subject: [("CN", commonName ?? name)], subjectKey: key.pointer, notBefore: Self.notBefore,
            notAfter: Self.notAfter,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
            ])
        return try write(name, certificate: certificate, key: key)
    }

    /// A leaf certificate for `commonName` signed by `ca`, as `<name>.pem` and `<name>.key`.
    ///
    /// - Parameters:
    ///   - name: the file names' stem.
    ///   - commonName: the subject's CN.
    ///   - ca: the issuing CA, from ``makeCA(_:commonName:)``.
    ///   - client: a client certificate (EKU clientAuth, no SANs) instead of a server one (EKU serverAuth, SANs
    ///     `IP:127.0.0.1` and `DNS:localhost`).
    ///   - policies: policy identifiers (dotted OIDs) for a certificatePolicies extension; none: no extension.
    public func issue(
        _ name: String, commonName: String, ca: Files, client: Bool = false, policies: [String] = []
    ) throws -> Files {
        let issuer = CertificateIssuer(
            certificate: try Certificate.all(fromPEM: Self.contents(of: ca.certificate), key: ca.certificate)[0],
            key: try PrivateKey.parse(pem: Self.contents(of: ca.key), key: ca.key))
        let key = try PrivateKey.generateP256()
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, client ? "clientAuth" : "serverAuth"),
            (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ]
        if !client { extensions.append((NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost")) }
        if !policies.isEmpty { extensions.append((NID_certificate_policies, policies.joined(separator: ","))) }
        let certificate = try issuer.issue(
            subject: [("CN", commonName)], subjectKey: key.pointer, notBefore: Self.notBefore, notAfter: Self.notAfter,
            extensions: extensions)
        return try write(name, certificate: certificate, key: key)
    }

    /// Deletes the directory and every file in it.
    public func remove() { directory.remove() }

    /// `notBefore`: an hour back, so a clock a little behind still accepts it.
    private static var notBefore: Date { Date().addingTimeInterval(-3600) }
    /// `notAfter`: two days on, longer than any test runs.
    private static var notAfter: Date { Date().addingTimeInterval(2 * 86_400) }

    private static func contents(of path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    private func write(_ name: String, certificate: Certificate, key: PrivateKey) throws -> Files {
        try directory.write("\(name).pem", certificate.pem())
        try directory.write("\(name).key", key.pkcs8PEM())
        return Files(certificate: directory.file("\(name).pem"), key: directory.file("\(name).key"))
    }
}
