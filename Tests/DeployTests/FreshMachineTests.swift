import Foundation
import Glibc
import Testing
import TestSupport

/// README "The two commands" are all a newcomer types: on a bare Debian 12 with only the Swift toolchain added,
/// `scripts/run --dev` installs what building needs, builds and serves, and `scripts/test` installs what the
/// tests need and passes; without root, the check stops at once and prints the one apt-get line to run.
///
/// The machine is Tests/FreshMachine/fresh-machine's: Debian 12 minbase plus what the official Swift image
/// installs for the toolchain (made once with mmdebstrap, kept in .build-image/fresh-machine/), the toolchain
/// mounted read-only, and a `git clone` of the commit under test (HEAD: committed work only). Each step runs
/// there in namespaces of its own, under `timeout`; (c) reuses the build (b) made.
@Suite(.serialized) struct FreshMachineTests {
    /// Making root file systems and entering them needs root. CI runs as root, so it always runs there.
    static let canRun = geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil
    static let helper = "\(packageRoot)/Tests/FreshMachine/fresh-machine"

    @Test(.enabled(if: canRun, "making and entering a Debian root file system needs root (mmdebstrap, chroot); CI runs it"),
          .timeLimit(.minutes(60)))
    func theTwoCommandsSetUpABareDebianMachineWithOnlySwift() throws {
        let commit = try runCommand(["git", "rev-parse", "HEAD"], directory: packageRoot)
        try #require(commit.status == 0, "git rev-parse HEAD: \(commit.stderrText)")
        let machine = Machine(path: "\(packageRoot)/.build-image/fresh-machine/machine-\(UInt64.random(in: 0...UInt64.max))")
        defer { Step.run("remove the machine", seconds: 0) { machine.remove() } }
        let made = try Step.run("make the machine", seconds: 1200) {
            try runCommand(["timeout", "-s", "KILL", "1200", Self.helper, "make", machine.path,
                            commit.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)])
        }
        try #require(made.status == 0, "fresh-machine make failed:\n\(made.stderrText.suffix(4000))")

        // (a) Without root the check changes nothing: it names exactly what is missing, in the line to run.
        let runPackages = try machine.enter(["scripts/install-deps", "--list", "run"], seconds: 60).stdoutText
            .split(separator: "\n").map(String.init)
        let installed = try machine.installedPackages()
        let expectedMissing = runPackages.filter { !installed.contains($0) }
        #expect(expectedMissing.contains("libssl-dev"), "a bare Debian with Swift has no OpenSSL headers")
        #expect(!expectedMissing.contains("libcurl4-openssl-dev"), "the toolchain's own packages bring libcurl's headers")
        let asUser = try Step.run("(a) install-deps run as nobody", seconds: 60) {
            try machine.enter(["scripts/install-deps", "run"], asUser: true, seconds: 60)
        }
        #expect(asUser.status != 0, "without root and with packages missing the check fails")
        let aptLine = asUser.stderrText.split(separator: "\n")
            .first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("sudo apt-get install") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(aptLine == "sudo apt-get install --no-install-recommends \(expectedMissing.joined(separator: " "))",
                "the one line to run, with exactly the missing packages:\n\(asUser.stderrText)")
        #expect(try machine.installedPackages() == installed, "without root nothing is installed")

        // (b) As root, the run command installs what is missing, builds, and serves what it prints.
        let server = try Step.run("(b) scripts/run --dev, until it listens", seconds: 1500) {
            try ServiceProcess(arguments: ["enter", machine.path, "--", "scripts/run", "--dev", "--listen", "127.0.0.1:0"],
                               timeout: .seconds(1500), binary: Self.helper)
        }
        // SIGKILL: the helper's namespace goes, and the server and every process of the build with it.
        defer { server.stop(signal: SIGKILL) }
        try #require(server.waitForStandardOutput(containing: "One file, or the metadata:"),
                     "the --dev welcome:\n\(server.stdoutText)\n\(server.stderrText.suffix(4000))")
        let welcome = server.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let bundleLine = try #require(welcome.first { $0.hasPrefix("curl ") && $0.contains("/bundle.tar.gz") })
        let fetchPart = try #require(bundleLine.components(separatedBy: " | ").first)
        let readyzLine = fetchPart.replacingOccurrences(of: "/v1/bundles/helm/bundle.tar.gz", with: "/readyz")
        let ready = try Step.run("(b) the printed curl line, at /readyz", seconds: 60) {
            try machine.enter(["sh", "-c", readyzLine], seconds: 60)
        }
        #expect(ready.status == 0, "the printed curl line, pointed at /readyz:\n\(readyzLine)\n\(ready.stderrText)")
        let home = "/tmp/fresh-machine-helm-home"
        let fetched = try machine.enter(["sh", "-c", "export HELM_HOME=\(home); mkdir -p \"$HELM_HOME\"; \(bundleLine)"],
                                        seconds: 60)
        #expect(fetched.status == 0, "the printed curl line:\n\(bundleLine)\n\(fetched.stderrText)")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: machine.path + home)) ?? []
        #expect(files.sorted() == ["ca.pem", "cert.pem", "key.pem"])
        let serverCALine = try #require(welcome.first { $0.hasPrefix("server CA: ") })
        let serverCA = FileManager.default.contents(atPath: machine.path + serverCALine.dropFirst("server CA: ".count))
        #expect(serverCA != nil && FileManager.default.contents(atPath: machine.path + home + "/ca.pem") == serverCA,
                "bundle.tar.gz holds the CA the welcome names")
        server.stop(signal: SIGKILL)
        let runChecked = try machine.enter(["scripts/install-deps", "run"], asUser: true, seconds: 60)
        #expect(runChecked.status == 0 && runChecked.stderrText.isEmpty,
                "after scripts/run nothing for running is missing, and the check says nothing:\n\(runChecked.stderrText)")

        // (c) As root, the test command installs what the tests need and passes (building on (b)'s build).
        let tests = try Step.run("(c) scripts/test --filter ChartLintTests", seconds: 2400) {
            try machine.enter(["scripts/test", "--filter", "ChartLintTests"], seconds: 2400)
        }
        #expect(tests.status == 0, "scripts/test in the fresh machine:\n\(tests.stdoutText.suffix(3000))\n\(tests.stderrText.suffix(3000))")
        #expect(tests.stdoutText.contains("Suite ChartLintTests passed"), "\(tests.stdoutText.suffix(3000))")
        let testChecked = try machine.enter(["scripts/install-deps", "test"], asUser: true, seconds: 60)
        #expect(testChecked.status == 0 && testChecked.stderrText.isEmpty,
                "after scripts/test nothing for testing is missing, and the check says nothing:\n\(testChecked.stderrText)")
    }

    /// A machine Tests/FreshMachine/fresh-machine made, at `path`.
    struct Machine {
        let path: String

        /// Runs `command` in the machine (in /src, the clone), killed after `seconds`.
        func enter(_ command: [String], asUser: Bool = false, seconds: Int) throws -> CommandResult {
            try runCommand(["timeout", "-s", "KILL", "\(seconds)", FreshMachineTests.helper, "enter", path]
                           + (asUser ? ["--user"] : []) + ["--"] + command)
        }

        /// The packages dpkg has installed in the machine.
        func installedPackages() throws -> Set<String> {
            let query = try enter(["dpkg-query", "-W", "-f", "${Package} ${Status}\n"], seconds: 60)
            return Set(query.stdoutText.split(separator: "\n").compactMap { line in
                line.hasSuffix(" installed") ? line.split(separator: " ").first.map(String.init) : nil
            })
        }

        /// Deletes the machine: its mounts lived only in the namespaces `enter` made, so it is plain files.
        func remove() { _ = try? runCommand(["rm", "-rf", "--one-file-system", path]) }
    }

    /// A step whose wall time goes to the test's output (how long the proof takes, for CI's budget).
    enum Step {
        static func run<T>(_ name: String, seconds: Int, _ body: () throws -> T) rethrows -> T {
            let start = ContinuousClock.now
            defer {
                let elapsed = ContinuousClock.now - start
                print("FreshMachineTests: \(name): \(elapsed.components.seconds) s" + (seconds > 0 ? " (limit \(seconds) s)" : ""))
            }
            return try body()
        }
    }
}
