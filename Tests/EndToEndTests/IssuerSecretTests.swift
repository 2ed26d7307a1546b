import Foundation
import HelmBundle
import Testing
import TestSupport

/// `--issuer-secret` against the Kubernetes API double: the issuer Secret missing, wrong, rotated and deleted;
/// `--kube-auth` asking RBAC for `create` on `bundles/certificates`.
@Suite("The issuer Secret and issuing permissions, end to end", .serialized)
struct IssuerSecretTests {
    static let issuer = "helm-issuer-ca"
    static let runner = "system:serviceaccount:ci:runner"
    static let group = "helm-cert-server.kyma-project.io"

    /// - Parameter clientCA: also `--client-ca` with the Helm CA (`tiller-ca.pem`), as the README describes.
    func makeCluster(withIssuer: Bool = true, clientCA: Bool = false) throws -> ClusterFixture {
        let arguments = [
            "--issuer-secret", "\(ClusterFixture.namespace)/\(Self.issuer)", "--kube-auth", "--kube-auth-namespace",
            ClusterFixture.namespace,
        ]
        let cluster = try ClusterFixture(startService: false) { double in
            try double.addReviewToken("runner-token", username: Self.runner, uid: "u-1")
            try double.addReviewToken("reader-token", username: "reader", uid: "u-2")
            try double.grant(
                user: Self.runner, verb: "create", apiGroup: Self.group, resource: "bundles/certificates", name: "helm",
                namespace: ClusterFixture.namespace)
            try double.grant(
                user: "reader", verb: "get", apiGroup: Self.group, resource: "bundles", name: "helm",
                namespace: ClusterFixture.namespace)
        }
        try cluster.files.write("tiller-ca.pem", cluster.tillerCA.certificatePEM)
        try cluster.start(extraArguments: arguments + (clientCA ? ["--client-ca", cluster.files.file("tiller-ca.pem")] : []))
        if withIssuer { try setIssuer(cluster, cluster.tillerCA) }
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        return cluster
    }

    func setIssuer(_ cluster: ClusterFixture, _ authority: PKIFixtures.Credential) throws {
        try cluster.double.setSecret(
            namespace: ClusterFixture.namespace, name: Self.issuer, data: PKIFixtures.issuerSecretData(authority))
    }

    func issue(_ cluster: ClusterFixture, token: String? = nil) throws -> CurlResponse {
        try curl(
            "\(cluster.base)/v1/bundles/helm/personal.tar.gz", method: "POST",
            headers: [token.map { "Authorization: Bearer \($0)" } ?? cluster.auth], caFile: cluster.serviceCA)
    }

    func readiness(_ cluster: ClusterFixture) throws -> String { try cluster.get("/readyz").bodyText }

    @Test("a missing issuer Secret: 503 and /readyz say why; once created, the certificate works with Tiller")
    func missingThenCreated() throws {
        let cluster = try makeCluster(withIssuer: false)
        try cluster.waitUntil("issuing says the secret is missing") {
            try readiness(cluster).contains("issuing: not ready: secret kyma-installer/helm-issuer-ca does not exist")
        }
        let refused = try issue(cluster)
        #expect(refused.status == 503)
        #expect(refused.bodyText.contains("helm-issuer-ca does not exist"))

        try setIssuer(cluster, cluster.tillerCA)
        try cluster.waitUntil("issuing ready") { try readiness(cluster).contains("issuing: ready") }
        let archive = try issue(cluster)
        #expect(archive.status == 200)
        let home = try TemporaryDirectory("issuer-home")
        defer { home.remove() }
        try runCommand(["tar", "-xzf", "-", "-C", home.path], stdin: archive.body)
        let server = try PKIFixtures.issue(
            by: cluster.tillerCA, commonName: "tiller-server", extendedKeyUsage: "serverAuth",
            subjectAlternativeNames: "IP:127.0.0.1")
        let tiller = try TillerStandIn(.serve(ca: cluster.tillerCA.certificatePEM, server: server))
        #expect(try tiller.acceptsClient(home: home))
    }

    @Test("a wrong issuer Secret is refused naming its key; the last good CA keeps issuing; a deleted one stops it")
    func wrongThenDeleted() throws {
        let cluster = try makeCluster()
        #expect(try issue(cluster).status == 200)
        try setIssuer(cluster, try PKIFixtures.certificateAuthority(commonName: "foreign-ca"))
        try cluster.waitUntil("the refusal is logged naming ca.crt") {
            cluster.service.logLines.contains { $0["message"]?.contains("refused issuer") == true && $0["key"] == "ca.crt" }
        }
        #expect(try readiness(cluster).contains("source problem (issuing with the last good CA)"))
        #expect(try issue(cluster).status == 200, "the last good CA still issues")

        try cluster.double.deleteSecret(namespace: ClusterFixture.namespace, name: Self.issuer)
        try cluster.waitUntil("issuing stops") { try issue(cluster).status == 503 }
        #expect(try readiness(cluster).contains("issuing: not ready"))
        #expect(try cluster.get("/readyz").status == 200, "the bundle is still served")
    }

    @Test("a renewed CA (same subject and key) keeps issuing; a bundle rotated to another CA stops it until the issuer follows")
    func rotation() throws {
        let cluster = try makeCluster()
        try setIssuer(cluster, try PKIFixtures.renewed(cluster.tillerCA))
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try issue(cluster).status == 200)

        let next = try PKIFixtures.certificateAuthority(commonName: "tiller-ca-2")
        let client = try PKIFixtures.issue(by: next)
        try cluster.double.setSecret(
            namespace: ClusterFixture.namespace, name: ClusterFixture.secretName,
            data: ClusterFixture.kymaData(ca: next.certificatePEM, cert: client.certificatePEM, key: client.keyPEM))
        try cluster.waitUntil("issuing stops for the old CA") { try issue(cluster).status == 503 }
        #expect(try issue(cluster).bodyText.contains("not the CA in the bundle"))
        try setIssuer(cluster, next)
        try cluster.waitUntil("issuing resumes with the new CA") { try issue(cluster).status == 200 }
        let home = try TemporaryDirectory("rotated")
        defer { home.remove() }
        try runCommand(["tar", "-xzf", "-", "-C", home.path], stdin: try issue(cluster).body)
        #expect(try runCommand(["openssl", "verify", "-CAfile", home.file("ca.pem"), home.file("cert.pem")]).status == 0)
        #expect(try home.read("ca.pem") == next.certificatePEM)
    }

    @Test("--kube-auth: issuing asks RBAC for create on bundles/certificates, exactly; get on bundles is not enough")
    func permissions() throws {
        let cluster = try makeCluster()
        try cluster.double.clearRequestLog()
        let granted = try issue(cluster, token: "runner-token")
        #expect(granted.status == 200)
        let reviews = try cluster.double.requestLog().filter { $0.path.hasSuffix("subjectaccessreviews") }
        let attributes = try #require(reviews.first.flatMap { ($0.jsonBody?["spec"] as? [String: Any])?["resourceAttributes"] as? [String: String] })
        #expect(attributes == [
            "namespace": "kyma-installer", "verb": "create", "group": Self.group, "resource": "bundles",
            "subresource": "certificates", "name": "helm",
        ])
        let audit = String(decoding: try cluster.files.read("audit.log"), as: UTF8.self)
        #expect(audit.contains(#""user":"\#(Self.runner)","authMethod":"kubernetes""#) && audit.contains(#""how":"generated""#))

        let reader = try issue(cluster, token: "reader-token")
        #expect(reader.status == 403)
        #expect(reader.bodyText.contains("bundles/certificates") && reader.bodyText.contains("create"))
        #expect(try cluster.get("/v1/bundles/helm/ca.pem", headers: ["Authorization: Bearer reader-token"]).status == 200)

        let listing = try cluster.get("/v1/bundles/helm/certificates", headers: ["Authorization: Bearer runner-token"])
        #expect(listing.status == 403, "listing asks for list, which the runner lacks")
        #expect(listing.bodyText.contains("list"))
        let staticUser = try cluster.get("/v1/bundles/helm/certificates", headers: [cluster.auth])
        #expect(staticUser.status == 403, "a static-token user without the ledger-readers group")
        #expect(staticUser.bodyText.contains("helm-cert-server:ledger-readers"))
    }

    @Test("with --client-ca set to the Helm CA, a personal certificate is no client identity: 401 on key.pem, audited without one")
    func personalCertificateIsNoClientIdentity() throws {
        let cluster = try makeCluster(clientCA: true)
        let archive = try issue(cluster, token: "runner-token")
        #expect(archive.status == 200)
        let home = try TemporaryDirectory("marked-home")
        defer { home.remove() }
        try runCommand(["tar", "-xzf", "-", "-C", home.path], stdin: archive.body)
        let presented = ["--cert", home.file("cert.pem"), "--key", home.file("key.pem")]
        for file in ["key.pem", "bundle.tar.gz", "certificates"] {
            let response = try curl(
                "\(cluster.base)/v1/bundles/helm/\(file)", caFile: cluster.serviceCA, extra: presented)
            #expect(response.status == 401, "\(file): \(response.bodyText)")
        }
        let audit = String(decoding: try cluster.files.read("audit.log"), as: UTF8.self).split(separator: "\n")
        let line = try #require(audit.last { $0.contains("/v1/bundles/helm/key.pem") })
        #expect(line.contains(#""authMethod":"none""#) && !line.contains(Self.runner), "\(line)")

        // The shared client certificate, from the same CA, still authenticates by mTLS: the marker makes the difference.
        try cluster.files.write("shared.pem", cluster.client.certificatePEM)
        try cluster.files.write("shared.key", cluster.client.keyPEM)
        let shared = try curl(
            "\(cluster.base)/v1/bundles/helm/key.pem", caFile: cluster.serviceCA,
            extra: ["--cert", cluster.files.file("shared.pem"), "--key", cluster.files.file("shared.key")])
        #expect(shared.status == 200, "\(shared.bodyText)")
    }
}
