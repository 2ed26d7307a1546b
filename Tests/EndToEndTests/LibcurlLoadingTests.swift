import Foundation
import Testing
import TestSupport

/// libcurl is loaded with `dlopen` when the Kubernetes API is first needed, not linked (see CCurlShims). A server
/// configured to use the API that cannot load it must refuse to start and say what to install, not start and fail
/// every request. The test hides the library from the server by bind-mounting `/dev/null` over it in a private
/// mount namespace (`unshare -m`), which needs root; without that the test is reported as skipped.
@Suite("libcurl loaded on demand, end to end")
struct LibcurlLoadingTests {
    /// Where this machine's libcurl 4 lives, if `unshare -m` works here.
    static let hideableLibcurl: String? = {
        guard (try? runCommand(["unshare", "-m", "true"]).status) == 0 else { return nil }
        let cache = (try? runCommand(["/sbin/ldconfig", "-p"]).stdoutText) ?? ""
        return cache.split(separator: "\n").first { $0.contains("libcurl.so.4 (") }
            .flatMap { $0.components(separatedBy: " => ").last }
            .map { String($0).trimmingCharacters(in: .whitespaces) }
    }()

    @Test(
        "without libcurl, a server on the Kubernetes source refuses to start and says to install libcurl4",
        .enabled(if: hideableLibcurl != nil, "needs `unshare -m` (root) and libcurl.so.4 in the ldconfig cache"))
    func refusesToStartWithoutLibcurl() throws {
        let library = try #require(Self.hideableLibcurl)
        let dir = try TemporaryDirectory("no-libcurl")
        defer { dir.remove() }
        try dir.write("tokens.csv", "token,alice,1\n")
        try dir.write("sa-token", "not-used")
        try dir.write("api-ca.pem", try PKIFixtures.certificateAuthority().certificatePEM)
        // If the server started anyway it would listen until `timeout` kills it (status 124): the test fails.
        let result = try runCommand([
            "timeout", "20", "unshare", "-m", "sh", "-c", "mount --bind /dev/null \"$0\" && exec \"$@\"", library,
            ServiceProcess.binaryPath, "--listen", "127.0.0.1:0", "--insecure-http", "--token-file", dir.file("tokens.csv"),
            "--kube-api", "https://127.0.0.1:1", "--kube-token-file", dir.file("sa-token"),
            "--kube-ca-file", dir.file("api-ca.pem"),
        ])
        #expect(result.status == 1, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stderrText.contains("cannot start"), "\(result.stderrText)")
        #expect(result.stderrText.contains("libcurl could not be loaded"), "\(result.stderrText)")
        #expect(result.stderrText.contains("install Debian's libcurl4 package"), "\(result.stderrText)")
    }
}
