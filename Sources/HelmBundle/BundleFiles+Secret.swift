import FoundationEssentials

extension BundleFiles {
    /// A bundle from a Secret's `data` map (values: padded standard base64, as the API server returns them).
    ///
    /// Each file is looked up under Kyma's key (`global.helm.ca.crt`, `global.helm.tls.crt`,
    /// `global.helm.tls.key`) and, where that is absent, under the `kubernetes.io/tls` key (`ca.crt`,
    /// `tls.crt`, `tls.key`). Values are decoded strictly and kept byte for byte.
    ///
    /// - Parameter secretData: the Secret's `data` field.
    /// - Throws: `BundleError` naming the key that was missing, not base64, or not the right kind of PEM.
    public init(secretData: [String: String]) throws(BundleError) {
        let (caKey, ca) = try Self.decodedValue(secretData, kyma: BundleKeys.kyma.ca, fallback: BundleKeys.kubernetesTLS.ca)
        let (certificateKey, certificate) = try Self.decodedValue(
            secretData, kyma: BundleKeys.kyma.certificate, fallback: BundleKeys.kubernetesTLS.certificate)
        let (keyKey, key) = try Self.decodedValue(secretData, kyma: BundleKeys.kyma.key, fallback: BundleKeys.kubernetesTLS.key)
        self = try BundleFiles(
            ca: ca, certificate: certificate, key: key,
            keys: BundleKeys(ca: caKey, certificate: certificateKey, key: keyKey)
        ).checkingPEMBlocks()
    }

    /// The key used and its decoded bytes.
    private static func decodedValue(
        _ data: [String: String], kyma: String, fallback: String
    ) throws(BundleError) -> (String, [UInt8]) {
        let key: String
        let value: String
        if let found = data[kyma] {
            (key, value) = (kyma, found)
        } else if let found = data[fallback] {
            (key, value) = (fallback, found)
        } else {
            throw BundleError(
                key: kyma,
                reason: "is missing from the secret (and so is \(fallback)); the secret must hold the Helm client TLS files under the keys global.helm.ca.crt, global.helm.tls.crt and global.helm.tls.key (or ca.crt, tls.crt, tls.key).")
        }
        // Foundation tolerates extra "=" and non-zero trailing bits; the API server never writes either, so
        // insist on the canonical form: decoding and re-encoding must give back the value.
        guard let decoded = Data(base64Encoded: value), decoded.base64EncodedString() == value else {
            throw BundleError(
                key: key,
                reason: "is not valid base64 (standard alphabet, padded, as the API server stores secret data); re-create the secret, e.g. with kubectl create secret generic --from-file.")
        }
        return (key, [UInt8](decoded))
    }
}
