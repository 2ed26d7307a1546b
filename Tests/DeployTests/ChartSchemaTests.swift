import Testing
import TestSupport

/// Every rendering validates against the Kubernetes schemas of the version it was rendered for
/// (kubernetes-validate --strict: unknown fields and unknown API versions fail).
@Suite struct ChartSchemaTests {
    @Test(arguments: ChartValues.allCases, kubeVersions)
    func renderingValidatesAgainstItsKubernetesVersion(values: ChartValues, kubeVersion: String) throws {
        let rendered = try values.render(kubeVersion: kubeVersion)
        let result = try validate(rendered.yaml, kubeVersion: kubeVersion)
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        // kubernetes-validate only warns (and exits 0) for an apiVersion it has no schema for: that is a failure here.
        #expect(!result.stdoutText.contains("WARN") && !result.stderrText.contains("WARN"), "\(result.stdoutText)\(result.stderrText)")
        let passed = (result.stdoutText + result.stderrText).components(separatedBy: " passed for resource ").count - 1
        #expect(passed == rendered.objects.count, "every rendered object is validated")
    }

    /// The validation can fail: today's rendering (seccompProfile field, policy/v1, networking.k8s.io/v1) is not
    /// valid for Kubernetes 1.16, which is why the chart picks fields and API versions by `.Capabilities`.
    @Test func todaysRenderingDoesNotValidateAgainstKubernetes116() throws {
        let rendered = try ChartValues.allOptions.render(kubeVersion: "1.30.0")
        let result = try validate(rendered.yaml, kubeVersion: "1.16.0")
        #expect(result.status != 0)
        #expect(result.stdoutText.contains("seccompProfile") || result.stderrText.contains("seccompProfile"))
    }

    private func validate(_ yaml: String, kubeVersion: String) throws -> CommandResult {
        let directory = try TemporaryDirectory("deploy-validate")
        defer { directory.remove() }
        try directory.write("rendered.yaml", yaml)
        return try DeployTool.kubernetesValidate(for: kubeVersion)
            .run(["--strict", "--kubernetes-version", kubeVersion, directory.file("rendered.yaml")])
    }
}
