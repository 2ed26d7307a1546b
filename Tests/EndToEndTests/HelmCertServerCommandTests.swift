import Foundation
import Testing
import TestSupport

/// The command line's refusals, on the real binary.
@Suite("Command line, end to end")
struct HelmCertServerCommandTests {
    @Test("--kube-api http://… is refused before any token is read, unless --kube-api-insecure-http says so")
    func plainHTTPKubernetesAPI() throws {
        let dir = try TemporaryDirectory("kube-api-http")
        defer { dir.remove() }
        try dir.write("tokens.csv", "token,alice,1\n")
        try dir.write("sa-token", "not-sent")
        let arguments = [
            ServiceProcess.binaryPath, "--listen", "127.0.0.1:0", "--insecure-http", "--token-file", dir.file("tokens.csv"),
            "--kube-api", "http://127.0.0.1:1", "--kube-token-file", dir.file("sa-token"), "--kube-ca-file", "/dev/null",
        ]
        let refused = try runCommand(["timeout", "20"] + arguments)
        #expect(refused.status == 64, "a usage error (EX_USAGE); \(refused.stderrText)")
        #expect(refused.stderrText.contains("--kube-api-insecure-http"), "\(refused.stderrText)")
        #expect(refused.stderrText.contains("clear text"), "\(refused.stderrText)")

        let allowed = try ServiceProcess(arguments: Array(arguments.dropFirst()) + ["--kube-api-insecure-http"])
        defer { allowed.stop() }
        #expect(allowed.isRunning)
    }

    @Test("--kube-auth-audience without --kube-auth, or empty, is a usage error", arguments: [
        (["--kube-auth-audience", "helm-cert-server"], "only applies with --kube-auth"),
        (["--kube-auth", "--kube-auth-audience", ""], "must not be empty"),
    ])
    func kubeAuthAudienceUsage(arguments: [String], message: String) throws {
        let dir = try TemporaryDirectory("kube-auth-audience")
        defer { dir.remove() }
        try dir.write("tokens.csv", "token,alice,1\n")
        let result = try runCommand(["timeout", "20", ServiceProcess.binaryPath, "--listen", "127.0.0.1:0",
                                     "--insecure-http", "--token-file", dir.file("tokens.csv")] + arguments)
        #expect(result.status == 64, "\(result.stderrText)")
        #expect(result.stderrText.contains(message), "\(result.stderrText)")
    }
}
