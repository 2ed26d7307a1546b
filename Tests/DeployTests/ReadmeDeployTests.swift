import Foundation
import Testing
import TestSupport

/// README "Deploy on Kyma" is a path an operator follows command by command: the parts that run here run as
/// written (real `curl`, `jq`, `tar` against the real server with `--dev`), and no command relies on `helm home`,
/// which Helm 3 lacks.
@Suite struct ReadmeDeployTests {
    static func readme() throws -> String {
        try String(contentsOfFile: "\(packageRoot)/README.md", encoding: .utf8)
    }

    /// The lines of the first ```sh block after a heading.
    static func shellBlock(after heading: String) throws -> [String] {
        let text = try readme()
        let section = try #require(text.range(of: "\n\(heading)\n"), "README has \(heading)")
        let rest = text[section.upperBound...]
        let start = try #require(rest.range(of: "```sh\n"))
        let end = try #require(rest[start.upperBound...].range(of: "```"))
        return rest[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Runs shell lines with bash (errexit, pipefail) in a scratch folder whose curl trusts the `--dev` certificate.
    static func run(_ lines: [String], in scratch: TemporaryDirectory, environment: [String: String]) throws -> CommandResult {
        try scratch.write(".curlrc", "insecure\n")  // the --dev CA is the server's own: this folder's curl skips verification
        var env = environment
        env["CURL_HOME"] = scratch.path
        env["HOME"] = scratch.path
        return try runCommand(["bash", "-euo", "pipefail", "-c", lines.joined(separator: "\n")], environment: env,
                              directory: scratch.path)
    }

    @Test func deployPathComesFirstAndNeverUsesHelmHome() throws {
        let readme = try Self.readme()
        #expect(!readme.contains("$(helm home)"))
        #expect(readme.contains("HELM_HOME=\"${HELM_HOME:-$HOME/.helm}\""))
        let deploy = try #require(readme.range(of: "## Deploy on Kyma"))
        #expect(readme.components(separatedBy: "\n## ")[1].hasPrefix("Deploy on Kyma"), "the deploy path comes first")
        for step in ["kubectl -n kyma-installer get secret helm-secret", "rollout status deployment/helm-cert-server",
                     "port-forward service/helm-cert-server 8443:443 >/dev/null & PF=$!", "helm ls --tls"] {
            #expect(readme[deploy.upperBound...].contains(step), "\(step)")
        }
    }

    /// The "In CI" block, as written, against the real server: metadata gate passes, the bundle lands in HELM_HOME.
    @Test func ciBlockFetchesTheBundleIntoHelmHomeAfterTheExpiryGate() throws {
        var lines = try Self.shellBlock(after: "### In CI")
        #expect(lines.contains { $0.contains("curl --fail-with-body --retry 5 --retry-all-errors") })
        #expect(lines.contains { $0.hasPrefix("jq -e '.expiresInDays >= 14' metadata.json") })
        // BASE comes from the test; `helm ls --tls` needs Tiller, which is not here (the files it reads are checked below).
        #expect(lines.last { !$0.isEmpty } == "helm ls --tls")
        lines = lines.filter { !$0.hasPrefix("BASE=") && $0 != "helm ls --tls" }
        let server = try DevelopmentServer()
        defer { server.stop() }
        let scratch = try TemporaryDirectory("deploy-readme-ci")
        defer { scratch.remove() }
        let base = "https://127.0.0.1:\(server.port)"
        let result = try Self.run(lines, in: scratch, environment: ["BASE": base, "TOKEN": server.token,
                                                                     "HELM_HOME": scratch.file("helm-home")])
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        let served = try runCommand(["curl", "-sk", "--fail", "-H", "Authorization: Bearer \(server.token)", "\(base)/v1/bundles/helm/ca.pem"])
            .succeeded("curl ca.pem")
        let unpacked = try #require(FileManager.default.contents(atPath: scratch.file("helm-home/ca.pem")))
        #expect([UInt8](unpacked) == served.stdout)
        #expect(FileManager.default.fileExists(atPath: scratch.file("helm-home/cert.pem")))
        let mode = try FileManager.default.attributesOfItem(atPath: scratch.file("helm-home/key.pem"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    /// The same block's gate stops the pipeline, with the date, when the certificates expire within 14 days.
    @Test func ciBlockGateFailsWhenTheCertificatesExpireSoon() throws {
        let lines = try Self.shellBlock(after: "### In CI")
        let gate = try #require(lines.firstIndex { $0.hasPrefix("jq -e ") })
        let scratch = try TemporaryDirectory("deploy-readme-gate")
        defer { scratch.remove() }
        try scratch.write("metadata.json", #"{"name": "helm", "expiresInDays": 3, "notAfter": "2026-12-04T00:00:00Z"}"#)
        let result = try Self.run(Array(lines[gate...(gate + 1)]) + ["echo reached-fetch"], in: scratch, environment: [:])
        #expect(result.status == 1)
        #expect(result.stderrText.contains("Helm certificates expire 2026-12-04T00:00:00Z: renew them"))
        #expect(!result.stdoutText.contains("reached-fetch"))
    }
}
