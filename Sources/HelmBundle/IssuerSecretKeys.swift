/// The two keys of the issuer Secret that hold the issuing CA: its certificate and its private key.
public struct IssuerSecretKeys: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The key holding the CA certificate (PEM; the first certificate is the CA's own).
    public var certificate: String
    /// The key holding the CA's private key (unencrypted PEM: PKCS#8, PKCS#1 or SEC1).
    public var key: String

    /// - Parameters:
    ///   - certificate: the key holding the CA certificate.
    ///   - key: the key holding its private key.
    public init(certificate: String, key: String) {
        self.certificate = certificate
        self.key = key
    }

    /// `ca.crt` + `ca.key`: a Secret made by hand (`kubectl create secret generic --from-file=ca.crt
    /// --from-file=ca.key`), and what `--dev` generates.
    public static let certificateAuthority = IssuerSecretKeys(certificate: "ca.crt", key: "ca.key")
    /// `tls.crt` + `tls.key`: a `kubernetes.io/tls` Secret, as cert-manager writes a `Certificate` with
    /// `isCA: true` (its `ca.crt` then holds the CA *above* this one, and there is no `ca.key`).
    public static let kubernetesTLS = IssuerSecretKeys(certificate: "tls.crt", key: "tls.key")

    /// Which pair of `secretData` holds the CA: `ca.crt` + `ca.key` when `ca.key` is present, else `tls.crt` +
    /// `tls.key` when `tls.key` is present, else `nil`.
    ///
    /// The private key decides, since only a key makes a pair: a cert-manager Secret has a `ca.crt` too, but
    /// that is its issuer's certificate, to be ignored. When both keys are present, `ca.*` wins: those names
    /// say "the CA" explicitly, while a `tls.*` pair beside them is more likely a serving certificate kept in
    /// the same Secret. Either way the chosen pair must then prove itself a CA and `ca.pem`'s issuer.
    static func chosen(in secretData: [String: [UInt8]]) -> IssuerSecretKeys? {
        if secretData[certificateAuthority.key] != nil { return certificateAuthority }
        if secretData[kubernetesTLS.key] != nil { return kubernetesTLS }
        return nil
    }

    /// `ca.crt + ca.key`.
    public var description: String { "\(certificate) + \(key)" }
}
