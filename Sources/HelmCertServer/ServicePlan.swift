import HTTPServer
import HelmBundle
import KubernetesClient
import Logging
import Prometheus

/// What the command line asks for, checked and resolved from ``ServiceOptions`` and the environment: every
/// choice made, and nothing read, looked up, bound or generated yet. The command then does those in order (the
/// listen address resolved and checked, `--dev`'s PKI generated, the pod's namespace read) and completes the
/// plan into a ``ServiceConfiguration`` (``ServiceConfiguration/init(plan:listen:development:podNamespace:eventLoopCount:metricsRegistry:)``).
public struct ServicePlan: Sendable {
    /// The certificate the server presents.
    public enum Certificate: Sendable, Equatable {
        /// `--tls-cert`, `--tls-key`.
        case files(certificateChain: String, privateKey: String)
        /// `--dev`'s generated localhost certificate.
        case generated
    }

    /// HTTPS: the certificate, and whom to ask for a client certificate.
    public struct TLS: Sendable, Equatable {
        public var certificate: Certificate
        /// `--client-ca`.
        public var clientCAFile: String?
        /// `--client-crl` (only with ``clientCAFile``).
        public var clientCRLFile: String?
    }

    /// Where the bundle comes from.
    public enum Source: Sendable {
        /// `--source kubernetes`: the Secret `--namespace`/`--secret` through the API.
        case kubernetes(KubernetesConfiguration, namespace: String, secret: String)
        /// `--source directory --source-dir DIR`.
        case directory(String)
        /// `--dev`'s generated bundle.
        case generated
    }

    /// The static tokens.
    public enum StaticTokens: Sendable, Equatable {
        /// `--token-file`, watched.
        case file(String)
        /// `--dev`'s generated token (when no `--token-file` is given).
        case generated
    }

    /// The namespace `--kube-auth`'s SubjectAccessReviews name.
    public enum KubeAuthNamespace: Sendable, Equatable {
        /// `--kube-auth-namespace`.
        case given(String)
        /// The pod's own namespace (its service-account `namespace` file), else this one (`--namespace`).
        case podsOwn(orElse: String)
    }

    /// `--kube-auth`.
    public struct KubeAuth: Sendable {
        public var api: KubernetesConfiguration
        public var namespace: KubeAuthNamespace
        public var group: String
        public var audiences: [String]
    }

    /// Where the issuing CA comes from.
    public enum IssuerSource: Sendable {
        /// `--issuer-secret NAMESPACE/NAME` through the API.
        case kubernetes(KubernetesConfiguration, namespace: String, secret: String)
        /// `--dev`'s generated CA.
        case generated
    }

    /// Personal certificates (`--issuer-secret`, or `--dev`).
    public struct Issuing: Sendable {
        public var source: IssuerSource
        public var lifetime: CertificateLifetime
        public var keyAlgorithm: PersonalKeyAlgorithm
    }

    /// `--dev`: what it generates goes into a private directory made under ``temporaryDirectory``.
    public struct Development: Sendable, Equatable {
        /// `$TMPDIR`, else `/tmp`.
        public var temporaryDirectory: String
    }

    /// `--listen` as written (a host name is resolved by the command, with the check that nobody else listens
    /// there), or the default.
    public var listen: ListenAddress
    public var logLevel: Logger.Level
    /// `--dev`; nil without.
    public var development: Development?
    /// nil serves plain HTTP (`--insecure-http`).
    public var tls: TLS?
    public var source: Source
    /// nil: no static tokens (`--kube-auth` alone).
    public var staticTokens: StaticTokens?
    /// `--event-loops`; nil: one per core.
    public var eventLoopCount: Int?
    public var limits: HTTPServerLimits
    public var auditLogPath: String?
    public var kubeAuth: KubeAuth?
    public var tiller: TillerCheckConfiguration?
    public var sharedKey: Bool
    public var issuing: Issuing?
}

/// What `--dev` generated, in the files its TLS and token need.
public struct DevelopmentMaterial: Sendable {
    public var pki: DevelopmentPKI
    /// The generated server certificate and key, written to files (the server loads and reloads TLS from files).
    public var tls: TLSConfiguration
    /// The generated token.
    public var tokens: TokenFile

    public init(pki: DevelopmentPKI, tls: TLSConfiguration, tokens: TokenFile) {
        self.pki = pki
        self.tls = tls
        self.tokens = tokens
    }
}

extension ServiceConfiguration {
    /// The plan completed with what the command read or made for it.
    ///
    /// - Parameters:
    ///   - listen: ``ServicePlan/listen``, resolved to an address literal.
    ///   - development: what `--dev` generated; required when the plan has ``ServicePlan/development``.
    ///   - podNamespace: the pod's own namespace, when it could be read (for ``ServicePlan/KubeAuthNamespace/podsOwn(orElse:)``).
    ///   - eventLoopCount: ``ServicePlan/eventLoopCount``, or the default for this machine.
    ///   - metricsRegistry: the registry swift-metrics was bootstrapped with.
    public init(
        plan: ServicePlan, listen: ListenAddress, development: DevelopmentMaterial?, podNamespace: String?,
        eventLoopCount: Int, metricsRegistry: PrometheusCollectorRegistry
    ) {
        func generated() -> DevelopmentMaterial {
            guard let development else { preconditionFailure("a plan for --dev is completed with what --dev generated") }
            return development
        }
        let tls: TLSConfiguration? = plan.tls.map { tls in
            var configuration = switch tls.certificate {
            case .files(let chain, let key): TLSConfiguration(certificateChainFile: chain, privateKeyFile: key)
            case .generated: generated().tls
            }
            configuration.clientCAFile = tls.clientCAFile
            configuration.clientCRLFile = tls.clientCRLFile
            return configuration
        }
        let source: BundleSourceConfiguration = switch plan.source {
        case .kubernetes(let api, let namespace, let secret): .kubernetes(api, namespace: namespace, secret: secret)
        case .directory(let directory): .directory(directory)
        case .generated: .fixed(generated().pki.bundle)
        }
        var tokenFile: String? = nil
        var fixedTokens: TokenFile? = nil
        switch plan.staticTokens {
        case .file(let path): tokenFile = path
        case .generated: fixedTokens = generated().tokens
        case nil: break
        }
        let kubeAuth = plan.kubeAuth.map { kubeAuth in
            let namespace = switch kubeAuth.namespace {
            case .given(let namespace): namespace
            case .podsOwn(let fallback): podNamespace ?? fallback
            }
            return KubeAuthConfiguration(
                api: kubeAuth.api, namespace: namespace, group: kubeAuth.group, audiences: kubeAuth.audiences)
        }
        self.init(
            listen: listen, tls: tls, source: source, tokenFile: tokenFile, fixedTokens: fixedTokens,
            eventLoopCount: eventLoopCount, limits: plan.limits, auditLogPath: plan.auditLogPath,
            metricsRegistry: metricsRegistry, kubeAuth: kubeAuth)
        sharedKey = plan.sharedKey
        tiller = plan.tiller
        issuing = plan.issuing.map { issuing in
            let source: IssuingConfiguration.Source = switch issuing.source {
            case .kubernetes(let api, let namespace, let secret): .kubernetes(api, namespace: namespace, secret: secret)
            case .generated: .fixed(generated().pki.issuerSecretData)
            }
            return IssuingConfiguration(source: source, lifetime: issuing.lifetime, keyAlgorithm: issuing.keyAlgorithm)
        }
    }
}
