import HTTPServer
import HelmBundle
import KubernetesClient
import Logging
import Testing
@testable import HelmCertServer

/// The command line's options resolved into a plan: what each combination means, and what each refusal says.
/// No file, port or name is touched: the environment is a dictionary.
@Suite("ServiceOptions: resolving the command line")
struct ServiceOptionsTests {
    /// A pod's in-cluster variables.
    static let inCluster = ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"]

    /// Options that resolve: plain HTTP with a token file and a directory source (so no Kubernetes API is
    /// needed).
    static var valid: ServiceOptions {
        var options = ServiceOptions()
        options.insecureHttp = true
        options.tokenFile = "tokens.csv"
        options.source = .directory
        options.sourceDir = "/bundle"
        return options
    }

    /// One refusal: the flags as an operator would type them (for the test's name), the change to ``valid``
    /// (or to the defaults), the error and its whole message.
    struct Refusal: Sendable, CustomTestStringConvertible {
        var flags: String
        var change: @Sendable (inout ServiceOptions) -> Void
        var error: ServiceOptionsError
        var message: String
        var environment: [String: String] = [:]
        var testDescription: String { flags }
    }

    static let refusals: [Refusal] = [
        Refusal(flags: "--listen 8443", change: { $0.listen = "8443" }, error: .listen(.notHostPort("8443")),
                message: "--listen 8443 is not HOST:PORT; examples: 0.0.0.0:8443, 127.0.0.1:8443, [::]:8443, localhost:8443"),
        Refusal(flags: "--listen 127.0.0.1:99999", change: { $0.listen = "127.0.0.1:99999" },
                error: .listen(.portOutOfRange("127.0.0.1:99999")),
                message: "--listen 127.0.0.1:99999: the port must be between 0 and 65535 (0 picks a free one)"),
        Refusal(flags: "--client-crl crl.pem", change: { $0.clientCrl = "crl.pem" }, error: .clientCRLWithoutClientCA,
                message: "--client-crl needs --client-ca: CRLs are checked for the client CAs"),
        Refusal(flags: "--insecure-http --tls-cert a.pem --tls-key a.key",
                change: { $0.tlsCert = "a.pem"; $0.tlsKey = "a.key" }, error: .tlsFilesWithInsecureHTTP,
                message: "--insecure-http serves plain HTTP, so --tls-cert and --tls-key would be ignored: pass the TLS files for HTTPS, or --insecure-http alone behind a TLS-terminating proxy"),
        Refusal(flags: "--insecure-http --tls-key a.key", change: { $0.tlsKey = "a.key" }, error: .tlsFilesWithInsecureHTTP,
                message: "--insecure-http serves plain HTTP, so --tls-cert and --tls-key would be ignored: pass the TLS files for HTTPS, or --insecure-http alone behind a TLS-terminating proxy"),
        Refusal(flags: "--insecure-http --client-ca ca.pem", change: { $0.clientCa = "ca.pem" }, error: .clientCAWithInsecureHTTP,
                message: "--client-ca needs TLS: it cannot be used with --insecure-http"),
        Refusal(flags: "--tls-cert a.pem", change: { $0.insecureHttp = false; $0.tlsCert = "a.pem" }, error: .halfTLSPair,
                message: "--tls-cert and --tls-key go together: pass both, or neither with --dev or --insecure-http"),
        Refusal(flags: "--dev --tls-key a.key", change: { $0.insecureHttp = false; $0.dev = true; $0.tlsKey = "a.key" },
                error: .halfTLSPair,
                message: "--tls-cert and --tls-key go together: pass both, or neither with --dev or --insecure-http"),
        Refusal(flags: "(no --tls-cert, --insecure-http or --dev)", change: { $0.insecureHttp = false }, error: .missingTLSFiles,
                message: "HTTPS needs --tls-cert FILE and --tls-key FILE (or --insecure-http behind a TLS-terminating proxy, or --dev)"),
        Refusal(flags: "(no --token-file, --kube-auth or --dev)", change: { $0.tokenFile = nil }, error: .noAuthentication,
                message: "pass --token-file FILE (CSV lines token,user,uid) and/or --kube-auth so callers can authenticate, or use --dev"),
        Refusal(flags: "--kube-auth-audience helm-cert-server", change: { $0.kubeAuthAudience = ["helm-cert-server"] },
                error: .kubeAuthAudienceWithoutKubeAuth, message: "--kube-auth-audience only applies with --kube-auth"),
        Refusal(flags: "--kube-auth --kube-auth-audience ''", change: { $0.kubeAuth = true; $0.kubeAuthAudience = ["a", ""] },
                error: .emptyKubeAuthAudience, message: "--kube-auth-audience must not be empty"),
        Refusal(flags: "--source directory", change: { $0.sourceDir = nil }, error: .missingSourceDirectory,
                message: "--source directory needs --source-dir DIR"),
        Refusal(flags: "--log-level loud", change: { $0.logLevel = "loud" }, error: .logLevel("loud"),
                message: "--log-level loud is not one of trace, debug, info, notice, warning, error, critical"),
        Refusal(flags: "--log-level INFO", change: { $0.logLevel = "INFO" }, error: .logLevel("INFO"),
                message: "--log-level INFO is not one of trace, debug, info, notice, warning, error, critical"),
        Refusal(flags: "--issuer-secret helm-issuer-ca", change: { $0.issuerSecret = "helm-issuer-ca" },
                error: .issuerSecret("helm-issuer-ca"),
                message: "--issuer-secret helm-issuer-ca must be NAMESPACE/NAME, e.g. kyma-installer/helm-issuer-ca"),
        Refusal(flags: "--issuer-secret a/b/c", change: { $0.issuerSecret = "a/b/c" }, error: .issuerSecret("a/b/c"),
                message: "--issuer-secret a/b/c must be NAMESPACE/NAME, e.g. kyma-installer/helm-issuer-ca"),
        Refusal(flags: "--issuer-secret /b", change: { $0.issuerSecret = "/b" }, error: .issuerSecret("/b"),
                message: "--issuer-secret /b must be NAMESPACE/NAME, e.g. kyma-installer/helm-issuer-ca"),
        Refusal(flags: "--issuer-secret a/", change: { $0.issuerSecret = "a/" }, error: .issuerSecret("a/"),
                message: "--issuer-secret a/ must be NAMESPACE/NAME, e.g. kyma-installer/helm-issuer-ca"),
        Refusal(flags: "--issue-max-ttl 8h", change: { $0.issueMaxTtl = "8h" }, error: .issuingOptionsWithoutIssuer,
                message: "--issue-max-ttl and --personal-key-algorithm only apply with --issuer-secret (or --dev)"),
        Refusal(flags: "--personal-key-algorithm rsa-2048", change: { $0.personalKeyAlgorithm = .rsa2048 },
                error: .issuingOptionsWithoutIssuer,
                message: "--issue-max-ttl and --personal-key-algorithm only apply with --issuer-secret (or --dev)"),
        Refusal(flags: "--dev --issue-max-ttl 59s", change: { $0.dev = true; $0.issueMaxTtl = "59s" }, error: .issueMaxTTL("59s"),
                message: "--issue-max-ttl 59s must be a Go duration between 1m and 8784h (366 days), e.g. 24h or 8h"),
        Refusal(flags: "--dev --issue-max-ttl 8785h", change: { $0.dev = true; $0.issueMaxTtl = "8785h" },
                error: .issueMaxTTL("8785h"),
                message: "--issue-max-ttl 8785h must be a Go duration between 1m and 8784h (366 days), e.g. 24h or 8h"),
        Refusal(flags: "--dev --issue-max-ttl 1d", change: { $0.dev = true; $0.issueMaxTtl = "1d" }, error: .issueMaxTTL("1d"),
                message: "--issue-max-ttl 1d must be a Go duration between 1m and 8784h (366 days), e.g. 24h or 8h"),
        Refusal(flags: "--event-loops 0", change: { $0.eventLoops = 0 }, error: .eventLoops(0),
                message: "--event-loops must be between 1 and 256"),
        Refusal(flags: "--event-loops 257", change: { $0.eventLoops = 257 }, error: .eventLoops(257),
                message: "--event-loops must be between 1 and 256"),
        Refusal(flags: "--max-connections 0", change: { $0.maxConnections = 0 }, error: .maxConnections(0),
                message: "--max-connections must be at least 1"),
        Refusal(flags: "--max-connections-per-client 0", change: { $0.maxConnectionsPerClient = 0 },
                error: .maxConnectionsPerClient(0), message: "--max-connections-per-client must be at least 1"),
        Refusal(flags: "--tiller-address tiller-deploy", change: { $0.tillerAddress = "tiller-deploy" },
                error: .tillerAddress("tiller-deploy"),
                message: "--tiller-address tiller-deploy must be HOST:PORT, e.g. tiller-deploy.kube-system:44134"),
        Refusal(flags: "--tiller-address tiller-deploy:0", change: { $0.tillerAddress = "tiller-deploy:0" },
                error: .tillerAddress("tiller-deploy:0"),
                message: "--tiller-address tiller-deploy:0 must be HOST:PORT, e.g. tiller-deploy.kube-system:44134"),
        Refusal(flags: "--tiller-check-interval 5x", change: { $0.tillerCheckInterval = "5x" }, error: .tillerCheckInterval("5x"),
                message: "--tiller-check-interval 5x must be a whole number of seconds, minutes or hours (300, 300s, 5m), up to 7 days"),
        Refusal(flags: "--tiller-check-interval 169h", change: { $0.tillerCheckInterval = "169h" },
                error: .tillerCheckInterval("169h"),
                message: "--tiller-check-interval 169h must be a whole number of seconds, minutes or hours (300, 300s, 5m), up to 7 days"),
        Refusal(flags: "--tiller-check-timeout 6m", change: { $0.tillerCheckTimeout = "6m" }, error: .tillerCheckTimeout("6m"),
                message: "--tiller-check-timeout 6m must be a whole number of seconds or minutes (10, 10s, 1m), at most 5m"),
        Refusal(flags: "--tiller-check-timeout 0", change: { $0.tillerCheckTimeout = "0" }, error: .tillerCheckTimeout("0"),
                message: "--tiller-check-timeout 0 must be a whole number of seconds or minutes (10, 10s, 1m), at most 5m"),
        Refusal(flags: "--source kubernetes, outside a pod", change: { $0.source = .kubernetes },
                error: .notInCluster(reason: "Kubernetes client configuration: KUBERNETES_SERVICE_HOST is not set: run in a pod or pass --kube-api"),
                message: "Kubernetes client configuration: KUBERNETES_SERVICE_HOST is not set: run in a pod or pass --kube-api (outside a pod, pass --kube-api URL, --kube-token-file and --kube-ca-file)"),
        Refusal(flags: "--kube-auth, KUBERNETES_SERVICE_PORT unset", change: { $0.kubeAuth = true },
                error: .notInCluster(reason: "Kubernetes client configuration: KUBERNETES_SERVICE_PORT is not set: run in a pod or pass --kube-api"),
                message: "Kubernetes client configuration: KUBERNETES_SERVICE_PORT is not set: run in a pod or pass --kube-api (outside a pod, pass --kube-api URL, --kube-token-file and --kube-ca-file)",
                environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"]),
        Refusal(flags: "--dev --issuer-secret ns/ca, outside a pod", change: { $0.dev = true; $0.issuerSecret = "ns/ca" },
                error: .notInCluster(reason: "Kubernetes client configuration: KUBERNETES_SERVICE_HOST is not set: run in a pod or pass --kube-api"),
                message: "Kubernetes client configuration: KUBERNETES_SERVICE_HOST is not set: run in a pod or pass --kube-api (outside a pod, pass --kube-api URL, --kube-token-file and --kube-ca-file)"),
        Refusal(flags: "--kube-auth --kube-api ftp://api", change: { $0.kubeAuth = true; $0.kubeApi = "ftp://api" },
                error: .kubeAPI(reason: "Kubernetes client configuration: the Kubernetes API URL ftp://api must start with https://"),
                message: "--kube-api: Kubernetes client configuration: the Kubernetes API URL ftp://api must start with https://"),
        Refusal(flags: "--kube-auth --kube-api http://127.0.0.1:8001", change: { $0.kubeAuth = true; $0.kubeApi = "http://127.0.0.1:8001" },
                error: .kubeAPI(reason: "Kubernetes client configuration: the Kubernetes API URL http://127.0.0.1:8001 is plain HTTP, which would send the service-account token in clear text: use https://, or pass --kube-api-insecure-http (tests and local proxies only)"),
                message: "--kube-api: Kubernetes client configuration: the Kubernetes API URL http://127.0.0.1:8001 is plain HTTP, which would send the service-account token in clear text: use https://, or pass --kube-api-insecure-http (tests and local proxies only)"),
    ]

    @Test("each refusal names the flags and says what to pass instead", arguments: refusals)
    func refusal(_ refusal: Refusal) {
        var options = Self.valid
        refusal.change(&options)
        #expect(throws: refusal.error) { try options.resolved(environment: refusal.environment) }
        #expect(refusal.error.description == refusal.message)
    }

    @Test("problems are reported in a fixed order: the shape of --listen first, the Kubernetes API last")
    func order() {
        var options = ServiceOptions()
        options.listen = "8443"
        options.eventLoops = 0
        #expect(throws: ServiceOptionsError.listen(.notHostPort("8443"))) { try options.resolved(environment: [:]) }
        options.listen = nil
        #expect(throws: ServiceOptionsError.missingTLSFiles) { try options.resolved(environment: [:]) }
        options.insecureHttp = true
        options.tokenFile = "tokens.csv"
        #expect(throws: ServiceOptionsError.eventLoops(0)) { try options.resolved(environment: [:]) }
        options.eventLoops = nil
        #expect(throws: ServiceOptionsError.self) { try options.resolved(environment: [:]) }  // not in a pod
        #expect(throws: Never.self) { try options.resolved(environment: Self.inCluster) }
    }

    @Test("the defaults, as the chart runs them: HTTPS on 0.0.0.0:8443, the Secret kyma-installer/helm-secret through the in-cluster API")
    func defaults() throws {
        var options = ServiceOptions()
        options.tlsCert = "/tls/tls.crt"
        options.tlsKey = "/tls/tls.key"
        options.tokenFile = "/tokens/tokens.csv"
        let plan = try options.resolved(environment: Self.inCluster)
        #expect(plan.listen == ListenAddress(host: "0.0.0.0", port: 8443))
        #expect(plan.logLevel == .info)
        #expect(plan.development == nil)
        #expect(plan.tls == ServicePlan.TLS(certificate: .files(certificateChain: "/tls/tls.crt", privateKey: "/tls/tls.key")))
        guard case .kubernetes(let api, let namespace, let secret) = plan.source else {
            Issue.record("source: \(plan.source)")
            return
        }
        #expect(api.apiServer == "https://10.0.0.1:443")
        #expect(api.tokenFile == KubernetesConfiguration.serviceAccountTokenFile)
        #expect(api.caFile == KubernetesConfiguration.serviceAccountCAFile)
        #expect(!api.allowsInsecureHTTP)
        #expect(namespace == "kyma-installer")
        #expect(secret == "helm-secret")
        #expect(plan.staticTokens == .file("/tokens/tokens.csv"))
        #expect(plan.eventLoopCount == nil)
        #expect(plan.limits.maxConnections == HTTPServerLimits().maxConnections)
        #expect(plan.limits.maxConnectionsPerClient == HTTPServerLimits().maxConnectionsPerClient)
        #expect(plan.auditLogPath == nil)
        #expect(plan.kubeAuth == nil)
        #expect(plan.tiller == nil)
        #expect(plan.sharedKey)
        #expect(plan.issuing == nil)
    }

    @Test("--dev: 127.0.0.1:8443, generated certificate, bundle, token and issuing CA; no cluster needed")
    func development() throws {
        var options = ServiceOptions()
        options.dev = true
        let plan = try options.resolved(environment: [:])
        #expect(plan.listen == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(plan.development == ServicePlan.Development(temporaryDirectory: "/tmp"))
        #expect(plan.tls == ServicePlan.TLS(certificate: .generated))
        guard case .generated = plan.source else {
            Issue.record("source: \(plan.source)")
            return
        }
        #expect(plan.staticTokens == .generated)
        let issuing = try #require(plan.issuing)
        guard case .generated = issuing.source else {
            Issue.record("issuer: \(issuing.source)")
            return
        }
        #expect(issuing.lifetime == CertificateLifetime())
        #expect(issuing.keyAlgorithm == .ecdsaP256)
    }

    @Test("--dev makes its directory under $TMPDIR, else /tmp", arguments: [
        ([:], "/tmp"), (["TMPDIR": ""], "/tmp"), (["TMPDIR": "/var/tmp/work"], "/var/tmp/work"),
    ])
    func developmentDirectory(environment: [String: String], directory: String) throws {
        var options = ServiceOptions()
        options.dev = true
        #expect(try options.resolved(environment: environment).development?.temporaryDirectory == directory)
    }

    @Test("--dev with what the operator gives: a token file, TLS files or plain HTTP, a client CA, a listen address")
    func developmentWithOwnFiles() throws {
        var options = ServiceOptions()
        options.dev = true
        options.tokenFile = "tokens.csv"
        options.tlsCert = "a.pem"
        options.tlsKey = "a.key"
        options.clientCa = "clients.pem"
        options.clientCrl = "clients.crl"
        options.listen = "[::1]:0"
        var plan = try options.resolved(environment: [:])
        #expect(plan.staticTokens == .file("tokens.csv"))
        #expect(plan.tls == ServicePlan.TLS(
            certificate: .files(certificateChain: "a.pem", privateKey: "a.key"), clientCAFile: "clients.pem",
            clientCRLFile: "clients.crl"))
        #expect(plan.listen == ListenAddress(host: "::1", port: 0))

        options.tlsCert = nil
        options.tlsKey = nil
        plan = try options.resolved(environment: [:])
        #expect(plan.tls == ServicePlan.TLS(certificate: .generated, clientCAFile: "clients.pem", clientCRLFile: "clients.crl"))

        options.clientCa = nil
        options.clientCrl = nil
        options.insecureHttp = true
        plan = try options.resolved(environment: [:])
        #expect(plan.tls == nil)
    }

    @Test("--kube-api, --kube-token-file, --kube-ca-file and --kube-api-insecure-http replace the in-cluster defaults")
    func kubernetesAPI() throws {
        var options = ServiceOptions()
        options.insecureHttp = true
        options.tokenFile = "tokens.csv"
        options.namespace = "ns"
        options.secret = "bundle"
        options.kubeApi = "http://127.0.0.1:8001"
        options.kubeApiInsecureHttp = true
        options.kubeTokenFile = "/sa/token"
        options.kubeCaFile = "/sa/ca.crt"
        let plan = try options.resolved(environment: Self.inCluster)
        guard case .kubernetes(let api, let namespace, let secret) = plan.source else {
            Issue.record("source: \(plan.source)")
            return
        }
        #expect(api.apiServer == "http://127.0.0.1:8001")
        #expect(api.tokenFile == "/sa/token")
        #expect(api.caFile == "/sa/ca.crt")
        #expect(api.allowsInsecureHTTP)
        #expect(namespace == "ns")
        #expect(secret == "bundle")
    }

    @Test("--kube-auth: its namespace is --kube-auth-namespace, else the pod's own, else --namespace; no static tokens needed")
    func kubeAuth() throws {
        var options = Self.valid
        options.tokenFile = nil
        options.kubeAuth = true
        options.namespace = "secrets"
        options.kubeAuthAudience = ["https://helm-cert-server.kyma-system.svc"]
        var plan = try options.resolved(environment: Self.inCluster)
        let kubeAuth = try #require(plan.kubeAuth)
        #expect(kubeAuth.namespace == .podsOwn(orElse: "secrets"))
        #expect(kubeAuth.group == "helm-cert-server.kyma-project.io")
        #expect(kubeAuth.audiences == ["https://helm-cert-server.kyma-system.svc"])
        #expect(kubeAuth.api.apiServer == "https://10.0.0.1:443")
        #expect(plan.staticTokens == nil)

        options.kubeAuthNamespace = "reviews"
        options.kubeAuthGroup = "example.com"
        plan = try options.resolved(environment: Self.inCluster)
        #expect(plan.kubeAuth?.namespace == .given("reviews"))
        #expect(plan.kubeAuth?.group == "example.com")
    }

    @Test("--issuer-secret NAMESPACE/NAME with --issue-max-ttl and --personal-key-algorithm")
    func issuing() throws {
        var options = Self.valid
        options.issuerSecret = "kyma-installer/helm-issuer-ca"
        options.issueMaxTtl = "1h30m"
        options.personalKeyAlgorithm = .rsa2048
        let issuing = try #require(try options.resolved(environment: Self.inCluster).issuing)
        guard case .kubernetes(let api, let namespace, let secret) = issuing.source else {
            Issue.record("issuer: \(issuing.source)")
            return
        }
        #expect(api.apiServer == "https://10.0.0.1:443")
        #expect(namespace == "kyma-installer")
        #expect(secret == "helm-issuer-ca")
        #expect(issuing.lifetime == CertificateLifetime(maxTTL: .seconds(5400)))
        #expect(issuing.keyAlgorithm == .rsa2048)
    }

    @Test("--tiller-address with the default timing (5m, 10s), or the given one")
    func tiller() throws {
        var options = Self.valid
        options.tillerAddress = "tiller-deploy.kube-system:44134"
        var tiller = try #require(try options.resolved(environment: [:]).tiller)
        #expect(tiller.address == "tiller-deploy.kube-system:44134")
        #expect(tiller.interval == .seconds(300))
        #expect(tiller.timeout == .seconds(10))

        options.tillerCheckInterval = "1h"
        options.tillerCheckTimeout = "5m"
        tiller = try #require(try options.resolved(environment: [:]).tiller)
        #expect(tiller.interval == .seconds(3600))
        #expect(tiller.timeout == .seconds(300))
    }

    @Test("the plain settings are handed on as given")
    func plainSettings() throws {
        var options = Self.valid
        options.logLevel = "debug"
        options.eventLoops = 3
        options.maxConnections = 400
        options.maxConnectionsPerClient = 32
        options.auditLog = "/var/log/audit.log"
        options.sharedKey = false
        let plan = try options.resolved(environment: [:])
        #expect(plan.logLevel == .debug)
        #expect(plan.eventLoopCount == 3)
        #expect(plan.limits.maxConnections == 400)
        #expect(plan.limits.maxConnectionsPerClient == 32)
        #expect(plan.auditLogPath == "/var/log/audit.log")
        #expect(!plan.sharedKey)
        guard case .directory("/bundle") = plan.source else {
            Issue.record("source: \(plan.source)")
            return
        }
    }
}
