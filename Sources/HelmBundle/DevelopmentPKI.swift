import CLibSSL
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A throwaway PKI for `--dev`: a CA, a Helm client certificate and key signed by it, and a server
/// certificate for the given names — all ECDSA P-256, SHA-256, valid from an hour ago for 365 days.
public struct DevelopmentPKI: Sendable {
    /// `ca.pem` (the development CA), `cert.pem` (CN `helm-client`, O `kyma`, EKU clientAuth) and `key.pem`
    /// (PKCS#8).
    public let bundle: BundleFiles
    /// The server certificate (SANs from `serverNames`, EKU serverAuth) followed by the CA certificate.
    public let serverCertificateChainPEM: [UInt8]
    /// The server's private key, PKCS#8 PEM.
    public let serverKeyPEM: [UInt8]
    /// The issuer Secret's `data` for personal client certificates: `ca.crt` (the CA of `bundle.ca`, which
    /// also signed `bundle.certificate`) and `ca.key` (its PKCS#8 key), decoded, as
    /// ``CertificateAuthority/init(secretData:bundleCA:now:)`` reads them.
    public let issuerSecretData: [String: [UInt8]]

    /// The CA's subject common name.
    public static let caCommonName = "helm-cert-server development CA"
    /// The client certificate's subject common name.
    public static let clientCommonName = "helm-client"
    /// The organisation in every subject.
    public static let organization = "kyma"

    /// Generates fresh keys and certificates (a few milliseconds).
    ///
    /// - Parameter serverNames: the server certificate's subject alternative names: IPv4/IPv6 literals become
    ///   IP entries, everything else DNS entries. The first is also its common name. Must not be empty.
    /// - Throws: `BundleError` for an unusable server name, `OpenSSLError` if OpenSSL fails.
    public static func generate(serverNames: [String] = ["localhost", "127.0.0.1", "::1"]) throws -> DevelopmentPKI {
        let subjectAlternativeNames = try subjectAlternativeNames(serverNames)
        let now = Date()
        let notBefore = now.addingTimeInterval(-3600), notAfter = now.addingTimeInterval(365 * 86_400)

        let caKey = try PrivateKey.generateP256()
        let ca = try CertificateIssuer(certificate: nil, key: caKey).issue(
            subject: [("O", organization), ("CN", caCommonName)], subjectKey: caKey.pointer,
            notBefore: notBefore, notAfter: notAfter,
            extensions: [
                (NID_basic_constraints, "critical,CA:TRUE"),
                (NID_key_usage, "critical,keyCertSign,cRLSign"),
                (NID_subject_key_identifier, "hash"),
            ])
        let issuer = CertificateIssuer(certificate: ca, key: caKey)

        let clientKey = try PrivateKey.generateP256()
        let client = try issuer.issue(
            subject: [("O", organization), ("CN", clientCommonName)], subjectKey: clientKey.pointer,
            notBefore: notBefore, notAfter: notAfter,
            extensions: leafExtensions(extendedKeyUsage: "clientAuth"))

        let serverKey = try PrivateKey.generateP256()
        let server = try issuer.issue(
            subject: [("O", organization), ("CN", serverNames[0])], subjectKey: serverKey.pointer,
            notBefore: notBefore, notAfter: notAfter,
            extensions: leafExtensions(extendedKeyUsage: "serverAuth")
                + [(NID_subject_alt_name, subjectAlternativeNames)])

        let caPEM = try ca.pem()
        return DevelopmentPKI(
            bundle: BundleFiles(ca: caPEM, certificate: try client.pem(), key: try clientKey.pkcs8PEM()),
            serverCertificateChainPEM: try server.pem() + caPEM,
            serverKeyPEM: try serverKey.pkcs8PEM(),
            issuerSecretData: [
                IssuerSecretKeys.certificateAuthority.certificate: caPEM,
                IssuerSecretKeys.certificateAuthority.key: try caKey.pkcs8PEM(),
            ])
    }

    private static func leafExtensions(extendedKeyUsage: String) -> [(Int32, String)] {
        [
            (NID_basic_constraints, "critical,CA:FALSE"),
            (NID_key_usage, "critical,digitalSignature"),
            (NID_ext_key_usage, extendedKeyUsage),
            (NID_subject_key_identifier, "hash"),
            (NID_authority_key_identifier, "keyid:always"),
        ]
    }

    /// `"DNS:localhost,IP:127.0.0.1,IP:::1"` for `["localhost", "127.0.0.1", "::1"]`.
    static func subjectAlternativeNames(_ names: [String]) throws(BundleError) -> String {
        guard !names.isEmpty else {
            throw BundleError(key: nil, reason: "a development server certificate needs at least one server name; pass e.g. localhost.")
        }
        return try names.map { name throws(BundleError) -> String in
            if isIPAddress(name) { return "IP:" + name }
            // Letters, digits, "-", "." and a leading "*." wildcard: nothing that could splice the config string.
            let isDNSName = name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "*")
            }
            guard !name.isEmpty, isDNSName else {
                throw BundleError(key: nil, reason: "server name \"\(name)\" is not a DNS name or IP address; use names like localhost, 10.0.0.1 or ::1.")
            }
            return "DNS:" + name
        }.joined(separator: ",")
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, text, &buffer) == 1 || inet_pton(AF_INET6, text, &buffer) == 1
    }
}

extension DevelopmentPKI: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Sizes only: printing or logging the PKI never shows a key.
    public var description: String {
        "DevelopmentPKI(bundle: \(bundle), serverCertificateChainPEM: \(serverCertificateChainPEM.count) bytes, "
            + "serverKeyPEM: \(serverKeyPEM.count) bytes, issuerSecretData: \(Self.sizes(issuerSecretData)))"
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and test failure messages from printing the key bytes.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "bundle": bundle, "serverCertificateChainPEM": "\(serverCertificateChainPEM.count) bytes",
            "serverKeyPEM": "\(serverKeyPEM.count) bytes (redacted)",
            "issuerSecretData": Self.sizes(issuerSecretData),
        ])
    }

    /// `[ca.crt: 570 bytes, ca.key: 241 bytes]`, keys sorted.
    private static func sizes(_ data: [String: [UInt8]]) -> String {
        "[" + data.keys.sorted().map { "\($0): \(data[$0]!.count) bytes" }.joined(separator: ", ") + "]"
    }
}
