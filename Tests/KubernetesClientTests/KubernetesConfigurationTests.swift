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
            return text.description.contains(message) && text.description.contains("--kube-api")
        }
    }

    @Test func theDefaultsAreClientGosTimeouts() {
        let configuration = KubernetesConfiguration(apiServer: "https://x")
        #expect(configuration.connectTimeout == .seconds(5))
        #expect(configuration.requestTimeout == .seconds(15))
        #expect(configuration.watchTimeoutSeconds == 290)
        #expect(configuration.tokenMaxAge == .seconds(60))
    }

    @Test func anHTTPSURLIsAccepted() throws {
        try KubernetesConfiguration(apiServer: "HTTPS://10.0.0.1:443").validate()
    }

    @Test func aPlainHTTPURLIsRefusedNamingTheFlagThatAllowsIt() throws {
        var configuration = KubernetesConfiguration(apiServer: "http://127.0.0.1:8001")
        #expect {
            try configuration.validate()
        } throws: { error in
            guard case .configuration(let text) = error as? KubernetesError else { return false }
            return text.description.contains("clear text") && text.description.contains("--kube-api-insecure-http")
        }
        configuration.allowsInsecureHTTP = true
        try configuration.validate()
    }

    @Test(arguments: ["file:///var/run/secrets/kubernetes.io/serviceaccount/token", "ftp://10.0.0.1", "10.0.0.1:443", ""])
    func anyOtherSchemeIsRefusedEvenWithInsecureHTTPAllowed(url: String) {
        var configuration = KubernetesConfiguration(apiServer: url)
        configuration.allowsInsecureHTTP = true
        #expect(throws: KubernetesError.self) { try configuration.validate() }
    }

    @Test func theDefaultWatchEventLimitHoldsTheLargestSecretWithRoom() {
        let limit = KubernetesConfiguration(apiServer: "https://x").maxWatchEventBytes
        #expect(limit == 4 << 20)
        #expect(limit > (1 << 20) * 4 / 3 * 2, "1 MiB of data is 1.4 MiB as base64; twice that fits")
    }
}
