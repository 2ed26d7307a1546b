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

/// The command line: parses flags into ``ServiceOptions``, resolves them into a ``ServicePlan``, wires the
/// service and runs it until SIGTERM/SIGINT.
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

    @Option(help: ArgumentHelp("Address and port to listen on (IPv6 in brackets: [::]:8443; port 0 picks a free one).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("PEM certificate chain (leaf first) the server presents.", valueName: "file"))
    var tlsCert: String?

    @Option(help: ArgumentHelp("PEM private key of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Flag(help: "Serve plain HTTP instead of HTTPS. Only behind a proxy that terminates TLS: tokens and keys travel in clear text otherwise.")
    var insecureHttp = ServiceOptions().insecureHttp

    @Option(help: "Where the bundle comes from: kubernetes (a Secret, watched) or directory (files named like the secret's keys, e.g. a mounted secret volume).")
    var source = ServiceOptions().source

    @Option(help: "Namespace of the secret.")
    var namespace = ServiceOptions().namespace

    @Option(help: "Name of the secret.")
    var secret = ServiceOptions().secret

    @Option(help: ArgumentHelp("Kubernetes API server URL (default: in-cluster, https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT).", valueName: "url"))
    var kubeApi: String?

    @Flag(help: "Accept an http:// --kube-api URL. The service-account token then crosses the network in clear text: only for tests or a local proxy (kubectl proxy) on the same host.")
    var kubeApiInsecureHttp = ServiceOptions().kubeApiInsecureHttp

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
    var kubeAuth = ServiceOptions().kubeAuth

    @Option(help: ArgumentHelp("API group of the virtual resource 'bundles' that --kube-auth asks RBAC about.", valueName: "group"))
    var kubeAuthGroup = ServiceOptions().kubeAuthGroup

    @Option(help: ArgumentHelp("Audience a Kubernetes token must have been minted for (TokenReview spec.audiences; repeat for several), e.g. a projected serviceAccountToken with this audience. Without it, tokens for the API server's own audience are accepted: any pod's default token.", valueName: "audience"))
    var kubeAuthAudience = ServiceOptions().kubeAuthAudience

    @Option(help: ArgumentHelp("Namespace --kube-auth asks RBAC about (default: the pod's own namespace, else --namespace).", valueName: "namespace"))
    var kubeAuthNamespace: String?

    @Flag(help: "Run with no cluster: generate a CA, a Helm client certificate and a localhost server certificate, and a random token; listen on 127.0.0.1:8443 and print ready-to-paste curl lines. Issues personal certificates with the generated CA (unless --issuer-secret names another). The server certificate, its key and the CA are written to a private temporary directory (under $TMPDIR, else /tmp; the welcome names it), removed at every exit.")
    var dev = ServiceOptions().dev

    @Option(help: ArgumentHelp("Event-loop threads (default: one per core).", valueName: "n"))
    var eventLoops: Int?

    @Option(help: ArgumentHelp("Most open connections; more are closed at once. Each can hold about 200 KiB at worst (README, \"Bounded resources\"): size it to the memory limit.", valueName: "n"))
    var maxConnections = ServiceOptions().maxConnections

    @Option(help: ArgumentHelp("Most open connections from one client IP address; more from it are closed at once.", valueName: "n"))
    var maxConnectionsPerClient = ServiceOptions().maxConnectionsPerClient

    @Option(help: ArgumentHelp("Check the bundle against Tiller's gRPC port (e.g. tiller-deploy.kube-system:44134): presents cert.pem/key.pem, verifies Tiller's certificate against ca.pem, calls GetVersion. Results in /v1/bundles/helm (tiller), /readyz, /metrics and Warning headers; serving never depends on it. Off without it.", valueName: "host:port"))
    var tillerAddress: String?

    @Option(help: ArgumentHelp("Pause between Tiller checks while they succeed (e.g. 300, 300s, 5m); after a failure, retries back off from 5s to this. A new bundle is checked at once.", valueName: "duration"))
    var tillerCheckInterval = ServiceOptions().tillerCheckInterval

    @Option(help: ArgumentHelp("Longest one Tiller check may take, connecting included (e.g. 10s).", valueName: "duration"))
    var tillerCheckTimeout = ServiceOptions().tillerCheckTimeout

    @Option(help: ArgumentHelp("Issue personal, short-lived client certificates (POST /v1/bundles/helm/personal.tar.gz, or /certificates with a CSR) signed by the CA in this Secret (ca.crt + ca.key, or tls.crt + tls.key as cert-manager writes a CA), read and watched through the Kubernetes API like --secret. Its certificate must be ca.pem's CA. --dev issues with its generated CA.", valueName: "namespace/name"))
    var issuerSecret: String?

    @Option(help: ArgumentHelp("Longest validity a caller may ask for with ?ttl= (Go durations: 24h, 8h, 90m; default 24h; the default ttl is 8h). Never past the CA's own notAfter.", valueName: "duration"))
    var issueMaxTtl: String?

    @Option(help: ArgumentHelp("The key generated for personal.tar.gz: ecdsa-p256 (default) or rsa-2048.", valueName: "algorithm"))
    var personalKeyAlgorithm: PersonalKeyAlgorithm?

    @Flag(inversion: .prefixedNo, help: "Hand out the shared client key: key.pem and bundle.tar.gz. --no-shared-key answers them 403, pointing at personal.tar.gz; ca.pem, cert.pem and the metadata stay.")
    var sharedKey = ServiceOptions().sharedKey

    @Option(help: "Lowest log level written (trace, debug, info, notice, warning, error, critical).")
    var logLevel = ServiceOptions().logLevel

    /// The options as written, for ``ServiceOptions/resolved(environment:)``.
    var options: ServiceOptions {
        var options = ServiceOptions()
        options.listen = listen
        options.tlsCert = tlsCert
        options.tlsKey = tlsKey
        options.insecureHttp = insecureHttp
        options.source = source
        options.namespace = namespace
        options.secret = secret
        options.kubeApi = kubeApi
        options.kubeApiInsecureHttp = kubeApiInsecureHttp
        options.kubeTokenFile = kubeTokenFile
        options.kubeCaFile = kubeCaFile
        options.sourceDir = sourceDir
        options.tokenFile = tokenFile
        options.clientCa = clientCa
        options.clientCrl = clientCrl
        options.auditLog = auditLog
        options.kubeAuth = kubeAuth
        options.kubeAuthGroup = kubeAuthGroup
        options.kubeAuthAudience = kubeAuthAudience
        options.kubeAuthNamespace = kubeAuthNamespace
        options.dev = dev
        options.eventLoops = eventLoops
        options.maxConnections = maxConnections
        options.maxConnectionsPerClient = maxConnectionsPerClient
        options.tillerAddress = tillerAddress
        options.tillerCheckInterval = tillerCheckInterval
        options.tillerCheckTimeout = tillerCheckTimeout
        options.issuerSecret = issuerSecret
        options.issueMaxTtl = issueMaxTtl
        options.personalKeyAlgorithm = personalKeyAlgorithm
        options.sharedKey = sharedKey
        options.logLevel = logLevel
        return options
    }

    /// Parse (swift-argument-parser, before this) → resolve (pure) → bootstrap logging and metrics → wire →
    /// serve until SIGTERM/SIGINT.
    ///
    /// The options are resolved here rather than in `validate()`: swift-argument-parser calls `validate()`
    /// before it reports unknown options, so `--bogus-flag` would be answered with "HTTPS needs --tls-cert"
    /// instead of naming the flag it does not know.
    func run() throws {
        // Resolve: pure; every refusal is a usage error (64).
        let plan: ServicePlan
        do {
            plan = try options.resolved(environment: processEnvironment())
        } catch {
            throw ValidationError(error.description)
        }
        // The address as the server will bind it, refused (64) before anything starts when it cannot be.
        let listenAddress = try resolveListenAddress(plan.listen)

        let (logger, registry) = bootstrap(logLevel: plan.logLevel)

        // Wire: what the plan left to make or read, then the service.
        var development: DevelopmentSetup? = nil
        // Removes --dev's files on every way out of `run`: a stop signal, a failed start, a thrown error.
        defer { development?.remove() }
        if let requested = plan.development {
            development = try DevelopmentSetup.create(temporaryDirectory: requested.temporaryDirectory)
        }
        var podNamespace: String? = nil
        if case .podsOwn? = plan.kubeAuth?.namespace { podNamespace = readPodNamespace() }
        let configuration = ServiceConfiguration(
            plan: plan, listen: listenAddress, development: development?.material, podNamespace: podNamespace,
            eventLoopCount: plan.eventLoopCount ?? HTTPServerConfiguration.coreCount, metricsRegistry: registry)
        let service: HelmCertService
        do {
            service = try HelmCertService(configuration: configuration, logger: logger)
            try service.start()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        if let development {
            development.printWelcome(
                port: service.localPort, scheme: configuration.tls == nil ? "http" : "https", host: listenAddress.host)
        }

        serve(service, logger: logger)
    }

    /// The process-wide set-up, once, before any thread starts: control signals blocked (for
    /// ``waitForControlSignal()``), JSON logs on standard error, metrics into the registry `/metrics` prints,
    /// SIGPIPE ignored.
    private func bootstrap(logLevel: Logger.Level) -> (Logger, PrometheusCollectorRegistry) {
        blockControlSignals()
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: logLevel) }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        // Before the first log line: standard error and the audit lines may be pipes whose reader leaves.
        ignoreBrokenPipeSignal()
        return (Logger(label: "helm-cert-server"), registry)
    }

    /// Serves until SIGTERM or SIGINT (SIGHUP looks at the watched files), then stops gracefully.
    private func serve(_ service: HelmCertService, logger: Logger) {
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

    /// The written address as an address literal nobody else listens on, before anything starts.
    private func resolveListenAddress(_ written: ListenAddress) throws -> ListenAddress {
        do {
            let address = try written.resolved()
            try address.ensureNoOtherListener()
            return address
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The pod's own namespace (its service-account `namespace` file), or nil outside a pod.
    private func readPodNamespace() -> String? {
        (try? readFileContents(KubernetesConfiguration.serviceAccountNamespaceFile))
            .map { String(decoding: $0.filter { $0 > 0x20 }, as: UTF8.self) }
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
extension ServiceOptions.SourceKind: ExpressibleByArgument {}
