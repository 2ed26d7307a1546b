import FoundationEssentials
import Testing
@testable import KubernetesClient

/// What an operator reads when the Kubernetes API cannot be used: each message names what is wrong and what to
/// pass, mount or install instead.
@Suite struct KubernetesErrorTests {
    @Test("each configuration problem says what to do", arguments: [
        (KubernetesError.ConfigurationProblem.missingEnvironmentVariable("KUBERNETES_SERVICE_HOST"),
         ["KUBERNETES_SERVICE_HOST is not set", "--kube-api"]),
        (.insecureURL("http://10.0.0.1"), ["http://10.0.0.1", "clear text", "--kube-api-insecure-http"]),
        (.unsupportedURL("ftp://10.0.0.1"), ["ftp://10.0.0.1", "must start with https://"]),
        (.unreadableTokenFile(path: "/t", call: "open", reason: "Permission denied"),
         ["cannot open token file /t: Permission denied", "--kube-token-file"]),
        (.emptyTokenFile(path: "/t"), ["token file /t is empty", "--kube-token-file"]),
        (.libcurlUnavailable(detail: "libcurl.so.4: cannot open shared object file", notFound: true),
         ["libcurl.so.4: cannot open", "install Debian's libcurl4 package"]),
        (.libcurlUnavailable(detail: "curl_global_init failed", notFound: false), ["libcurl could not be used (curl_global_init failed)"]),
    ])
    func configurationProblemsSayWhatToDo(problem: KubernetesError.ConfigurationProblem, phrases: [String]) {
        let text = KubernetesError.configuration(problem).description
        #expect(text.hasPrefix("Kubernetes client configuration: "))
        for phrase in phrases { #expect(text.contains(phrase), "\(text)") }
    }

    @Test func aDecodingFailureNamesTheObjectAndTheField() throws {
        let json = Data(#"{"metadata": {"name": "helm-secret", "resourceVersion": 41}}"#.utf8)
        let thrown = #expect(throws: DecodingError.self) { try JSONDecoder().decode(Secret.self, from: json) }
        let failure = KubernetesError.DecodingFailure(object: "secret kyma-installer/helm-secret", error: try #require(thrown))
        #expect(failure.object == "secret kyma-installer/helm-secret")
        #expect(failure.field == "metadata.resourceVersion")
        #expect(KubernetesError.decoding(failure).description.hasPrefix(
            "Kubernetes API answer not understood: secret kyma-installer/helm-secret field metadata.resourceVersion: "))
    }

    @Test func aMissingFieldIsNamedAsMissing() throws {
        let thrown = #expect(throws: DecodingError.self) { try JSONDecoder().decode(Secret.self, from: Data("{}".utf8)) }
        let failure = KubernetesError.DecodingFailure(object: "secret a/b", error: try #require(thrown))
        #expect(failure.description == "secret a/b field metadata: is missing")
    }

    @Test func aWatchEventOfAnUnknownTypeNamesTheTypeField() {
        #expect(throws: KubernetesError.decoding(.init(object: "watch event", field: "type", problem: "unknown type SURPRISE"))) {
            try WatchEvent.decode(line: Array(#"{"type": "SURPRISE", "object": {}}"#.utf8))
        }
    }
}
