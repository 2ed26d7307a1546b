/// The names under which the three Helm files are stored: secret keys, or file names in a mounted volume.
public struct BundleKeys: Sendable, Equatable, Hashable {
    /// Where the CA certificate (`ca.pem`) is stored.
    public var ca: String
    /// Where the client certificate (`cert.pem`) is stored.
    public var certificate: String
    /// Where the client private key (`key.pem`) is stored.
    public var key: String

    /// - Parameters:
    ///   - ca: the key holding the CA certificate.
    ///   - certificate: the key holding the client certificate.
    ///   - key: the key holding the client private key.
    public init(ca: String, certificate: String, key: String) {
        self.ca = ca
        self.certificate = certificate
        self.key = key
    }

    /// Kyma's keys in `kyma-installer/helm-secret`: `global.helm.ca.crt`, `global.helm.tls.crt`, `global.helm.tls.key`.
    public static let kyma = BundleKeys(ca: "global.helm.ca.crt", certificate: "global.helm.tls.crt", key: "global.helm.tls.key")
    /// The `kubernetes.io/tls` keys (plus the customary `ca.crt`): `ca.crt`, `tls.crt`, `tls.key`.
    public static let kubernetesTLS = BundleKeys(ca: "ca.crt", certificate: "tls.crt", key: "tls.key")
    /// The file names `helm` reads from `$(helm home)`: `ca.pem`, `cert.pem`, `key.pem`.
    public static let helmHome = BundleKeys(ca: "ca.pem", certificate: "cert.pem", key: "key.pem")
}
