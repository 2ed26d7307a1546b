import Foundation
import Testing
import TestSupport
@testable import KubernetesClient

/// The REAL `kubectl` (own HOME and cache, a kubeconfig with the double's CA and token) against the double:
/// proof that the double speaks the API as kube-apiserver does, so what our client does against it holds.
@Suite struct KubectlReadsTheDoubleTests {
    /// Binary-safe values: every byte value appears, so "exactly the bytes" means something.
    static let values: [String: [UInt8]] = [
        "global.helm.ca.crt": Array("-----BEGIN CERTIFICATE-----\nMIIBca\n-----END CERTIFICATE-----\n".utf8),
        "global.helm.tls.crt": Array("-----BEGIN CERTIFICATE-----\nMIIBtls\n-----END CERTIFICATE-----\n".utf8),
        "global.helm.tls.key": (0...255).map(UInt8.init) + Array("\n-----END PRIVATE KEY-----\n".utf8),
    ]

    struct Kubectl {
        let api: KubernetesAPIDouble
        let home: TemporaryDirectory
        let kubeconfig: String

        init() throws {
            api = try KubernetesAPIDouble.start(secrets: [.init(namespace: helmNamespace, name: helmSecretName,
                                                                data: KubectlReadsTheDoubleTests.values)])
            home = try TemporaryDirectory("kubectl-home")
            kubeconfig = try api.writeKubeconfig()
        }

        func stop() { api.stop(); home.remove() }

        /// Runs a shell pipeline with kubectl pointed at the double.
        func shell(_ command: String) throws -> CommandResult {
            // scripts/install-test-tools may put a kubectl in .tools/bin; otherwise the one on PATH.
            let path = "\(packageRoot)/.tools/bin:" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            return try runCommand(["sh", "-c", command], environment: [
                "HOME": home.path, "KUBECONFIG": kubeconfig, "KUBECTL_CACHE": home.file("cache"), "PATH": path,
            ])
        }
    }

    @Test(arguments: ["global.helm.ca.crt", "global.helm.tls.crt", "global.helm.tls.key"])
    func theKymaDocsCommandGetsExactlyTheBytesPutIn(key: String) throws {
        let kubectl = try Kubectl()
        defer { kubectl.stop() }
        let escaped = key.replacingOccurrences(of: ".", with: "\\\\.")
        let result = try kubectl.shell(#"kubectl --cache-dir "$KUBECTL_CACHE" get -n kyma-installer secret helm-secret -o jsonpath="{.data['\#(escaped)']}" | base64 -d"#)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdout == Self.values[key])
    }

    @Test func kubectlCreatesASecretOurClientReadsAndDeletesIt() throws {
        let kubectl = try Kubectl()
        defer { kubectl.stop() }
        try kubectl.home.write("tls.crt", "certificate bytes\n")
        let created = try kubectl.shell(#"kubectl --cache-dir "$KUBECTL_CACHE" create secret generic made-by-kubectl -n kyma-installer --from-literal=ca.crt=hello --from-file=tls.crt="$HOME/tls.crt""#)
        #expect(created.status == 0, "\(created.stderrText)")
        #expect(created.stdoutText == "secret/made-by-kubectl created\n")

        let client = makeClient(for: kubectl.api)
        let secret = try client.secret(namespace: helmNamespace, name: "made-by-kubectl")
        #expect(secret.data == base64(["ca.crt": Array("hello".utf8), "tls.crt": Array("certificate bytes\n".utf8)]))
        #expect(secret.type == "Opaque")

        let deleted = try kubectl.shell(#"kubectl --cache-dir "$KUBECTL_CACHE" delete secret made-by-kubectl -n kyma-installer"#)
        #expect(deleted.status == 0, "\(deleted.stderrText)")
        #expect(deleted.stdoutText == "secret \"made-by-kubectl\" deleted\n")
        #expect(throws: KubernetesError.self) { try client.secret(namespace: helmNamespace, name: "made-by-kubectl") }
        #expect(try kubectl.api.requestLog().contains { $0.verb == "create" && $0.code == 201 })
    }

    @Test func kubectlSeesTheDoublesNotFoundAndForbiddenAsTheRealServersErrors() throws {
        let kubectl = try Kubectl()
        defer { kubectl.stop() }
        let missing = try kubectl.shell(#"kubectl --cache-dir "$KUBECTL_CACHE" get -n kyma-installer secret nope"#)
        #expect(missing.status != 0)
        #expect(missing.stderrText.contains(#"Error from server (NotFound): secrets "nope" not found"#))
        try kubectl.api.deny(namespace: helmNamespace, name: helmSecretName)
        let forbidden = try kubectl.shell(#"kubectl --cache-dir "$KUBECTL_CACHE" get -n kyma-installer secret helm-secret"#)
        #expect(forbidden.stderrText.contains(#"Error from server (Forbidden): secrets "helm-secret" is forbidden"#))
    }

    @Test func kubectlWithAnOutdatedTokenIsRefused() throws {
        let kubectl = try Kubectl()
        defer { kubectl.stop() }
        try kubectl.home.write("old-token", "test-token-1")
        let config = try String(contentsOfFile: kubectl.kubeconfig, encoding: .utf8)
            .replacingOccurrences(of: kubectl.api.tokenFile, with: kubectl.home.file("old-token"))
        try kubectl.home.write("old-kubeconfig", config)
        try kubectl.api.rotateToken(to: "a-token-kubectl-does-not-have")
        let result = try kubectl.shell(#"kubectl --kubeconfig "$HOME/old-kubeconfig" --cache-dir "$KUBECTL_CACHE" get -n kyma-installer secret helm-secret"#)
        #expect(result.status != 0)
        #expect(result.stderrText.contains("Unauthorized") || result.stderrText.contains("provide credentials"))
    }

    @Test func kubectlCreatesTokenAndSubjectAccessReviewsAsOnARealServer() throws {
        let kubectl = try Kubectl()
        defer { kubectl.stop() }
        try kubectl.api.addReviewToken("runner-token", username: "system:serviceaccount:ci:runner", uid: "u-1",
                                       groups: ["system:serviceaccounts", "system:authenticated"])
        try kubectl.api.grant(group: "system:serviceaccounts", verb: "get", apiGroup: "helm-cert-server.kyma-project.io",
                              resource: "bundles", name: "helm", namespace: "kyma-installer")
        try kubectl.home.write("tokenreview.json", #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"runner-token"}}"#)
        try kubectl.home.write("sar.json", #"{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"resourceAttributes":{"namespace":"kyma-installer","verb":"get","group":"helm-cert-server.kyma-project.io","resource":"bundles","name":"helm"},"user":"system:serviceaccount:ci:runner","groups":["system:serviceaccounts"]}}"#)
        // kubectl finds both resources through discovery (no OpenAPI on the double, hence --validate=false)
        let create = #"kubectl --cache-dir "$KUBECTL_CACHE" create --validate=false -o jsonpath="#
        let review = try kubectl.shell(create + #"'{.status.authenticated} {.status.user.username}' -f "$HOME/tokenreview.json""#)
        #expect(review.status == 0, "\(review.stderrText)")
        #expect(review.stdoutText == "true system:serviceaccount:ci:runner")
        let access = try kubectl.shell(create + #"'{.status.allowed}' -f "$HOME/sar.json""#)
        #expect(access.status == 0, "\(access.stderrText)")
        #expect(access.stdoutText == "true")

        try kubectl.api.denyReviews(true)
        let refused = try kubectl.shell(create + #"'{.status}' -f "$HOME/tokenreview.json""#)
        #expect(refused.status != 0)
        #expect(refused.stderrText.contains(#"Error from server (Forbidden): error when creating"#))
        #expect(refused.stderrText.contains(#"tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:kyma-installer:helm-cert-server" cannot create resource "tokenreviews""#))
    }
}
