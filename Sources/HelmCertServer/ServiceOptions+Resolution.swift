import HTTPServer
import HelmBundle
import KubernetesClient
import Logging

extension ServiceOptions {
    /// Checks the options together and makes every choice they leave open, reading nothing but `environment`:
    /// no file is read, no name looked up, nothing bound. The first problem found is thrown, in the order below
    /// (the shape of `--listen` first, the Kubernetes API last, as it matters only once the rest is right).
    ///
    /// Called by the command at the start of `run()`, not as swift-argument-parser's `validate()`: that runs
    /// before unknown options are reported, so `--bogus-flag` would be answered with "HTTPS needs --tls-cert"
    /// instead of naming the flag it does not know.
    ///
    /// - Parameter environment: the process environment: `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`
    ///   (in-cluster API, without `--kube-api`), `TMPDIR` (`--dev`'s files).
    /// - Throws: ``ServiceOptionsError`` saying which flag to change and how.
    public func resolved(environment: [String: String]) throws(ServiceOptionsError) -> ServicePlan {
        let listenAddress: ListenAddress
        do {
            listenAddress = try listen.map { text throws(ListenAddressError) in try ListenAddress(parsing: text) }
                ?? ListenAddress(host: dev ? "127.0.0.1" : "0.0.0.0", port: 8443)
        } catch {
            throw .listen(error)
        }
        try checkCombinations()
        guard let level = Logger.Level(rawValue: logLevel) else { throw .logLevel(logLevel) }
        let issuerName = try issuerSecret.map { text throws(ServiceOptionsError) in
            guard let name = Self.namespacedName(text) else { throw .issuerSecret(text) }
            return name
        }
        if issuerSecret == nil && !dev && (issueMaxTtl != nil || personalKeyAlgorithm != nil) {
            throw .issuingOptionsWithoutIssuer
        }
        var lifetime = CertificateLifetime()
        if let issueMaxTtl {
            guard let ttl = CertificateLifetime.parse(issueMaxTtl), ttl >= CertificateLifetime.minimumTTL,
                  ttl <= CertificateLifetime.longestMaxTTL else { throw .issueMaxTTL(issueMaxTtl) }
            lifetime = CertificateLifetime(maxTTL: ttl)
        }
        if let eventLoops, !(1...Self.maxEventLoops).contains(eventLoops) { throw .eventLoops(eventLoops) }
        if maxConnections < 1 { throw .maxConnections(maxConnections) }
        if maxConnectionsPerClient < 1 { throw .maxConnectionsPerClient(maxConnectionsPerClient) }
        let tiller = try tillerCheck()

        var kubernetes: KubernetesConfiguration? = nil
        func kubernetesAPI() throws(ServiceOptionsError) -> KubernetesConfiguration {
            if let kubernetes { return kubernetes }
            let configuration = try kubernetesConfiguration(environment: environment)
            kubernetes = configuration
            return configuration
        }
        let source: ServicePlan.Source = if dev {
            .generated
        } else {
            switch self.source {
            case .kubernetes: .kubernetes(try kubernetesAPI(), namespace: namespace, secret: secret)
            // checkCombinations refused `--source directory` without `--source-dir`.
            case .directory: .directory(sourceDir ?? "")
            }
        }
        let kubeAuth = kubeAuth
            ? ServicePlan.KubeAuth(
                api: try kubernetesAPI(),
                namespace: kubeAuthNamespace.map { .given($0) } ?? .podsOwn(orElse: namespace),
                group: kubeAuthGroup, audiences: kubeAuthAudience)
            : nil
        let issuerSource: ServicePlan.IssuerSource? = if let (issuerNamespace, issuerName) = issuerName {
            .kubernetes(try kubernetesAPI(), namespace: issuerNamespace, secret: issuerName)
        } else if dev {
            .generated
        } else {
            nil
        }

        let tls: ServicePlan.TLS? = if insecureHttp {
            nil
        } else {
            ServicePlan.TLS(
                certificate: tlsCert.map { .files(certificateChain: $0, privateKey: tlsKey ?? "") } ?? .generated,
                clientCAFile: clientCa, clientCRLFile: clientCrl)
        }
        let staticTokens: ServicePlan.StaticTokens? = if let tokenFile { .file(tokenFile) } else if dev { .generated } else { nil }
        return ServicePlan(
            listen: listenAddress, logLevel: level,
            development: dev ? ServicePlan.Development(temporaryDirectory: Self.temporaryDirectory(environment)) : nil,
            tls: tls, source: source, staticTokens: staticTokens, eventLoopCount: eventLoops,
            limits: HTTPServerLimits(maxConnections: maxConnections, maxConnectionsPerClient: maxConnectionsPerClient),
            auditLogPath: auditLog, kubeAuth: kubeAuth, tiller: tiller, sharedKey: sharedKey,
            issuing: issuerSource.map {
                ServicePlan.Issuing(source: $0, lifetime: lifetime, keyAlgorithm: personalKeyAlgorithm ?? .ecdsaP256)
            })
    }

    /// The flags that only make sense together, or not at all together.
    private func checkCombinations() throws(ServiceOptionsError) {
        if clientCrl != nil && clientCa == nil { throw .clientCRLWithoutClientCA }
        if insecureHttp && (tlsCert != nil || tlsKey != nil) { throw .tlsFilesWithInsecureHTTP }
        if insecureHttp && clientCa != nil { throw .clientCAWithInsecureHTTP }
        if (tlsCert == nil) != (tlsKey == nil) { throw .halfTLSPair }
        if !dev && !insecureHttp && tlsCert == nil { throw .missingTLSFiles }
        if !dev && tokenFile == nil && !kubeAuth { throw .noAuthentication }
        if !kubeAuth && !kubeAuthAudience.isEmpty { throw .kubeAuthAudienceWithoutKubeAuth }
        if kubeAuthAudience.contains(where: \.isEmpty) { throw .emptyKubeAuthAudience }
        if !dev && source == .directory && sourceDir == nil { throw .missingSourceDirectory }
    }

    /// `--tiller-address` and its timing; nil without the address (the timing flags are checked all the same).
    private func tillerCheck() throws(ServiceOptionsError) -> TillerCheckConfiguration? {
        if let tillerAddress, ((try? ListenAddress(parsing: tillerAddress))?.port ?? 0) == 0 {
            throw .tillerAddress(tillerAddress)
        }
        guard let interval = TillerCheckConfiguration.parseDuration(tillerCheckInterval) else {
            throw .tillerCheckInterval(tillerCheckInterval)
        }
        guard let timeout = TillerCheckConfiguration.parseDuration(tillerCheckTimeout),
              timeout <= TillerCheckConfiguration.longestTimeout else {
            throw .tillerCheckTimeout(tillerCheckTimeout)
        }
        return tillerAddress.map { TillerCheckConfiguration(address: $0, interval: interval, timeout: timeout) }
    }

    /// `--kube-api` (else in-cluster from `environment`) with `--kube-token-file`, `--kube-ca-file` and
    /// `--kube-api-insecure-http`, checked before any token could be sent.
    private func kubernetesConfiguration(environment: [String: String]) throws(ServiceOptionsError) -> KubernetesConfiguration {
        var configuration: KubernetesConfiguration
        if let kubeApi {
            configuration = KubernetesConfiguration(apiServer: kubeApi)
        } else {
            do {
                configuration = try KubernetesConfiguration.inCluster(environment: environment)
            } catch {
                throw .notInCluster(reason: "\(error)")
            }
        }
        if let kubeTokenFile { configuration.tokenFile = kubeTokenFile }
        if let kubeCaFile { configuration.caFile = kubeCaFile }
        configuration.allowsInsecureHTTP = kubeApiInsecureHttp
        do {
            try configuration.validate()
        } catch {
            throw .kubeAPI(reason: "\(error)")
        }
        return configuration
    }

    /// `NAMESPACE/NAME` split, or nil when it is not one.
    static func namespacedName(_ text: String) -> (String, String)? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    /// Where `--dev` makes its directory: `$TMPDIR`, or `/tmp` when it is unset or empty.
    static func temporaryDirectory(_ environment: [String: String]) -> String {
        environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    }
}
