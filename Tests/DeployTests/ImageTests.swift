import Foundation
import Glibc
import Testing
import TestSupport

/// The image, built from the Dockerfile's runtime stage and run as a cluster runs it: read-only root file
/// system, no capabilities, no privilege escalation, as the image's user 65532. No Docker engine runs here;
/// scripts/build-image builds it with mmdebstrap and buildah, and podman (with runc) runs it.
@Suite(.serialized) struct ImageTests {
    /// Building and running images needs root. In CI it always runs (and scripts/build-image installs the tools).
    static let canRun = geteuid() == 0 || ProcessInfo.processInfo.environment["CI"] != nil

    /// podman's global options for the storage scripts/build-image writes to.
    static let storage = ["--root", "\(packageRoot)/.build-image/storage", "--runroot", "\(packageRoot)/.build-image/run",
                          "--storage-driver", "vfs"]

    /// How a restricted pod runs the container (FACTS: runc, since crun refuses this machine's cgroups; the
    /// sandbox cannot raise the file and process limits, so they are given explicitly).
    static let restricted = ["--runtime", "runc", "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=32768:32768",
                             "--network", "host", "--read-only", "--cap-drop=ALL", "--security-opt", "no-new-privileges"]

    @Test(.enabled(if: canRun, "building and running the image needs root (buildah, podman); CI runs it"),
          .timeLimit(.minutes(30)))
    func imageServesTheBundleFromTheAPIAndStopsAtOnceOnSIGTERM() throws {
        let built = try runCommand(["\(packageRoot)/scripts/build-image"], directory: packageRoot)
        try #require(built.status == 0, "scripts/build-image failed:\n\(built.stderrText.suffix(4000))")
        let image = try #require(built.stdoutText.split(separator: "\n").last.map(String.init))

        // The API double holds helm-secret; the container reads it through libcurl with the files below.
        let tillerCA = try PKIFixtures.certificateAuthority(commonName: "tiller-ca")
        let client = try PKIFixtures.issue(by: tillerCA, commonName: "helm-client")
        let double = try KubernetesAPIDouble.start(secrets: [
            .init(namespace: "kyma-installer", name: "helm-secret", data: [
                "global.helm.ca.crt": tillerCA.certificatePEM, "global.helm.tls.crt": client.certificatePEM,
                "global.helm.tls.key": client.keyPEM,
            ])
        ])
        defer { double.stop() }
        let servingCA = try PKIFixtures.certificateAuthority(commonName: "image-test-ca")
        let serving = try PKIFixtures.issue(by: servingCA, commonName: "helm-cert-server", extendedKeyUsage: "serverAuth",
                                            subjectAlternativeNames: "IP:127.0.0.1")
        // Mounted read-only; readable by the container's user 65532 (a Secret volume's files are 0644 too).
        let files = try TemporaryDirectory("image-test")
        defer { files.remove() }
        _ = chmod(files.path, 0o755)
        let token = "image-test-\(UInt64.random(in: 0...UInt64.max))"
        try files.write("serving.pem", serving.certificatePEM, mode: 0o644)
        try files.write("serving.key", serving.keyPEM, mode: 0o644)
        try files.write("tokens.csv", "\(token),ci,1001\n", mode: 0o644)
        try files.write("kube-token", try Data(contentsOf: URL(fileURLWithPath: double.tokenFile)).map { $0 }, mode: 0o644)
        try files.write("kube-ca.crt", try Data(contentsOf: URL(fileURLWithPath: double.caFile)).map { $0 }, mode: 0o644)

        let port = try freeLoopbackPort()
        let name = "helm-cert-server-image-test-\(port)"
        let run = try Self.podman(["run", "--detach", "--name", name] + Self.restricted + [
            "--volume", "\(files.path):/config:ro", image,
            "--listen", "127.0.0.1:\(port)", "--tls-cert", "/config/serving.pem", "--tls-key", "/config/serving.key",
            "--token-file", "/config/tokens.csv", "--kube-api", double.url, "--kube-token-file", "/config/kube-token",
            "--kube-ca-file", "/config/kube-ca.crt",
        ])
        defer { _ = try? Self.podman(["rm", "--force", name]) }
        try #require(run.status == 0, "podman run failed:\n\(run.stderrText)")

        let base = "https://127.0.0.1:\(port)"
        try files.write("service-ca.pem", servingCA.certificatePEM, mode: 0o644)
        let ready = try Self.waitUntilReady("\(base)/readyz", caFile: files.file("service-ca.pem"), container: name)
        try #require(ready, "the container never answered /readyz with 200; its log:\n\(Self.log(of: name))")
        #expect(try curl("\(base)/healthz", caFile: files.file("service-ca.pem")).status == 200)
        let auth = "Authorization: Bearer \(token)"
        let ca = try curl("\(base)/v1/bundles/helm/ca.pem", headers: [auth], caFile: files.file("service-ca.pem"))
        #expect(ca.status == 200)
        #expect(ca.body == tillerCA.certificatePEM, "ca.pem byte for byte as in the Secret")
        let key = try curl("\(base)/v1/bundles/helm/key.pem", headers: [auth], caFile: files.file("service-ca.pem"))
        #expect(key.status == 200)
        #expect(key.body == client.keyPEM, "key.pem byte for byte as in the Secret")

        let user = try Self.podman(["inspect", "--format", "{{.Config.User}}", name]).stdoutText
        #expect(user.trimmingCharacters(in: .whitespacesAndNewlines) == "65532:65532")

        // `podman stop --time 1`: SIGTERM, and SIGKILL (exit code 137) if the server is still running a second later.
        let stop = try Self.podman(["stop", "--time", "1", name])
        #expect(stop.status == 0, "\(stop.stderrText)")
        let exitCode = try Self.podman(["inspect", "--format", "{{.State.ExitCode}}", name]).stdoutText
        #expect(exitCode.trimmingCharacters(in: .whitespacesAndNewlines) == "0",
                "the server exits 0 within a second of SIGTERM; its log:\n\(Self.log(of: name))")
    }

    /// Polls `url` until it answers 200 (true), or the container stops or 60 s pass (false).
    static func waitUntilReady(_ url: String, caFile: String, container: String) throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if (try? curl(url, caFile: caFile))?.status == 200 { return true }
            let state = try podman(["inspect", "--format", "{{.State.Running}}", container]).stdoutText
            if state.hasPrefix("false") { return false }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return false
    }

    /// The end of what the container printed (its JSON log lines go to standard error), for failure messages.
    static func log(of container: String) -> String {
        ((try? podman(["logs", container]))?.stderrText ?? "").suffix(4000).description
    }

    /// Runs podman with the image storage's options and a clean signal mask (the test runner blocks SIGTERM,
    /// and a container started with that mask inherited would ignore `podman stop`). Its output goes through
    /// files: `podman run --detach` leaves conmon behind holding whatever it was given, and a pipe would never
    /// reach its end.
    static func podman(_ arguments: [String]) throws -> CommandResult {
        let wrapper = """
            import os, signal, subprocess, sys, tempfile
            signal.pthread_sigmask(signal.SIG_SETMASK, [])
            with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
                status = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=out, stderr=err)
                for source, target in ((out, sys.stdout.buffer), (err, sys.stderr.buffer)):
                    source.seek(0)
                    target.write(source.read())
            sys.exit(status)
            """
        return try runCommand(["python3", "-c", wrapper, "podman"] + storage + arguments, directory: packageRoot)
    }
}
