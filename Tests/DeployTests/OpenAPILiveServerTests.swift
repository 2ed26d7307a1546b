import Testing
import TestSupport

/// Spec and server can't drift apart: schemathesis sends generated requests to the real server (`--dev`, with
/// its valid token) and checks every answer against openapi.yaml (status documented, content type documented,
/// body matches the schema, never a 5xx). Needs the built binary: `swift build --product helm-cert-server`.
@Suite struct OpenAPILiveServerTests {
    @Test(.timeLimit(.minutes(10)))
    func serverAnswersAsOpenAPIYamlSays() throws {
        let server = try DevelopmentServer()
        defer { server.stop() }
        // Run from a scratch folder: schemathesis and Hypothesis leave their caches in the working directory.
        let scratch = try TemporaryDirectory("deploy-schemathesis")
        defer { scratch.remove() }
        let arguments = [
            "run", "\(packageRoot)/openapi.yaml",
            "--url", "https://127.0.0.1:\(server.port)",
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            "-H", "Authorization: Bearer \(server.token)",
            "--tls-verify", "false",
            "--max-examples", "50",
            "--request-timeout", "5",
            "--workers", "1",
            "--generation-deterministic",  // same requests every run, and no example database on disk
        ]
        // Tests/Schemathesis/pkcs10_hooks.py teaches it to send application/pkcs10 bodies (the CSR route).
        let result = try DeployTool.schemathesis.run(
            arguments, directory: scratch.path,
            environment: ["SCHEMATHESIS_HOOKS": "pkcs10_hooks", "PYTHONPATH": "\(packageRoot)/Tests/Schemathesis"])
        #expect(result.status == 0, "schemathesis:\n\(result.stdoutText.suffix(8000))\(result.stderrText.suffix(2000))\n--- server log\n\(server.service.outputText.suffix(4000))")
    }

    /// The document the server serves at /openapi.yaml (no token needed) is this file, byte for byte.
    @Test func serverServesThisOpenAPIDocument() throws {
        let server = try DevelopmentServer()
        defer { server.stop() }
        let served = try runCommand(["curl", "-sk", "--fail", "-D", "-", "https://127.0.0.1:\(server.port)/openapi.yaml"])
            .succeeded("curl /openapi.yaml")
        let file = try String(contentsOfFile: "\(packageRoot)/openapi.yaml", encoding: .utf8)
        #expect(served.stdoutText.hasSuffix("\r\n\r\n" + file))
        #expect(served.stdoutText.lowercased().contains("content-type: application/yaml"))
    }
}
