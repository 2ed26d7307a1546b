import CLibSSL
import CSSLShims
import FoundationEssentials

/// A server's certificate as a client that trusts `ca.pem` sees it: who it is, whether `ca.pem` signed it,
/// and whether it names the host dialled.
///
/// Used for the live check against Tiller: Helm 2 with `--tls` checks only the signature, with `--tls-verify`
/// also the name, so both are reported separately.
public struct ServerCertificate: Sendable, Equatable {
    /// Subject, issuer, serial, validity and fingerprint.
    public var info: CertificateInfo
    /// Whether it chains to a certificate in `ca.pem` (signatures only: expiry is reported by `info.notAfter`).
    public var signedByCA: Bool
    /// Whether it names the host dialled (DNS name or IP address in its subjectAltName, as Go checks it).
    public var nameMatches: Bool

    /// What a check already knows (tests, and results carried elsewhere).
    public init(info: CertificateInfo, signedByCA: Bool, nameMatches: Bool) {
        self.info = info
        self.signedByCA = signedByCA
        self.nameMatches = nameMatches
    }

    /// Inspects the first certificate in `pem` (the server's leaf; any further ones are intermediates).
    ///
    /// - Parameters:
    ///   - pem: the server's certificate chain as PEM.
    ///   - caPEM: the bundle's `ca.pem`.
    ///   - host: the host name or IP address dialled.
    /// - Throws: when `pem` holds no certificate.
    public init(pem: [UInt8], caPEM: [UInt8], host: String) throws(BundleError) {
        let chain = try Certificate.all(fromPEM: pem, key: "Tiller's server certificate")
        let leaf = chain[0]
        info = leaf.info
        let anchors = (try? Certificate.all(fromPEM: caPEM, key: "ca.pem")) ?? []
        signedByCA = !anchors.isEmpty && chainVerifies(leaf: leaf, intermediates: Array(chain.dropFirst()), anchors: anchors)
        nameMatches = Self.names(leaf.pointer, host: host)
    }

    private static func names(_ certificate: OpaquePointer, host: String) -> Bool {
        defer { drainErrorQueue() }
        let isAddress = host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." }
        if isAddress { return X509_check_ip_asc(certificate, host, 0) == 1 }
        return X509_check_host(certificate, host, host.utf8.count, 0, nil) == 1
    }
}
