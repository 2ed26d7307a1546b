import Foundation
import HelmBundle
import Testing
import TestSupport

/// A cluster as far as helm-cert-server can tell: the API double holding `helm-secret`, a Tiller CA and client
/// certificate, the service's own serving certificate, a token file, and the service started against them.
final class ClusterFixture {
    static let namespace = "kyma-installer"
    static let secretName = "helm-secret"

    let tillerCA: PKIFixtures.Credential
    let client: PKIFixtures.Credential
    let double: KubernetesAPIDouble
    let files: TemporaryDirectory
    private(set) var service: ServiceProcess!
    let token = "e2e-token-\(UInt32.random(in: 0...UInt32.max))"
    var base: String { "https://127.0.0.1:\(service.port)" }
    var auth: String { "Authorization: Bearer \(token)" }
    var serviceCA: String { files.file("service-ca.pem") }

    static func kymaData(ca: [UInt8], cert: [UInt8], key: [UInt8]) -> [String: [UInt8]] {
        ["global.helm.ca.crt": ca, "global.helm.tls.crt": cert, "global.helm.tls.key": key]
    }

    /// Builds everything; `beforeStart` runs against the double before the service starts (to inject faults).
    init(startService: Bool = true, extraArguments: [String] = [], beforeStart: (KubernetesAPIDouble) throws -> Void = { _ in }) throws {
        tillerCA = try PKIFixtures.certificateAuthority(commonName: "tiller-ca")
        client = try PKIFixtures.issue(by: tillerCA, commonName: "helm-client")
        double = try KubernetesAPIDouble.start(secrets: [
            .init(
                namespace: Self.namespace, name: Self.secretName,
                data: Self.kymaData(ca: tillerCA.certificatePEM, cert: client.certificatePEM, key: client.keyPEM))
        ])
        files = try TemporaryDirectory("e2e-kube")
        try writeServingCertificate(commonName: "helm-cert-server")
        try files.write("tokens.csv", "\(token),alice,1001,\"developers\"\n")
        try beforeStart(double)
        if startService { try start(extraArguments: extraArguments) }
    }

    /// Writes a fresh serving certificate from a fresh CA (`service-ca.pem`, `serving.pem`, `serving.key`).
    func writeServingCertificate(commonName: String, endDate: String? = nil) throws {
        let serviceCA = try PKIFixtures.certificateAuthority(commonName: "\(commonName)-ca")
        let serving = try PKIFixtures.issue(
            by: serviceCA, commonName: commonName, extendedKeyUsage: "serverAuth",
            subjectAlternativeNames: "DNS:localhost,IP:127.0.0.1", endDate: endDate)
        try files.write("service-ca.pem", serviceCA.certificatePEM)
        try files.write("serving.key", serving.keyPEM)
        try files.write("serving.pem", serving.certificatePEM)
    }

    func start(extraArguments: [String] = []) throws {
        service = try ServiceProcess(arguments: [
            "--listen", "127.0.0.1:0", "--tls-cert", files.file("serving.pem"), "--tls-key", files.file("serving.key"),
            "--token-file", files.file("tokens.csv"), "--kube-api", double.url, "--kube-token-file", double.tokenFile,
            "--kube-ca-file", double.caFile, "--audit-log", files.file("audit.log"),
        ] + extraArguments)
    }

    deinit {
        service?.stop()
        double.stop()
        files.remove()
    }

    func get(_ path: String, headers: [String] = []) throws -> CurlResponse {
        try curl(base + path, headers: headers, caFile: serviceCA)
    }

    /// Polls `condition` every 100 ms for up to `seconds`; records an issue naming `what` if it never holds.
    func waitUntil(_ what: String, seconds: Double = 10, _ condition: () throws -> Bool) throws {
        if eventually(within: .seconds(seconds), every: .milliseconds(100), { (try? condition()) == true }) { return }
        Issue.record("timed out after \(seconds) s waiting until \(what); service log:\n\(service?.stderrText ?? "")")
        throw CurlError(description: "timed out waiting until \(what)")
    }

    /// Replaces the secret's data.
    func setSecret(cert: [UInt8], key: [UInt8]) throws {
        try double.setSecret(
            namespace: Self.namespace, name: Self.secretName,
            data: Self.kymaData(ca: tillerCA.certificatePEM, cert: cert, key: key))
    }
}

/// The service against the Kubernetes API double: what a Kyma cluster would do to it.
@Suite("Kubernetes source, end to end", .serialized)
final class KubernetesSourceTests {
    let cluster: ClusterFixture
    var tillerCA: PKIFixtures.Credential { cluster.tillerCA }
    var client: PKIFixtures.Credential { cluster.client }
    var double: KubernetesAPIDouble { cluster.double }
    var service: ServiceProcess { cluster.service }
    var files: TemporaryDirectory { cluster.files }
    var token: String { cluster.token }
    var auth: String { cluster.auth }
    static let namespace = ClusterFixture.namespace
    static let secretName = ClusterFixture.secretName
    static func kymaData(ca: [UInt8], cert: [UInt8], key: [UInt8]) -> [String: [UInt8]] {
        ClusterFixture.kymaData(ca: ca, cert: cert, key: key)
    }

    init() throws {
        cluster = try ClusterFixture()
        try cluster.waitUntil("the first bundle is served") { try self.cluster.get("/readyz").status == 200 }
    }

    func get(_ path: String, headers: [String] = []) throws -> CurlResponse { try cluster.get(path, headers: headers) }
    func waitUntil(_ what: String, seconds: Double = 10, _ condition: () throws -> Bool) throws {
        try cluster.waitUntil(what, seconds: seconds, condition)
    }

    @Test("the Kyma docs' three kubectl | base64 -d commands and the service give the same bytes")
    func seedEquivalence() throws {
        let kubeconfig = try double.writeKubeconfig()
        let home = try TemporaryDirectory("kubectl-home")
        defer { home.remove() }
        // The commands from the Kyma docs, with Linux's `base64 -d` in place of macOS's `-D`.
        let commands = [
            ("ca.pem", "kubectl get -n kyma-installer secret helm-secret -o jsonpath=\"{.data['global\\.helm\\.ca\\.crt']}\" | base64 -d > \"$HOME/ca.pem\""),
            ("cert.pem", "kubectl get -n kyma-installer secret helm-secret -o jsonpath=\"{.data['global\\.helm\\.tls\\.crt']}\" | base64 -d > \"$HOME/cert.pem\""),
            ("key.pem", "kubectl get -n kyma-installer secret helm-secret -o jsonpath=\"{.data['global\\.helm\\.tls\\.key']}\" | base64 -d > \"$HOME/key.pem\""),
        ]
        for (file, command) in commands {
            let result = try runCommand(
                ["bash", "-o", "pipefail", "-c", command],
                environment: ["KUBECONFIG": kubeconfig, "HOME": home.path])
            #expect(result.status == 0, "\(command): \(result.stderrText)")
            let fromKubectl = try home.read(file)
            let fromService = try get("/v1/bundles/helm/\(file)", headers: [auth])
            #expect(fromService.status == 200)
            #expect(!fromKubectl.isEmpty)
            #expect(fromService.body == fromKubectl, "\(file) differs from what kubectl + base64 -d wrote")
        }
    }

    @Test("the unpacked bundle gets GetVersion from a gRPC Tiller stand-in; a foreign certificate does not")
    func bundleWorksAgainstTiller() throws {
        let tillerServer = try PKIFixtures.issue(
            by: tillerCA, commonName: "tiller-server", extendedKeyUsage: "serverAuth",
            subjectAlternativeNames: "DNS:localhost,IP:127.0.0.1")
        let tiller = try TillerStandIn(.serve(ca: tillerCA.certificatePEM, server: tillerServer))
        let home = try TemporaryDirectory("helm-home")
        defer { home.remove() }
        let archive = try get("/v1/bundles/helm/bundle.tar.gz", headers: [auth])
        #expect(archive.status == 200)
        let untar = try runCommand(["tar", "-xz", "-C", home.path], stdin: archive.body)
        #expect(untar.status == 0, "\(untar.stderrText)")
        #expect(try tiller.acceptsClient(home: home), "Tiller refused the served bundle")

        // A client certificate from another CA must be refused by the same Tiller.
        let foreignCA = try PKIFixtures.certificateAuthority(commonName: "foreign-ca")
        let foreign = try PKIFixtures.issue(by: foreignCA, commonName: "intruder")
        try home.write("cert.pem", foreign.certificatePEM)
        try home.write("key.pem", foreign.keyPEM)
        #expect(try !tiller.acceptsClient(home: home), "Tiller accepted a certificate it does not trust")
    }

    @Test("a rotated secret is served within seconds, with a new ETag")
    func rotation() throws {
        let before = try get("/v1/bundles/helm/cert.pem", headers: [auth])
        let renewed = try PKIFixtures.issue(by: tillerCA, commonName: "helm-client-renewed")
        try double.setSecret(
            namespace: Self.namespace, name: Self.secretName,
            data: Self.kymaData(ca: tillerCA.certificatePEM, cert: renewed.certificatePEM, key: renewed.keyPEM))
        try waitUntil("the renewed certificate is served", seconds: 5) {
            try self.get("/v1/bundles/helm/cert.pem", headers: [self.auth]).body == renewed.certificatePEM
        }
        let after = try get("/v1/bundles/helm/cert.pem", headers: [auth])
        #expect(after.header("etag") != before.header("etag"))
        #expect(try get("/v1/bundles/helm/key.pem", headers: [auth]).body == renewed.keyPEM)
    }

    @Test("a malformed secret is refused naming the key; the last good bundle stays; no key bytes in logs")
    func malformedSecretKeepsLastGood() throws {
        let good = try get("/v1/bundles/helm/key.pem", headers: [auth]).body
        try double.setSecret(
            namespace: Self.namespace, name: Self.secretName,
            data: Self.kymaData(ca: tillerCA.certificatePEM, cert: client.certificatePEM, key: Array("not a key".utf8)))
        #expect(service.waitForLog { $0["message"]?.hasPrefix("refused bundle") == true && $0["key"] == "global.helm.tls.key" })
        #expect(try get("/v1/bundles/helm/key.pem", headers: [auth]).body == good)
        #expect(try get("/readyz").status == 200)
        let keyText = String(decoding: good, as: UTF8.self)
        let keyBody = keyText.split(separator: "\n").dropFirst().first.map(String.init) ?? keyText
        #expect(!service.stderrText.contains(keyBody))
        #expect(!service.stderrText.contains(token))
    }

    @Test("a deleted secret makes bundle endpoints and /readyz 503 naming it; re-creating it serves again")
    func deleteAndRecreate() throws {
        try double.deleteSecret(namespace: Self.namespace, name: Self.secretName)
        try waitUntil("readyz reports the missing secret", seconds: 5) { try self.get("/readyz").status == 503 }
        let gone = try get("/v1/bundles/helm/ca.pem", headers: [auth])
        #expect(gone.status == 503)
        #expect(gone.header("retry-after") != nil)
        #expect(gone.bodyText.contains("kyma-installer/helm-secret"))
        #expect(try get("/readyz").bodyText.contains("kyma-installer/helm-secret"))
        try double.setSecret(
            namespace: Self.namespace, name: Self.secretName,
            data: Self.kymaData(ca: tillerCA.certificatePEM, cert: client.certificatePEM, key: client.keyPEM))
        try waitUntil("the re-created secret is served", seconds: 5) {
            try self.get("/v1/bundles/helm/ca.pem", headers: [self.auth]).status == 200
        }
    }

    @Test("an in-stream 410 Expired and a cut watch are survived: later changes still arrive")
    func expiredAndCutWatches() throws {
        try waitUntil("a watch is open") { try self.double.openWatches() > 0 }
        try double.expireWatches()
        let second = try PKIFixtures.issue(by: tillerCA, commonName: "after-expire")
        try double.setSecret(
            namespace: Self.namespace, name: Self.secretName,
            data: Self.kymaData(ca: tillerCA.certificatePEM, cert: second.certificatePEM, key: second.keyPEM))
        try waitUntil("the change after the 410 is served", seconds: 10) {
            try self.get("/v1/bundles/helm/cert.pem", headers: [self.auth]).body == second.certificatePEM
        }
        try waitUntil("a watch is open again") { try self.double.openWatches() > 0 }
        try double.cutWatches()
        let third = try PKIFixtures.issue(by: tillerCA, commonName: "after-cut")
        try double.setSecret(
            namespace: Self.namespace, name: Self.secretName,
            data: Self.kymaData(ca: tillerCA.certificatePEM, cert: third.certificatePEM, key: third.keyPEM))
        try waitUntil("the change after the cut is served", seconds: 10) {
            try self.get("/v1/bundles/helm/cert.pem", headers: [self.auth]).body == third.certificatePEM
        }
    }

    @Test("bundle requests never call the Kubernetes API")
    func noAPICallsPerRequest() throws {
        try waitUntil("a watch is open") { try self.double.openWatches() > 0 }
        try double.clearRequestLog()
        for _ in 0..<20 {
            #expect(try get("/v1/bundles/helm/bundle.tar.gz", headers: [auth]).status == 200)
        }
        #expect(try double.requestLog().isEmpty)
        // The Kubernetes source loaded libcurl on first use (it is not linked; see CCurlShims).
        #expect(cluster.service.mappedFiles.contains { $0.hasSuffix("/libcurl.so.4") || $0.contains("/libcurl.so.4.") })
    }

    @Test("a rotated service-account token is picked up after a 401; the bundle keeps being served")
    func serviceAccountTokenRotation() throws {
        try double.rotateToken(to: "rotated-\(UInt32.random(in: 0...UInt32.max))")
        try double.cutWatches()  // the reconnect presents the old token, gets 401, re-reads the file
        let next = try PKIFixtures.issue(by: tillerCA, commonName: "after-token-rotation")
        try double.setSecret(
            namespace: Self.namespace, name: Self.secretName,
            data: Self.kymaData(ca: tillerCA.certificatePEM, cert: next.certificatePEM, key: next.keyPEM))
        try waitUntil("the change is served with the new token", seconds: 10) {
            try self.get("/v1/bundles/helm/cert.pem", headers: [self.auth]).body == next.certificatePEM
        }
        #expect(!service.stderrText.contains("rotated-"))
    }

    @Test("every /v1 request is audited with user, file, status and ETag (none for the key), never the token")
    func auditLines() throws {
        _ = try get("/v1/bundles/helm/cert.pem", headers: [auth])
        _ = try get("/v1/bundles/helm/key.pem", headers: [auth])
        _ = try get("/v1/bundles/helm/key.pem", headers: ["Authorization: Bearer wrong"])
        let lines = String(decoding: try files.read("audit.log"), as: UTF8.self).split(separator: "\n")
        let entries = lines.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let allowed = try #require(entries.last { $0["status"] as? Int == 200 && $0["file"] as? String == "key.pem" })
        #expect(allowed["user"] as? String == "alice")
        #expect(allowed["authMethod"] as? String == "token")
        #expect(allowed["groups"] as? [String] == ["developers"])
        #expect(allowed["etag"] == nil, "a digest of the key in the audit log")
        let certificate = try #require(entries.last { $0["status"] as? Int == 200 && $0["file"] as? String == "cert.pem" })
        #expect(certificate["etag"] as? String != nil)
        #expect(allowed["audit"] as? Bool == true)
        let refused = try #require(entries.last { $0["status"] as? Int == 401 })
        #expect(refused["user"] as? String == "-")
        let text = lines.joined(separator: "\n")
        #expect(!text.contains(token))
        #expect(!text.contains("wrong"))
        #expect(!text.contains("PRIVATE KEY"))
    }
}
