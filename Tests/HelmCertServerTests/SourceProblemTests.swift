import HelmBundle
import KubernetesClient
import Testing
@testable import HelmCertServer

/// The words an operator reads in the log, on `/readyz` and in a 503 when the bundle's source is wrong: each
/// names the thing that is wrong and what to do about it.
@Suite("Why no bundle is served, in the operator's words")
struct SourceProblemTests {
    let secret = "secret kyma-installer/helm-secret"

    @Test("before the first read: waiting for that source")
    func notLoadedYet() {
        #expect(BundleUnavailability.notLoadedYet(source: secret).description
            == "waiting for the first read of secret kyma-installer/helm-secret")
    }

    @Test("a missing Secret is named, with how to create it")
    func secretNotFound() {
        let text = SourceProblem.secretNotFound(secret: secret).description
        #expect(text == "secret kyma-installer/helm-secret does not exist (deleted or not yet created); create it, e.g. by re-running the Kyma installer")
        #expect(BundleUnavailability.sourceFailing(.secretNotFound(secret: secret)).description == text)
    }

    @Test("an API failure names the Secret and carries the API's own actionable words")
    func kubernetesAPIFailing() {
        let forbidden = Status(
            message: #"secrets "helm-secret" is forbidden: User "system:serviceaccount:kyma-installer:helm-cert-server" cannot get resource "secrets""#,
            reason: "Forbidden", code: 403)
        let text = SourceProblem.kubernetesAPIFailing(secret: secret, .status(forbidden)).description
        #expect(text.hasPrefix("cannot read secret kyma-installer/helm-secret from the Kubernetes API: "))
        #expect(text.contains("403 Forbidden"))
        #expect(text.contains("cannot get resource"))
    }

    @Test("an invalid bundle names its origin and the key that was wrong, never the key's bytes")
    func invalidBundle() {
        let error = BundleError(key: "global.helm.tls.key", reason: "is not valid base64; re-create the secret")
        let text = SourceProblem.invalidBundle(origin: "\(secret) (resourceVersion 41)", error).description
        #expect(text == "secret kyma-installer/helm-secret (resourceVersion 41) was refused: global.helm.tls.key is not valid base64; re-create the secret")
        // With nothing served yet, the same problem is why there is no bundle.
        #expect(BundleUnavailability.sourceFailing(.invalidBundle(origin: secret, error)).description
            == "secret kyma-installer/helm-secret holds no valid bundle: global.helm.tls.key is not valid base64; re-create the secret")
    }

    @Test("each problem is counted under its own metrics kind")
    func metricsKinds() {
        #expect(SourceProblem.secretNotFound(secret: secret).metricsKind == .withdrawn)
        #expect(SourceProblem.kubernetesAPIFailing(secret: secret, .status(Status(code: 500))).metricsKind == .api)
        #expect(SourceProblem.invalidBundle(origin: secret, BundleError(key: nil, reason: "x")).metricsKind == .invalidBundle)
    }
}
