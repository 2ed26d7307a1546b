import Testing
import TestSupport

/// `bench/run --smoke` (one round, one-second rows) so the benchmark cannot rot. It asserts no timing: only
/// that the script runs to the end, fills every cell for both servers, and that bundle requests made no
/// Kubernetes API calls (a functional property, not a speed).
@Suite struct BenchmarkSmokeTests {
    @Test(.timeLimit(.minutes(30)))
    func smokeRunPrintsEveryRowForBothServers() throws {
        // The test runner blocks SIGTERM in its threads and children inherit that mask; bench/run stops what it
        // started with SIGTERM, so start it with a clean mask.
        let unblocked = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
        let result = try runCommand(["python3", "-c", unblocked, "\(packageRoot)/bench/run", "--smoke"], directory: packageRoot)
        let output = result.stdoutText + result.stderrText
        #expect(result.status == 0, "\(output)")
        let rows = [
            "keep-alive req/s, bundle.tar.gz", "keep-alive req/s, key.pem", "`Connection: close` req/s",
            "full handshakes/s", "resumed handshakes/s", "p99 latency at", "peak RSS under load", "RSS at idle",
            "idle TLS keep-alive connections: accepted", "process start to first `/readyz` 200",
        ]
        let lines = output.split(separator: "\n")
        for row in rows {
            let line = lines.first { $0.hasPrefix("| ") && $0.contains(row) }
            #expect(line != nil, "row \(row) is missing")
            if let line {
                let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                // | row | service | nginx | …: both figures are numbers.
                #expect(cells.count >= 3 && Double(cells[1].split(separator: " ").first?.replacingOccurrences(of: ",", with: "") ?? "") != nil, "\(line)")
                #expect(cells.count >= 3 && Double(cells[2].split(separator: " ").first?.replacingOccurrences(of: ",", with: "") ?? "") != nil, "\(line)")
            }
        }
        #expect(lines.contains { $0.hasPrefix("| Kubernetes API requests during 10,000 bundle requests | 0 |") }, "bundle requests called the Kubernetes API")
    }
}
