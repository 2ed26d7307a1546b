import Testing
import TestSupport

/// No Docker engine runs here, so the runtime stage is proven another way: every shared library `ldd` lists
/// for the release binary (built as the Dockerfile builds it), and libcurl, which it loads with dlopen, with
/// everything libcurl links, belongs to a Debian package that the runtime stage installs, or that one of
/// those pulls in. See scripts/check-runtime-libraries.
@Suite struct RuntimeLibrariesTests {
    /// The one slow test: a release build with --static-swift-stdlib into .build-release (minutes the first time).
    @Test(.timeLimit(.minutes(30)))
    func releaseBinaryNeedsOnlyLibrariesTheRuntimeStageInstalls() throws {
        let result = try runCommand(["\(packageRoot)/scripts/check-runtime-libraries"], directory: packageRoot)
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        for library in ["libssl.so.3", "libcurl.so.4", "libc.so.6"] {
            #expect(result.stdoutText.contains("ok   \(library)"), "the binary loads \(library)")
        }
        // libcurl is not linked but loaded with dlopen: ldd does not list it, the check still does.
        let binary = try buildReleaseBinary()
        let ldd = try runCommand(["ldd", binary])
        #expect(!ldd.stdoutText.contains("libcurl"), "libcurl is loaded on first use, not linked")
        let directory = try TemporaryDirectory("deploy-dockerfile-dlopen")
        defer { directory.remove() }
        let dockerfile = try String(contentsOfFile: "\(packageRoot)/Dockerfile", encoding: .utf8)
        try directory.write("Dockerfile", dockerfile.replacingOccurrences(of: " libcurl4 ", with: " "))
        let without = try runCommand(["\(packageRoot)/scripts/check-runtime-libraries", "--binary", binary,
                                      "--dockerfile", directory.file("Dockerfile")], directory: packageRoot)
        #expect(without.status == 1)
        #expect(without.stderrText.contains("libcurl.so.4"), "\(without.stderrText)")
    }

    /// The check can fail: against a runtime stage without libcurl4, curl's own binary is refused, by name.
    @Test func checkRefusesARuntimeStageThatLacksALibrary() throws {
        let directory = try TemporaryDirectory("deploy-dockerfile")
        defer { directory.remove() }
        let dockerfile = try String(contentsOfFile: "\(packageRoot)/Dockerfile", encoding: .utf8)
        #expect(dockerfile.contains(" libcurl4 "))
        try directory.write("Dockerfile", dockerfile.replacingOccurrences(of: " libcurl4 ", with: " "))
        let curl = try #require(try runCommand(["sh", "-c", "command -v curl"]).stdoutText.split(separator: "\n").first)
        let result = try runCommand(["\(packageRoot)/scripts/check-runtime-libraries", "--binary", String(curl),
                                     "--dockerfile", directory.file("Dockerfile")], directory: packageRoot)
        #expect(result.status == 1)
        #expect(result.stderrText.contains("libcurl.so.4"))
        #expect(result.stderrText.contains("comes from package libcurl4"))
    }
}
