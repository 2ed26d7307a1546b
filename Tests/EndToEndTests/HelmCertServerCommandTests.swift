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

/// What the command line refuses before anything starts, and what it says; `--version`, `--help`, `--dev`'s files.
@Suite("Command line: refusals, version, help and --dev's files, end to end")
struct CommandLineStartTests {
    /// Runs the binary to completion (bounded by `timeout`), with `environment` laid over the test's.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try runCommand(["timeout", "20", ServiceProcess.binaryPath] + arguments, environment: environment)
    }

    @Test("an unknown option is named, before any complaint about missing flags (issue 17)")
    func unknownOption() throws {
        let result = try run(["--bogus-flag"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("Unknown option '--bogus-flag'"), "\(result.stderrText)")
        #expect(!result.stderrText.contains("--tls-cert"), "\(result.stderrText)")
    }

    @Test("--version prints the version kept in one place (BuildVersion.swift, also in /metrics)")
    func version() throws {
        let source = try String(contentsOfFile: "\(packageRoot)/Sources/HelmCertServer/BuildVersion.swift", encoding: .utf8)
        let declaration = try #require(source.split(separator: "\n").first { $0.hasPrefix("public let helmCertServerVersion") })
        let quoted = try #require(declaration.split(separator: "\"").dropFirst().first)
        let result = try run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdoutText == "\(quoted)\n")
    }

    @Test("refusals before anything starts, each with a message that says what to do", arguments: [
        (["--insecure-http", "--tls-cert", "a.pem", "--tls-key", "a.key", "--token-file", "t.csv"],
         "--insecure-http serves plain HTTP, so --tls-cert and --tls-key would be ignored"),
        (["--insecure-http", "--client-ca", "ca.pem", "--token-file", "t.csv"],
         "--client-ca needs TLS: it cannot be used with --insecure-http"),
        (["--dev", "--listen", "127.0.0.1:99999"],
         "--listen 127.0.0.1:99999: the port must be between 0 and 65535"),
        (["--dev", "--listen", "[::1]:65536"], "--listen [::1]:65536: the port must be between 0 and 65535"),
        (["--dev", "--listen", "8443"], "--listen 8443 is not HOST:PORT; examples: 0.0.0.0:8443"),
        (["--dev", "--listen", "::1:8443"], "--listen ::1:8443 is not HOST:PORT"),
        (["--dev", "--listen", "no-such-host.invalid:8443"],
         "--listen: the host name no-such-host.invalid does not resolve"),
        (["--dev", "--listen", "192.0.2.1:8443"], "--listen 192.0.2.1:8443 cannot be used: bind: Cannot assign requested address"),
    ])
    func refusals(arguments: [String], message: String) throws {
        let result = try run(arguments)
        #expect(result.status == 64, "\(result.stderrText)")
        #expect(result.stderrText.contains(message), "\(result.stderrText)")
        #expect(!result.stderrText.contains("\"message\":\"listening\""), "it must not have started")
    }

    @Test("a second instance on an address another process listens on is refused, naming the address; the first keeps serving")
    func addressInUse() throws {
        let first = try ServiceProcess(arguments: ["--dev", "--listen", "127.0.0.1:0"])
        defer { first.stop() }
        for listen in ["127.0.0.1:\(first.port)", "0.0.0.0:\(first.port)"] {
            let second = try run(["--dev", "--listen", listen])
            #expect(second.status == 64, "\(second.stderrText)")
            #expect(second.stderrText.contains("--listen \(listen): another process already listens there"), "\(second.stderrText)")
        }
        #expect(first.isRunning)
        #expect(first.stop() == 0)
    }

    @Test("a host name is resolved before start and the server listens on its address")
    func hostNameResolved() throws {
        let service = try ServiceProcess(arguments: ["--dev", "--listen", "localhost:0"])
        defer { service.stop() }
        let listening = try #require(service.logLines.first { $0["message"] == "listening" })
        let address = try #require(listening["address"])
        #expect(address.hasPrefix("127.0.0.1:") || address.hasPrefix("[::1]:"), "\(address)")
    }

    @Test("--help's examples are not wrapped and paste as printed: the fetch example gets the bundle from a --dev server")
    func helpExamplesPaste() throws {
        let help = try run(["--help"])
        #expect(help.status == 0)
        let lines = help.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("EXAMPLES:") })
        let end = try #require(lines[start...].firstIndex { $0.hasPrefix("USAGE:") })
        let examples = Array(lines[(start + 1)..<end])
        for line in examples { #expect(line.count <= 80, "wider than a terminal: \(line)") }
        // A command ends at a line without a trailing backslash; each must be a complete shell command.
        #expect(examples.filter { $0.hasSuffix("\\") }.count >= 4)
        let fetch = try #require(examples.firstIndex { $0.contains("# Fetch the bundle") })
        let script = examples[(fetch + 1)...].prefix { !$0.isEmpty }.joined(separator: "\n")
        #expect(try runCommand(["bash", "-n", "-c", script]).status == 0, "\(script)")

        let server = try DevelopmentServer()
        defer { server.stop() }
        let work = try TemporaryDirectory("help-example")
        defer { work.remove() }
        try FileManager.default.copyItem(atPath: server.serverCA, toPath: work.file("ca.pem"))
        let pasted = script.replacingOccurrences(of: "https://localhost:8443", with: "https://127.0.0.1:\(server.port)")
        let result = try runCommand(
            ["bash", "-o", "pipefail", "-c", pasted], environment: ["TOKEN": server.token, "HELM_HOME": work.file("helm")],
            directory: work.path)
        #expect(result.status == 0, "\(pasted)\n\(result.stderrText)")
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            #expect(FileManager.default.fileExists(atPath: work.file("helm/\(name)")), "\(name) missing")
        }
    }

    @Test("--dev names its directory and removes it on SIGTERM and SIGINT", arguments: [SIGTERM, SIGINT])
    func devFilesRemovedOnSignal(signal: Int32) throws {
        let tmp = try TemporaryDirectory("dev-tmpdir")
        defer { tmp.remove() }
        let service = try ServiceProcess(arguments: ["--dev", "--listen", "127.0.0.1:0"], environment: ["TMPDIR": tmp.path])
        #expect(service.waitForStandardOutput(containing: "(server certificate, its key, CA; removed when this process exits)"))
        let line = try #require(service.stdoutText.split(separator: "\n").first { $0.hasPrefix("files: ") })
        let directory = String(line.dropFirst("files: ".count).prefix { $0 != " " })
        #expect(directory.hasPrefix("\(tmp.path)/helm-cert-server-dev-"))
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: directory)) == ["ca.pem", "server.pem", "server-key.pem"])
        #expect(service.stop(signal: signal) == 0)
        #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) left behind")
    }

    @Test("--dev removes its files when the start fails")
    func devFilesRemovedOnFailedStart() throws {
        let tmp = try TemporaryDirectory("dev-tmpdir")
        defer { tmp.remove() }
        let result = try run(["--dev", "--listen", "127.0.0.1:0", "--token-file", tmp.file("missing.csv")],
                             environment: ["TMPDIR": tmp.path])
        #expect(result.status == 1, "\(result.stderrText)")
        #expect(result.stderrText.contains("cannot start"), "\(result.stderrText)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: tmp.path).isEmpty, "--dev's directory left behind")
    }
}
