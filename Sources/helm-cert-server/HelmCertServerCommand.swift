import ArgumentParser
import FileContents
import HTTPServer
import HelmBundle
import HelmCertServer
import KubernetesClient
import Logging
import Metrics
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// The command line: parses flags into a `ServiceConfiguration`, runs the service until SIGTERM/SIGINT.
@main
struct HelmCertServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "helm-cert-server",
        abstract: "Serve Kyma's Helm client TLS bundle (ca.pem, cert.pem, key.pem) over authenticated HTTPS.",
        // The examples are kept under 72 columns, continued with backslashes: swift-argument-parser wraps the
        // discussion at the terminal's width (80 when not a terminal), and a wrapped command no longer pastes.
        discussion: """
            Reads the Secret helm-secret in namespace kyma-installer (keys global.helm.ca.crt, global.helm.tls.crt, global.helm.tls.key; else ca.crt, tls.crt, tls.key) with the pod's service account, watches it, and serves the decoded files to callers with a bearer token.

            Endpoints: /v1/bundles/helm/{ca.pem,cert.pem,key.pem,bundle.tar.gz}, /v1/bundles/helm (JSON metadata), POST /v1/bundles/helm/personal.tar.gz and /v1/bundles/helm/certificates (personal certificates, with --issuer-secret or --dev; GET lists them), /healthz, /readyz, /metrics, /openapi.yaml. Logs are JSON lines on standard error; audit lines go to standard output or --audit-log. SIGTERM stops gracefully; SIGHUP re-reads the watched files (--token-file, --tls-cert/--tls-key, --client-ca, --source-dir) at once, as is done every 2 seconds anyway.

            EXAMPLES:
              # Try it with no cluster (prints a token and a curl line):
              helm-cert-server --dev

              # Serve HTTPS with a token file, as the chart runs it:
              helm-cert-server \\
                --tls-cert /etc/helm-cert-server/tls/tls.crt \\
                --tls-key /etc/helm-cert-server/tls/tls.key \\
                --token-file /etc/helm-cert-server/tokens/tokens.csv

              # Fetch the bundle into the Helm 2 client's home:
              mkdir -p "${HELM_HOME:-$HOME/.helm}"
              curl --fail-with-body -sS --cacert ca.pem \\
                -H "Authorization: Bearer $TOKEN" \\
                https://localhost:8443/v1/bundles/helm/bundle.tar.gz \\
                | tar -xz -C "${HELM_HOME:-$HOME/.helm}"
            """,
        version: helmCertServerVersion)

    enum SourceKind: String, ExpressibleByArgument, CaseIterable {
        case kubernetes, directory
    }

    @Option(help: ArgumentHelp("Address and port to listen on (IPv6 in brackets: [::]:8443; port 0 picks a free one).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("PEM certificate chain (leaf first) the server presents.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Flag(help: "Serve plain HTTP instead of HTTPS. Only behind a proxy that terminates TLS: tokens and keys travel in clear text otherwise.")
    var insecureHttp = false

    @Option(help: "Where the bundle comes from: kubernetes (a Secret, watched) or directory (files named like the secret's keys, e.g. a mounted secret volume).")
    var source: SourceKind = .kubernetes

    @Option(help: "Namespace of the secret.")
    var namespace = "kyma-installer"

    @Option(help: "Name of the secret.")
    var secret = "helm-secret"

    @Option(help: ArgumentHelp("Kubernetes API server URL (default: in-cluster, https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT).", valueName: "url"))
    var kubeApi: String?

    @Flag(help: "Accept an http:// --kube-api URL. The service-account token then crosses the network in clear text: only for tests or a local proxy (kubectl proxy) on the same host.")
    var kubeApiInsecureHttp = false

    @Option(help: ArgumentHelp("Bearer token file for the Kubernetes API, re-read every minute and after a 401 (default: the pod's service-account token).", valueName: "file"))
    var kubeTokenFile: String?

    @Option(help: ArgumentHelp("CA bundle that signs the Kubernetes API server's certificate (default: the pod's service-account ca.crt).", valueName: "file"))
    var kubeCaFile: String?

    @Option(help: ArgumentHelp("Directory for --source directory, re-read every 2 seconds.", valueName: "dir"))
    var sourceDir: String?

    @Option(help: ArgumentHelp("Static token file in kube-apiserver's format: CSV lines token,user,uid[,\"group1,group2\"]; the group helm-cert-server:ledger-readers may read the list of personal certificates. Checked every 2 seconds: a removed line is revoked, a malformed line is skipped (logged with its number), a missing file means no static tokens.", valueName: "file"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Ask callers for a client certificate (not required); one that verifies against this CA authenticates as its subject CN (never a personal certificate this server issued). Bearer tokens keep working. Checked every 2 seconds; a TLS session resumes only under the CA that verified it.", valueName: "file"))
    var clientCa: String?

    @Option(help: ArgumentHelp("PEM CRLs of the --client-ca CAs: a listed client certificate is refused, and so is every one whose CA has no CRL here or an expired one (fail closed). Checked every 2 seconds; a new CRL ends every TLS session made under the old one.", valueName: "file"))
    var clientCrl: String?

    @Option(help: ArgumentHelp("Append audit lines (one JSON object per /v1 request) to this file instead of standard output.", valueName: "file"))
    var auditLog: String?

    @Flag(help: "Also accept Kubernetes bearer tokens (e.g. a pod's service-account token): checked with a TokenReview, then a SubjectAccessReview for verb get on resource bundles (name: the bundle) in --kube-auth-group and --kube-auth-namespace (issuing a personal certificate: verb create on bundles/certificates; listing them: verb list on it). Needs the system:auth-delegator ClusterRole.")
    var kubeAuth = false

    @Option(help: ArgumentHelp("API group of the virtual resource 'bundles' that --kube-auth asks RBAC about.", valueName: "group"))
    var kubeAuthGroup = "helm-cert-server.kyma-project.io"

    @Option(help: ArgumentHelp("Audience a Kubernetes token must have been minted for (TokenReview spec.audiences; repeat for several), e.g. a projected serviceAccountToken with this audience. Without it, tokens for the API server's own audience are accepted: any pod's default token.", valueName: "audience"))
    var kubeAuthAudience: [String] = []

    @Option(help: ArgumentHelp("Namespace --kube-auth asks RBAC about (default: the pod's own namespace, else --namespace).", valueName: "namespace"))
    var kubeAuthNamespace: String?

    @Flag(help: "Run with no cluster: generate a CA, a Helm client certificate and a localhost server certificate, and a random token; listen on 127.0.0.1:8443 and print ready-to-paste curl lines. Issues personal certificates with the generated CA (unless --issuer-secret names another). The server certificate, its key and the CA are written to a private temporary directory (under $TMPDIR, else /tmp; the welcome names it), removed at every exit.")
    var dev = false

    @Option(help: ArgumentHelp("Event-loop threads (default: one per core).", valueName: "n"))
    var eventLoops: Int?

    @Option(help: ArgumentHelp("Most open connections; more are closed at once. Each can hold about 200 KiB at worst (README, \"Bounded resources\"): size it to the memory limit.", valueName: "n"))
    var maxConnections = HTTPServerLimits().maxConnections

    @Option(help: ArgumentHelp("Most open connections from one client IP address; more from it are closed at once.", valueName: "n"))
    var maxConnectionsPerClient = HTTPServerLimits().maxConnectionsPerClient

    @Option(help: ArgumentHelp("Check the bundle against Tiller's gRPC port (e.g. tiller-deploy.kube-system:44134): presents cert.pem/key.pem, verifies Tiller's certificate against ca.pem, calls GetVersion. Results in /v1/bundles/helm (tiller), /readyz, /metrics and Warning headers; serving never depends on it. Off without it.", valueName: "host:port"))
    var tillerAddress: String?

    @Option(help: ArgumentHelp("Pause between Tiller checks while they succeed (e.g. 300, 300s, 5m); after a failure, retries back off from 5s to this. A new bundle is checked at once.", valueName: "duration"))
    var tillerCheckInterval = "5m"

    @Option(help: ArgumentHelp("Longest one Tiller check may take, connecting included (e.g. 10s).", valueName: "duration"))
    var tillerCheckTimeout = "10s"

    @Option(help: ArgumentHelp("Issue personal, short-lived client certificates (POST /v1/bundles/helm/personal.tar.gz, or /certificates with a CSR) signed by the CA in this Secret (ca.crt + ca.key, or tls.crt + tls.key as cert-manager writes a CA), read and watched through the Kubernetes API like --secret. Its certificate must be ca.pem's CA. --dev issues with its generated CA.", valueName: "namespace/name"))
    var issuerSecret: String?

    @Option(help: ArgumentHelp("Longest validity a caller may ask for with ?ttl= (Go durations: 24h, 8h, 90m; default 24h; the default ttl is 8h). Never past the CA's own notAfter.", valueName: "duration"))
    var issueMaxTtl: String?

    @Option(help: ArgumentHelp("The key generated for personal.tar.gz: ecdsa-p256 (default) or rsa-2048.", valueName: "algorithm"))
    var personalKeyAlgorithm: PersonalKeyAlgorithm?

    @Flag(inversion: .prefixedNo, help: "Hand out the shared client key: key.pem and bundle.tar.gz. --no-shared-key answers them 403, pointing at personal.tar.gz; ca.pem, cert.pem and the metadata stay.")
    var sharedKey = true

    @Option(help: "Lowest log level written (trace, debug, info, notice, warning, error, critical).")
    var logLevel: String = "info"

    /// Checks the flags together. Called at the start of `run()`, not as `validate()`: swift-argument-parser
    /// calls `validate()` before it reports unknown options, so `--bogus-flag` would be answered with "HTTPS
    /// needs --tls-cert" instead of naming the flag it does not know.
    func validateCombinations() throws {
        if let listen { _ = try parseListen(listen) }
        if clientCrl != nil && clientCa == nil {
            throw ValidationError("--client-crl needs --client-ca: CRLs are checked for the client CAs")
        }
        if insecureHttp && (tlsCert != nil || tlsKey != nil) {
            throw ValidationError("--insecure-http serves plain HTTP, so --tls-cert and --tls-key would be ignored: pass the TLS files for HTTPS, or --insecure-http alone behind a TLS-terminating proxy")
        }
        if insecureHttp && clientCa != nil {
            throw ValidationError("--client-ca needs TLS: it cannot be used with --insecure-http")
        }
        if (tlsCert == nil) != (tlsKey == nil) {
            throw ValidationError("--tls-cert and --tls-key go together: pass both, or neither with --dev or --insecure-http")
        }
        if !dev && !insecureHttp && tlsCert == nil {
            throw ValidationError("HTTPS needs --tls-cert FILE and --tls-key FILE (or --insecure-http behind a TLS-terminating proxy, or --dev)")
        }
        if !dev && tokenFile == nil && !kubeAuth {
            throw ValidationError("pass --token-file FILE (CSV lines token,user,uid) and/or --kube-auth so callers can authenticate, or use --dev")
        }
        if !kubeAuth && !kubeAuthAudience.isEmpty {
            throw ValidationError("--kube-auth-audience only applies with --kube-auth")
        }
        if kubeAuthAudience.contains(where: \.isEmpty) {
            throw ValidationError("--kube-auth-audience must not be empty")
        }
        if !dev && source == .directory && sourceDir == nil {
            throw ValidationError("--source directory needs --source-dir DIR")
        }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
        }
        if let issuerSecret, Self.namespacedName(issuerSecret) == nil {
            throw ValidationError("--issuer-secret \(issuerSecret) must be NAMESPACE/NAME, e.g. kyma-installer/helm-issuer-ca")
        }
        if issuerSecret == nil && !dev && (issueMaxTtl != nil || personalKeyAlgorithm != nil) {
            throw ValidationError("--issue-max-ttl and --personal-key-algorithm only apply with --issuer-secret (or --dev)")
        }
        if let issueMaxTtl {
            guard let ttl = CertificateLifetime.parse(issueMaxTtl), ttl >= CertificateLifetime.minimumTTL,
                  ttl <= CertificateLifetime.longestMaxTTL else {
                throw ValidationError("--issue-max-ttl \(issueMaxTtl) must be a Go duration between 1m and 8784h (366 days), e.g. 24h or 8h")
            }
        }
        if let eventLoops, eventLoops < 1 || eventLoops > 256 {
            throw ValidationError("--event-loops must be between 1 and 256")
        }
        if maxConnections < 1 {
            throw ValidationError("--max-connections must be at least 1")
        }
        if maxConnectionsPerClient < 1 {
            throw ValidationError("--max-connections-per-client must be at least 1")
        }
        if let tillerAddress, ((try? ListenAddress(parsing: tillerAddress))?.port ?? 0) == 0 {
            throw ValidationError("--tiller-address \(tillerAddress) must be HOST:PORT, e.g. tiller-deploy.kube-system:44134")
        }
        if TillerCheckConfiguration.parseDuration(tillerCheckInterval) == nil {
            throw ValidationError("--tiller-check-interval \(tillerCheckInterval) must be a whole number of seconds, minutes or hours (300, 300s, 5m), up to 7 days")
        }
        if (TillerCheckConfiguration.parseDuration(tillerCheckTimeout) ?? .zero) > TillerCheckConfiguration.longestTimeout
            || TillerCheckConfiguration.parseDuration(tillerCheckTimeout) == nil {
            throw ValidationError("--tiller-check-timeout \(tillerCheckTimeout) must be a whole number of seconds or minutes (10, 10s, 1m), at most 5m")
        }
    }

    func run() throws {
        try validateCombinations()
        let listenAddress = try resolveListenAddress()
        blockControlSignals()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        let logger = Logger(label: "helm-cert-server")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        signal(SIGPIPE, SIG_IGN)

        var tls: TLSConfiguration? = tlsCert.map { TLSConfiguration(certificateChainFile: $0, privateKeyFile: tlsKey!) }
        let bundleSource: BundleSourceConfiguration
        var fixedTokens: TokenFile? = nil
        var development: DevelopmentSetup? = nil
        // Removes --dev's files on every way out of `run`: a stop signal, a failed start, a thrown error.
        defer { development?.remove() }
        if dev {
            let setup = try DevelopmentSetup.create(temporaryDirectory: processEnvironment()["TMPDIR"])
            development = setup
            bundleSource = .fixed(setup.pki.bundle)
            if tls == nil && !insecureHttp { tls = setup.tls }
            if tokenFile == nil { fixedTokens = setup.tokens }
        } else {
            switch source {
            case .directory:
                bundleSource = .directory(sourceDir!)
            case .kubernetes:
                bundleSource = .kubernetes(try kubernetesConfiguration(), namespace: namespace, secret: secret)
            }
        }
        if insecureHttp { tls = nil }
        if let clientCa {
            guard tls != nil else { throw ValidationError("--client-ca needs TLS: it cannot be used with --insecure-http") }
            tls?.clientCAFile = clientCa
            tls?.clientCRLFile = clientCrl
        }
        var kubeAuthConfiguration: KubeAuthConfiguration? = nil
        if kubeAuth {
            let podNamespace = (try? readFileContents(KubernetesConfiguration.serviceAccountNamespaceFile))
                .map { String(decoding: $0.filter { $0 > 0x20 }, as: UTF8.self) }
            kubeAuthConfiguration = KubeAuthConfiguration(
                api: try kubernetesConfiguration(), namespace: kubeAuthNamespace ?? podNamespace ?? namespace,
                group: kubeAuthGroup, audiences: kubeAuthAudience)
        }
        var configuration = ServiceConfiguration(
            listen: listenAddress, tls: tls, source: bundleSource, tokenFile: tokenFile, fixedTokens: fixedTokens,
            eventLoopCount: eventLoops ?? HTTPServerConfiguration.coreCount,
            limits: HTTPServerLimits(maxConnections: maxConnections, maxConnectionsPerClient: maxConnectionsPerClient),
            auditLogPath: auditLog, metricsRegistry: registry,
            kubeAuth: kubeAuthConfiguration)
        configuration.sharedKey = sharedKey
        let lifetime = CertificateLifetime(maxTTL: issueMaxTtl.flatMap(CertificateLifetime.parse) ?? CertificateLifetime.defaultMaxTTL)
        if let issuerSecret, let (issuerNamespace, issuerName) = Self.namespacedName(issuerSecret) {
            configuration.issuing = IssuingConfiguration(
                source: .kubernetes(try kubernetesConfiguration(), namespace: issuerNamespace, secret: issuerName),
                lifetime: lifetime, keyAlgorithm: personalKeyAlgorithm ?? .ecdsaP256)
        } else if let development {
            configuration.issuing = IssuingConfiguration(
                source: .fixed(development.pki.issuerSecretData), lifetime: lifetime,
                keyAlgorithm: personalKeyAlgorithm ?? .ecdsaP256)
        }
        configuration.tiller = tillerAddress.map {
            TillerCheckConfiguration(
                address: $0, interval: TillerCheckConfiguration.parseDuration(tillerCheckInterval)!,
                timeout: TillerCheckConfiguration.parseDuration(tillerCheckTimeout)!)
        }
        let service: HelmCertService
        do {
            service = try HelmCertService(configuration: configuration, logger: logger)
            try service.start()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        if let development {
            development.printWelcome(port: service.localPort, scheme: tls == nil ? "http" : "https", host: listenAddress.host)
        }

        // Signals are blocked in every thread (see `blockControlSignals`) and taken here with sigwait, which
        // works whatever mask or dispositions the parent left us.
        while true {
            let number = waitForControlSignal()
            if number == SIGHUP {
                // The same look the 2-second timer takes, now: what changed is applied, failures are logged.
                logger.info("SIGHUP: watched files checked", metadata: ["outcome": "\(service.checkWatchedFiles())"])
                continue
            }
            logger.info("received \(number == SIGTERM ? "SIGTERM" : "SIGINT"): stopping")
            service.shutdown(gracePeriod: .seconds(10))
            break
        }
        service.waitUntilStopped()
        logger.info("stopped")
    }

    /// `NAMESPACE/NAME` split, or nil when it is not one.
    static func namespacedName(_ text: String) -> (String, String)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    private func parseListen(_ text: String) throws -> ListenAddress {
        do { return try ListenAddress(parsing: text) } catch { throw ValidationError(error.description) }
    }

    /// `--listen` (or the default) as an address literal nobody else listens on, before anything starts.
    private func resolveListenAddress() throws -> ListenAddress {
        let written = try listen.map(parseListen) ?? ListenAddress(host: dev ? "127.0.0.1" : "0.0.0.0", port: 8443)
        do {
            let address = try written.resolved()
            try address.ensureNoOtherListener()
            return address
        } catch {
            throw ValidationError(error.description)
        }
    }

    private func kubernetesConfiguration() throws -> KubernetesConfiguration {
        var configuration: KubernetesConfiguration
        if let kubeApi {
            configuration = KubernetesConfiguration(apiServer: kubeApi)
        } else {
            do {
                configuration = try KubernetesConfiguration.inCluster(environment: processEnvironment())
            } catch {
                throw ValidationError("\(error) (outside a pod, pass --kube-api URL, --kube-token-file and --kube-ca-file)")
            }
        }
        if let kubeTokenFile { configuration.tokenFile = kubeTokenFile }
        if let kubeCaFile { configuration.caFile = kubeCaFile }
        configuration.allowsInsecureHTTP = kubeApiInsecureHttp
        do {
            try configuration.validate()
        } catch {
            throw ValidationError("--kube-api: \(error)")
        }
        return configuration
    }
}

/// The signals the command handles itself: SIGTERM and SIGINT stop, SIGHUP looks at the watched files at once.
private func controlSignals() -> sigset_t {
    var set = sigset_t()
    sigemptyset(&set)
    for number in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, number) }
    return set
}

/// Blocks the control signals in this thread before any other thread exists, so every thread inherits the
/// mask and only `waitForControlSignal` receives them.
func blockControlSignals() {
    var set = controlSignals()
    pthread_sigmask(SIG_BLOCK, &set, nil)
}

/// Waits for SIGTERM, SIGINT or SIGHUP and returns which.
func waitForControlSignal() -> Int32 {
    var set = controlSignals()
    var number: Int32 = 0
    while sigwait(&set, &number) != 0 {}
    return number
}

/// The process environment, without Foundation.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let eq = text.firstIndex(of: "=") {
            result[String(text[..<eq])] = String(text[text.index(after: eq)...])
        }
        pointer += 1
    }
    return result
}

extension PersonalKeyAlgorithm: ExpressibleByArgument {}
