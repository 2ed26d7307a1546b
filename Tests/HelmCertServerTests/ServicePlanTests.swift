import HTTPServer
import HelmBundle
import Prometheus
import Testing
@testable import HelmCertServer

/// A plan completed into the service's configuration with what the command read or made for it.
@Suite("ServicePlan: completed into a ServiceConfiguration")
struct ServicePlanTests {
    static let address = ListenAddress(host: "127.0.0.1", port: 0)

    static func complete(
        _ options: ServiceOptions, development: DevelopmentMaterial? = nil, podNamespace: String? = nil
    ) throws -> ServiceConfiguration {
        ServiceConfiguration(
            plan: try options.resolved(environment: ServiceOptionsTests.inCluster), listen: address,
            development: development, podNamespace: podNamespace, eventLoopCount: 2,
            metricsRegistry: PrometheusCollectorRegistry())
    }

    @Test("--dev's generated bundle, token, issuing CA and server certificate take the places the plan left for them")
    func development() throws {
        let pki = try DevelopmentPKI.generate()
        let tokens = TokenFile(parsing: Array("dev-token,developer,developer\n".utf8))
        let material = DevelopmentMaterial(
            pki: pki, tls: TLSConfiguration(certificateChainFile: "/dev/server.pem", privateKeyFile: "/dev/server-key.pem"),
            tokens: tokens)
        var options = ServiceOptions()
        options.dev = true
        options.clientCa = "clients.pem"
        let configuration = try Self.complete(options, development: material)
        #expect(configuration.listen == Self.address)
        #expect(configuration.eventLoopCount == 2)
        let tls = try #require(configuration.tls)
        #expect(tls.certificateChainFile == "/dev/server.pem")
        #expect(tls.privateKeyFile == "/dev/server-key.pem")
        #expect(tls.clientCAFile == "clients.pem")
        guard case .fixed(let files) = configuration.source else {
            Issue.record("source: \(configuration.source)")
            return
        }
        #expect(files == pki.bundle)
        #expect(configuration.tokenFile == nil)
        #expect(configuration.fixedTokens?.entries.map(\.user.name) == ["developer"])
        let issuing = try #require(configuration.issuing)
        guard case .fixed(let data) = issuing.source else {
            Issue.record("issuer: \(issuing.source)")
            return
        }
        #expect(data == pki.issuerSecretData)
    }

    @Test("--kube-auth's namespace: the pod's own when it could be read, else --namespace; --kube-auth-namespace wins")
    func kubeAuthNamespace() throws {
        var options = ServiceOptionsTests.valid
        options.kubeAuth = true
        options.namespace = "secrets"
        #expect(try Self.complete(options, podNamespace: "kyma-system").kubeAuth?.namespace == "kyma-system")
        #expect(try Self.complete(options, podNamespace: nil).kubeAuth?.namespace == "secrets")
        options.kubeAuthNamespace = "reviews"
        #expect(try Self.complete(options, podNamespace: "kyma-system").kubeAuth?.namespace == "reviews")
    }

    @Test("TLS files, a client CA and CRL, the token file and the rest are handed on")
    func files() throws {
        var options = ServiceOptions()
        options.tlsCert = "tls.crt"
        options.tlsKey = "tls.key"
        options.clientCa = "ca.pem"
        options.clientCrl = "ca.crl"
        options.tokenFile = "tokens.csv"
        options.sharedKey = false
        options.tillerAddress = "tiller:44134"
        options.auditLog = "audit.log"
        let configuration = try Self.complete(options)
        let tls = try #require(configuration.tls)
        #expect(tls.certificateChainFile == "tls.crt")
        #expect(tls.privateKeyFile == "tls.key")
        #expect(tls.clientCAFile == "ca.pem")
        #expect(tls.clientCRLFile == "ca.crl")
        #expect(configuration.tokenFile == "tokens.csv")
        #expect(configuration.fixedTokens == nil)
        #expect(!configuration.sharedKey)
        #expect(configuration.tiller?.address == "tiller:44134")
        #expect(configuration.auditLogPath == "audit.log")
        #expect(configuration.issuing == nil)
        guard case .kubernetes(let api, "kyma-installer", "helm-secret") = configuration.source else {
            Issue.record("source: \(configuration.source)")
            return
        }
        #expect(api.apiServer == "https://10.0.0.1:443")
    }
}
