import FoundationEssentials
import HelmBundle

/// What one check against Tiller found.
public struct TillerCheckResult: Sendable, Equatable {
    /// `HOST:PORT` dialled.
    public var address: String
    public var checkedAt: Date
    /// Tiller's `sem_ver` (e.g. `v2.16.12`) when the call succeeded.
    public var version: String?
    /// Why the check failed; nil when it succeeded.
    public var failure: TillerCheckFailure?
    /// Tiller's server certificate, when the TLS handshake got far enough to see it.
    public var serverCertificate: ServerCertificate?

    public var ok: Bool { failure == nil }

    public init(address: String, checkedAt: Date, version: String? = nil, failure: TillerCheckFailure? = nil,
                serverCertificate: ServerCertificate? = nil) {
        self.address = address
        self.checkedAt = checkedAt
        self.version = version
        self.failure = failure
        self.serverCertificate = serverCertificate
    }
}

/// Why the bundle did not work against Tiller, each said with what to do about it.
public enum TillerCheckFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// No TCP connection (refused, no route, name not resolved, connect timeout).
    case unreachable(address: String, detail: String)
    /// Connected, but no answer within the timeout (Tiller hangs, or something in between swallows traffic).
    case timedOut(address: String, seconds: Int)
    /// Tiller's certificate does not chain to the bundle's `ca.pem`.
    case serverCertificateNotSignedByCA(issuer: String)
    /// Tiller's own certificate has expired.
    case serverCertificateExpired(notAfter: Date)
    /// The bundle's `ca.pem` has expired, so nothing it signed verifies.
    case caExpired(notAfter: Date)
    /// Tiller closed the connection at or right after the handshake: it refused our client certificate.
    /// `clientNotAfter` is set when `cert.pem` has expired (the likely reason).
    case clientCertificateRefused(detail: String, clientNotAfter: Date?)
    /// The call reached Tiller and got a gRPC error.
    case grpc(status: Int, message: String)
    /// The answer was not what Tiller sends (not HTTP/2, not gRPC, not a `GetVersionResponse`).
    case notTiller(detail: String)
    /// libcurl could not be loaded or set up.
    case libcurl(detail: String)

    public var description: String {
        switch self {
        case .unreachable(let address, let detail):
            "Tiller is unreachable at \(address) (\(detail)): check that tiller-deploy runs and that --tiller-address (chart: tiller.address) and any NetworkPolicy allow the connection"
        case .timedOut(let address, let seconds):
            "Tiller at \(address) accepted the connection but did not answer within \(seconds)s: Tiller hangs, or something in between swallows the traffic; check the tiller-deploy pod"
        case .serverCertificateNotSignedByCA(let issuer):
            "Tiller's certificate (issued by \(issuer)) is not signed by the bundle's ca.pem: Tiller's CA changed or the secret is out of date; Helm clients using this bundle will fail with --tls"
        case .serverCertificateExpired(let notAfter):
            "Tiller's own certificate expired at \(notAfter.formatted(.iso8601)): renew Tiller's server certificate (Kyma does not rotate it); every Helm client fails until then"
        case .caExpired(let notAfter):
            "the bundle's ca.pem expired at \(notAfter.formatted(.iso8601)): renew the Helm TLS certificates (CA, Tiller's and the client's)"
        case .clientCertificateRefused(let detail, let notAfter?):
            "Tiller refused our client certificate: cert.pem expired at \(notAfter.formatted(.iso8601)); the bundle is out of date: renew the Helm client certificate (\(detail))"
        case .clientCertificateRefused(let detail, nil):
            "Tiller refused our client certificate (\(detail)): the bundle is out of date or Tiller's CA changed; Helm clients using this bundle will fail with 'transport is closing'"
        case .grpc(let status, let message):
            "Tiller answered GetVersion with gRPC status \(status) (\(message.isEmpty ? "no message" : message)): check Tiller's logs"
        case .notTiller(let detail):
            "what answers is not Tiller's gRPC service (\(detail)): check --tiller-address (chart: tiller.address)"
        case .libcurl(let detail):
            "the check cannot run: \(detail)"
        }
    }
}
