import Testing
@testable import KubernetesClient

@Suite struct KubernetesConfigurationTests {
    @Test func inClusterUsesTheServiceEnvironmentTheTokenAndTheCA() throws {
        let configuration = try KubernetesConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"])
        #expect(configuration.apiServer == "https://10.0.0.1:443")
        #expect(configuration.tokenFile == "/var/run/secrets/kubernetes.io/serviceaccount/token")
        #expect(configuration.caFile == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
    }

    @Test func inClusterPutsAnIPv6HostInBrackets() throws {
        let configuration = try KubernetesConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"])
        #expect(configuration.apiServer == "https://[fd00::1]:6443")
    }

    @Test(arguments: [
        ([:], "KUBERNETES_SERVICE_HOST is not set"),
        (["KUBERNETES_SERVICE_HOST": "", "KUBERNETES_SERVICE_PORT": "443"], "KUBERNETES_SERVICE_HOST is not set"),
        (["KUBERNETES_SERVICE_HOST": "10.0.0.1"], "KUBERNETES_SERVICE_PORT is not set"),
    ])
    func inClusterOutsideAPodSaysWhatToDo(environment: [String: String], message: String) {
        #expect {
            try KubernetesConfiguration.inCluster(environment: environment)
        } throws: { error in
            guard case .configuration(let text) = error as? KubernetesError else { return false }
            return text.contains(message) && text.contains("--kube-api")
        }
    }

    @Test func theDefaultsAreClientGosTimeouts() {
        let configuration = KubernetesConfiguration(apiServer: "https://x")
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.requestTimeout == .seconds(15))
        #expect(configuration.watchTimeoutSeconds == 290)
        #expect(configuration.tokenMaxAge == .seconds(60))
    }
}
