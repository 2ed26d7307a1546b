import Testing
import TestSupport

/// `bench/run --smoke` (one round, one-second rows, small attacks) so the benchmark cannot rot. It asserts no
/// timing: only that the script runs to the end, fills every cell for both servers (the "under attack" rows
/// included), and that bundle requests made no Kubernetes API calls (a functional property, not a speed).
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
        // Under attack (bench/attack.py): | attack | service RSS | p99 | nginx RSS | p99 | …, all four numbers.
        let attacks = [
            "pipelining `GET /openapi.yaml`", "streaming `\\r\\n`", "1 MiB of `\\r\\n`", "`RLIMIT_NOFILE` 64",
            "connections from one address", "TCP connections sending nothing", "stopping inside the ClientHello",
            "sending a head a byte a second",
        ]
        for attack in attacks {
            let line = lines.first { $0.hasPrefix("| ") && $0.contains(attack) }
            #expect(line != nil, "attack row \(attack) is missing")
            let cells = (line ?? "").split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let figures = cells.dropFirst().prefix(4).map { Double($0.replacingOccurrences(of: ",", with: "")) }
            #expect(figures.count == 4 && figures.allSatisfy { $0 != nil }, "\(line.map(String.init) ?? attack)")
        }
    }

    @Test("bench/handshake_cost builds, completes full and resumed handshakes and prints its summary")
    func handshakeCostRuns() throws {
        for mode in [[], ["--resumed"]] {
            let result = try runCommand(
                ["\(packageRoot)/bench/handshake_cost", "--rounds", "1", "--handshakes", "5"] + mode + ["openssl", "service"],
                directory: packageRoot)
            #expect(result.status == 0, "\(result.stdoutText) \(result.stderrText)")
            let summary = result.stdoutText.split(separator: "\n").first { $0.hasPrefix("HANDSHAKE_COST ") }
            let fields = Dictionary(
                (summary ?? "").split(separator: " ").dropFirst().compactMap { field -> (String, String)? in
                    let parts = field.split(separator: "=", maxSplits: 1)
                    return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
                }, uniquingKeysWith: { first, _ in first })
            #expect(fields["mode"] == (mode.isEmpty ? "full" : "resumed"), "\(result.stdoutText)")
            for key in ["a_us", "b_us", "ratio"] {
                #expect((Double(fields[key] ?? "") ?? 0) > 0, "\(key) in \(result.stdoutText)")
            }
        }
    }

    @Test("bench/handshake_cost's \"service\" configuration has the suites and ticket count TLSContext sets")
    func handshakeCostServiceMatchesTLSContext() throws {
        let swift = try String(contentsOfFile: "\(packageRoot)/Sources/HTTPServer/TLSContext.swift", encoding: .utf8)
        let c = try String(contentsOfFile: "\(packageRoot)/bench/handshake_cost.c", encoding: .utf8)
        func value(after marker: String, in text: String, until end: Character) -> String? {
            guard let range = text.range(of: marker) else { return nil }
            return String(text[range.upperBound...].prefix { $0 != end })
        }
        let suites = value(after: "static let tls13Ciphersuites = \"", in: swift, until: "\"")
        #expect(suites != nil && suites == value(after: "#define SERVICE_SUITES \"", in: c, until: "\""))
        let tickets = value(after: "static let ticketsPerFullHandshake = ", in: swift, until: "\n")
        #expect(tickets != nil && tickets == value(after: "#define SERVICE_TICKETS ", in: c, until: "\n"))
    }
}
