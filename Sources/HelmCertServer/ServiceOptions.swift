import HTTPServer
import HelmBundle

/// The command line's options as written, before any is checked: one property per flag, named like it, with
/// the flag's default. The command (swift-argument-parser) fills it; ``resolved(environment:)`` turns it into a
/// ``ServicePlan`` or says what is wrong. Its defaults are the ones `--help`, the README and the chart show.
public struct ServiceOptions: Sendable {
    /// Where the bundle comes from (`--source`).
    public enum SourceKind: String, Sendable, CaseIterable {
        case kubernetes, directory
    }

    /// `--listen HOST:PORT`; nil: `0.0.0.0:8443` (`127.0.0.1:8443` with `--dev`).
    public var listen: String?
    public var tlsCert: String?
    public var tlsKey: String?
    public var insecureHttp = false
    public var source = SourceKind.kubernetes
    public var namespace = "kyma-installer"
    public var secret = "helm-secret"
    /// `--kube-api URL`; nil: in-cluster, from `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`.
    public var kubeApi: String?
    public var kubeApiInsecureHttp = false
    public var kubeTokenFile: String?
    public var kubeCaFile: String?
    public var sourceDir: String?
    public var tokenFile: String?
    public var clientCa: String?
    public var clientCrl: String?
    public var auditLog: String?
    public var kubeAuth = false
    public var kubeAuthGroup = "helm-cert-server.kyma-project.io"
    public var kubeAuthAudience: [String] = []
    public var kubeAuthNamespace: String?
    public var dev = false
    /// `--event-loops N`; nil: one per core.
    public var eventLoops: Int?
    public var maxConnections = HTTPServerLimits().maxConnections
    public var maxConnectionsPerClient = HTTPServerLimits().maxConnectionsPerClient
    public var tillerAddress: String?
    public var tillerCheckInterval = "5m"
    public var tillerCheckTimeout = "10s"
    public var issuerSecret: String?
    public var issueMaxTtl: String?
    public var personalKeyAlgorithm: PersonalKeyAlgorithm?
    public var sharedKey = true
    public var logLevel = "info"

    /// Every option at its default.
    public init() {}

    /// The most `--event-loops`.
    public static let maxEventLoops = 256
}
