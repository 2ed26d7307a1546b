import Foundation
import Testing
import TestSupport

/// `--kube-auth`: in-cluster callers use their own service-account tokens; RBAC on the virtual resource
/// `bundles.helm-cert-server.kyma-project.io` decides.
@Suite("Kubernetes token authentication, end to end", .serialized)
struct KubernetesAuthTests {
    static let runner = "system:serviceaccount:ci:runner"
    static let group = "helm-cert-server.kyma-project.io"

    func makeCluster() throws -> ClusterFixture {
        let cluster = try ClusterFixture(extraArguments: ["--kube-auth", "--kube-auth-namespace", "kyma-installer"]) { double in
            try double.addReviewToken("runner-token", username: Self.runner, uid: "u-1", groups: ["system:serviceaccounts", "system:serviceaccounts:ci"])
            try double.addReviewToken("stranger-token", username: "system:serviceaccount:dev:stranger", uid: "u-2")
            try double.grant(
                user: Self.runner, verb: "get", apiGroup: Self.group, resource: "bundles", name: "helm",
                namespace: "kyma-installer")
        }
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        return cluster
    }

    @Test("a granted service-account token fetches the bundle and is audited as kubernetes; the decision is cached")
    func granted() throws {
        let cluster = try makeCluster()
        try cluster.double.clearRequestLog()
        let response = try cluster.get("/v1/bundles/helm/key.pem", headers: ["Authorization: Bearer runner-token"])
        #expect(response.status == 200)
        #expect(response.body == cluster.client.keyPEM)
        _ = try cluster.get("/v1/bundles/helm/ca.pem", headers: ["Authorization: Bearer runner-token"])
        let reviews = try cluster.double.requestLog().filter { $0.path.hasSuffix("tokenreviews") }
        #expect(reviews.count == 1, "the second request should be answered from the cache")
        let sar = try #require(try cluster.double.requestLog().first { $0.path.hasSuffix("subjectaccessreviews") })
        let attributes = (sar.jsonBody?["spec"] as? [String: Any])?["resourceAttributes"] as? [String: String]
        #expect(attributes == ["namespace": "kyma-installer", "verb": "get", "group": Self.group, "resource": "bundles", "name": "helm"])
        let audit = String(decoding: try cluster.files.read("audit.log"), as: UTF8.self)
        #expect(audit.contains("\"user\":\"\(Self.runner)\",\"authMethod\":\"kubernetes\""))
        #expect(!audit.contains("runner-token"))
        #expect(!cluster.service.stderrText.contains("runner-token"))
    }

    @Test("authenticated but not granted → 403 naming the missing permission; unknown → 401; static tokens still work")
    func refusals() throws {
        let cluster = try makeCluster()
        let forbidden = try cluster.get("/v1/bundles/helm/key.pem", headers: ["Authorization: Bearer stranger-token"])
        #expect(forbidden.status == 403)
        #expect(forbidden.header("content-type") == "application/problem+json")
        #expect(forbidden.bodyText.contains("bundles"))
        #expect(forbidden.bodyText.contains(Self.group))
        #expect(forbidden.bodyText.contains("kyma-installer"))
        #expect(!forbidden.bodyText.contains("BEGIN"))
        let unknown = try cluster.get("/v1/bundles/helm/key.pem", headers: ["Authorization: Bearer nobody-token"])
        #expect(unknown.status == 401)
        #expect(try cluster.get("/v1/bundles/helm/key.pem", headers: [cluster.auth]).status == 200)
    }

    @Test("a hanging API server delays only the request under review, never the others")
    func hangingReviewDoesNotStallOthers() throws {
        let cluster = try makeCluster()
        try cluster.double.injectHang(count: 1, seconds: 4)
        // The review for this new token hangs in the API for a while, on the reviewer's thread.
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        slow.arguments = [
            "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30", "--cacert", cluster.serviceCA,
            "-H", "Authorization: Bearer runner-token", "\(cluster.base)/v1/bundles/helm/ca.pem",
        ]
        let slowOut = Pipe()
        slow.standardOutput = slowOut
        try slow.run()
        Thread.sleep(forTimeInterval: 0.5)
        for _ in 0..<5 {
            let started = Date()
            #expect(try cluster.get("/v1/bundles/helm/ca.pem", headers: [cluster.auth]).status == 200)
            #expect(Date().timeIntervalSince(started) < 2, "a static-token request waited behind the hanging review")
        }
        slow.waitUntilExit()
        let status = String(decoding: slowOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // The hung review fails (503, not cached) or, if the client retried past the hang, succeeds.
        #expect(["503", "200"].contains(status))
        #expect(cluster.service.isRunning)
    }

    @Test("--kube-auth-audience: a projected token for that audience is allowed; a pod's default token is refused")
    func audience() throws {
        let cluster = try ClusterFixture(extraArguments: [
            "--kube-auth", "--kube-auth-namespace", "kyma-installer", "--kube-auth-audience", "helm-cert-server",
        ]) { double in
            try double.addReviewToken("default-token", username: Self.runner)
            try double.addReviewToken("projected-token", username: Self.runner, audiences: ["helm-cert-server"])
            try double.grant(
                user: Self.runner, verb: "get", apiGroup: Self.group, resource: "bundles", name: "helm",
                namespace: "kyma-installer")
        }
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        let projected = try cluster.get("/v1/bundles/helm/ca.pem", headers: ["Authorization: Bearer projected-token"])
        #expect(projected.status == 200)
        let lent = try cluster.get("/v1/bundles/helm/ca.pem", headers: ["Authorization: Bearer default-token"])
        #expect(lent.status == 401)
        let asked = try cluster.double.requestLog().filter { $0.path.hasSuffix("tokenreviews") }.map(\.reviewAudiences)
        #expect(asked == [["helm-cert-server"], ["helm-cert-server"]])
    }
}
