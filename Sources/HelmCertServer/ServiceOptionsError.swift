/// Why ``ServiceOptions`` cannot run: each case names the flags involved and says what to pass instead. The
/// command reports it as a usage error (exit status 64) before anything starts.
public enum ServiceOptionsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `--listen` is not `HOST:PORT`, or its port is out of range.
    case listen(ListenAddressError)
    /// `--client-crl` without `--client-ca`.
    case clientCRLWithoutClientCA
    /// `--insecure-http` with `--tls-cert` or `--tls-key`.
    case tlsFilesWithInsecureHTTP
    /// `--insecure-http` with `--client-ca`.
    case clientCAWithInsecureHTTP
    /// One of `--tls-cert` and `--tls-key` without the other.
    case halfTLSPair
    /// Neither TLS files, nor `--insecure-http`, nor `--dev`.
    case missingTLSFiles
    /// Neither `--token-file`, nor `--kube-auth`, nor `--dev`: nobody could authenticate.
    case noAuthentication
    /// `--kube-auth-audience` without `--kube-auth`.
    case kubeAuthAudienceWithoutKubeAuth
    /// `--kube-auth-audience ""`.
    case emptyKubeAuthAudience
    /// `--source directory` without `--source-dir`.
    case missingSourceDirectory
    /// `--log-level` names no level.
    case logLevel(String)
    /// `--issuer-secret` is not `NAMESPACE/NAME`.
    case issuerSecret(String)
    /// `--issue-max-ttl` or `--personal-key-algorithm` without `--issuer-secret` or `--dev`.
    case issuingOptionsWithoutIssuer
    /// `--issue-max-ttl` is not a Go duration from 1m to 8784h.
    case issueMaxTTL(String)
    /// `--event-loops` outside 1–256.
    case eventLoops(Int)
    /// `--max-connections` below 1.
    case maxConnections(Int)
    /// `--max-connections-per-client` below 1.
    case maxConnectionsPerClient(Int)
    /// `--tiller-address` is not `HOST:PORT` with a port.
    case tillerAddress(String)
    /// `--tiller-check-interval` is not a whole number of seconds, minutes or hours up to 7 days.
    case tillerCheckInterval(String)
    /// `--tiller-check-timeout` is not a whole number of seconds or minutes up to 5 minutes.
    case tillerCheckTimeout(String)
    /// The Kubernetes API is needed, `--kube-api` is not given and the in-cluster variables are missing
    /// (the Kubernetes client's reason).
    case notInCluster(reason: String)
    /// `--kube-api` cannot be used (the Kubernetes client's reason: not https://, plain HTTP without
    /// `--kube-api-insecure-http`).
    case kubeAPI(reason: String)

    public var description: String {
        switch self {
        case .listen(let error):
            error.description
        case .clientCRLWithoutClientCA:
            "--client-crl needs --client-ca: CRLs are checked for the client CAs"
        case .tlsFilesWithInsecureHTTP:
            "--insecure-http serves plain HTTP, so --tls-cert and --tls-key would be ignored: pass the TLS files for HTTPS, or --insecure-http alone behind a TLS-terminating proxy"
        case .clientCAWithInsecureHTTP:
            "--client-ca needs TLS: it cannot be used with --insecure-http"
        case .halfTLSPair:
            "--tls-cert and --tls-key go together: pass both, or neither with --dev or --insecure-http"
        case .missingTLSFiles:
            "HTTPS needs --tls-cert FILE and --tls-key FILE (or --insecure-http behind a TLS-terminating proxy, or --dev)"
        case .noAuthentication:
            "pass --token-file FILE (CSV lines token,user,uid) and/or --kube-auth so callers can authenticate, or use --dev"
        case .kubeAuthAudienceWithoutKubeAuth:
            "--kube-auth-audience only applies with --kube-auth"
        case .emptyKubeAuthAudience:
            "--kube-auth-audience must not be empty"
        case .missingSourceDirectory:
            "--source directory needs --source-dir DIR"
        case .logLevel(let text):
            "--log-level \(text) is not one of trace, debug, info, notice, warning, error, critical"
        case .issuerSecret(let text):
            "--issuer-secret \(text) must be NAMESPACE/NAME, e.g. kyma-installer/helm-issuer-ca"
        case .issuingOptionsWithoutIssuer:
            "--issue-max-ttl and --personal-key-algorithm only apply with --issuer-secret (or --dev)"
        case .issueMaxTTL(let text):
            "--issue-max-ttl \(text) must be a Go duration between 1m and 8784h (366 days), e.g. 24h or 8h"
        case .eventLoops:
            "--event-loops must be between 1 and \(ServiceOptions.maxEventLoops)"
        case .maxConnections:
            "--max-connections must be at least 1"
        case .maxConnectionsPerClient:
            "--max-connections-per-client must be at least 1"
        case .tillerAddress(let text):
            "--tiller-address \(text) must be HOST:PORT, e.g. tiller-deploy.kube-system:44134"
        case .tillerCheckInterval(let text):
            "--tiller-check-interval \(text) must be a whole number of seconds, minutes or hours (300, 300s, 5m), up to 7 days"
        case .tillerCheckTimeout(let text):
            "--tiller-check-timeout \(text) must be a whole number of seconds or minutes (10, 10s, 1m), at most 5m"
        case .notInCluster(let reason):
            "\(reason) (outside a pod, pass --kube-api URL, --kube-token-file and --kube-ca-file)"
        case .kubeAPI(let reason):
            "--kube-api: \(reason)"
        }
    }
}
