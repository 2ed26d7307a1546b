import Foundation
import Testing
import TestSupport

/// The Dockerfile, parsed by the official Go parser (PyPI `dockerfile`): a Swift build stage, a slim Debian
/// runtime stage that runs the binary as a numeric non-root user on 8443, and no HEALTHCHECK (probes live in
/// the chart).
@Suite struct DockerfileTests {
    /// One instruction as the parser sees it.
    struct Instruction: Decodable {
        var cmd: String
        var value: [String]
        var flags: [String]
        var json: Bool
    }

    /// The Dockerfile's instructions, split into stages at each FROM.
    static func stages() throws -> [[Instruction]] {
        let dump = "import dockerfile, json, sys; json.dump([dict(cmd=c.cmd.upper(), value=list(c.value), flags=list(c.flags), json=c.json) for c in dockerfile.parse_file(sys.argv[1])], sys.stdout)"
        let result = try DeployTool.python.run(["-c", dump, "\(packageRoot)/Dockerfile"]).succeeded("parse Dockerfile")
        let instructions = try JSONDecoder().decode([Instruction].self, from: Data(result.stdout))
        var stages: [[Instruction]] = []
        for instruction in instructions {
            if instruction.cmd == "FROM" { stages.append([]) }
            if !stages.isEmpty { stages[stages.count - 1].append(instruction) }
        }
        return stages
    }

    @Test func buildsWithTheOfficialSwift6ImageAsTheChecksDo() throws {
        let stages = try Self.stages()
        #expect(stages.count == 2)
        let build = try #require(stages.first)
        let from = build[0].value
        #expect(from.first?.hasPrefix("swift:6.") == true, "build image \(from)")
        #expect(from.first?.hasSuffix("-bookworm") == true, "same Debian release as the runtime stage")
        #expect(from.dropFirst().map { $0.lowercased() } == ["as", "build"])
        let runs = build.filter { $0.cmd == "RUN" }.map { $0.value.joined(separator: " ") }
        for package in ["libssl-dev", "libcurl4-openssl-dev", "zlib1g-dev"] {
            #expect(runs.contains { $0.contains("apt-get install") && $0.contains(package) }, "build stage installs \(package)")
        }
        // scripts/check-runtime-libraries builds with exactly these flags.
        #expect(runs.contains { $0.contains("swift build -c release --static-swift-stdlib --product helm-cert-server") })
    }

    @Test func runsOnSlimDebianAsANumericNonRootUser() throws {
        let runtime = try #require(try Self.stages().last)
        #expect(runtime[0].value.first == "debian:bookworm-slim")
        let users = runtime.filter { $0.cmd == "USER" }
        #expect(users.count == 1)
        let user = try #require(users.last?.value.first)
        let ids = user.split(separator: ":").map { Int($0) }
        #expect(ids.count == 2 && ids.allSatisfy { ($0 ?? 0) > 0 }, "USER \(user) is numeric uid:gid, not root")
        let values = try String(contentsOfFile: "\(packageRoot)/chart/values.yaml", encoding: .utf8)
        #expect(values.contains("runAsUser: \(ids.first.flatMap { $0 } ?? -1)\n"), "the chart runs as the image's user")
        let copies = runtime.filter { $0.cmd == "COPY" }
        #expect(copies.contains { $0.flags.contains("--from=build") && $0.value.last == "/usr/local/bin/helm-cert-server" })
    }

    @Test func exposes8443AndStartsTheBinaryWithoutAHealthcheck() throws {
        let stages = try Self.stages()
        let runtime = try #require(stages.last)
        #expect(runtime.filter { $0.cmd == "EXPOSE" }.map(\.value) == [["8443"]])
        let entrypoint = try #require(runtime.last { $0.cmd == "ENTRYPOINT" })
        #expect(entrypoint.json, "exec form, so the binary is PID 1 and gets SIGTERM")
        #expect(entrypoint.value == ["/usr/local/bin/helm-cert-server"])
        #expect(stages.joined().allSatisfy { $0.cmd != "HEALTHCHECK" }, "probes live in the chart")
    }

    /// An offline builder (buildah here, a registry mirror elsewhere) needs only the two base images: no
    /// `# syntax=` line that makes BuildKit fetch a frontend image first.
    @Test func needsNoFrontendImage() throws {
        let dockerfile = try String(contentsOfFile: "\(packageRoot)/Dockerfile", encoding: .utf8)
        #expect(!dockerfile.lowercased().contains("# syntax="), "the first line fetches a frontend")
    }

    /// The binary is stripped as it is installed, and the runtime stage keeps no package downloads or lists.
    @Test func shipsAStrippedBinaryAndNoAptLeftovers() throws {
        let stages = try Self.stages()
        let build = try #require(stages.first).filter { $0.cmd == "RUN" }.map { $0.value.joined(separator: " ") }
        #expect(build.contains { $0.contains("install -D -s ") && $0.contains("/out/usr/local/bin/helm-cert-server") })
        let runtime = try #require(stages.last).filter { $0.cmd == "RUN" }.map { $0.value.joined(separator: " ") }
        let apt = try #require(runtime.first { $0.contains("apt-get install") })
        #expect(apt.contains("apt-get clean") && apt.contains("rm -rf /var/lib/apt/lists/*"))
    }

    @Test func dockerignoreKeepsBuildOutputToolsAndHistoryOut() throws {
        let ignored = try String(contentsOfFile: "\(packageRoot)/.dockerignore", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        for entry in [".build", ".build-*", ".tools", ".git"] {
            #expect(ignored.contains(entry), ".dockerignore lists \(entry)")
        }
    }
}
