import Foundation
import Testing
import TestSupport

/// The release binary (built as the Dockerfile builds it) under the attacks of issue 12, each by bench/attack.py
/// against a freshly started `--dev` server on loopback while a polite client asks for `/healthz` ten times a
/// second. Every attack is bounded in connections and seconds. The bounds are the issue's: the server's RSS
/// (VmRSS from /proc/PID/status, sampled every 50 ms) stays at most 100 MiB (the chart's pod limit is 128 MiB),
/// and the polite client is answered every time (within 5 s), with a p99 under a second except while 300
/// clients fill their pipelines (there nginx's own p99 was 0.6–2.4 s on these 2 shared cores: docs/benchmark.md,
/// "Under attack"; the bound would measure the machine).
///
/// Serialized: each attack loads both cores; two at once would measure each other.
@Suite("Hostile clients against the release binary", .serialized)
struct HostileClientTests {
    /// 300 connections, each pipelining 200 `GET /openapi.yaml` (25 KB answers) and never reading, with a 4 KiB
    /// receive buffer: what the server queues for them is bounded by its backpressure, not by what they ask.
    @Test(.timeLimit(.minutes(30)))
    func pipeliningClientsThatNeverReadLeaveRSSUnder100MiB() throws {
        let run = try HostileAttack.run("pipeline", ["--connections", "300", "--requests", "200", "--seconds", "3"])
        #expect(run.int("connections") == 300, "\(run)")
        run.expectBoundedAndPoliteServed(p99UnderASecond: false)
    }

    /// 32 connections streaming `\r\n` for four seconds (reconnecting when closed): the head limit counts the
    /// empty lines, so neither memory nor the other clients' latency grows with what they send.
    @Test(.timeLimit(.minutes(30)))
    func clientsStreamingEmptyLinesLeaveRSSUnder100MiBAndThePoliteClientServed() throws {
        let run = try HostileAttack.run("crlf-stream", ["--connections", "32", "--seconds", "4"])
        #expect((run.double("mib_sent") ?? 0) > 0, "the attack sent nothing: \(run)")
        run.expectBoundedAndPoliteServed()
    }

    /// 1 MiB of `\r\n`, then `GET /healthz`: the empty lines count against the 16 KiB head limit, so the answer
    /// is a refusal (400, or 431 as for any head over the limit), never the 200 the request alone would get.
    @Test(.timeLimit(.minutes(30)))
    func aMebibyteOfEmptyLinesBeforeARequestIsRefused() throws {
        let run = try HostileAttack.run("crlf-prefix", [])
        #expect(["400", "431"].contains(run.fields["status"] ?? ""), "answered \(run.fields["status"] ?? "?"): \(run)")
        run.expectBoundedAndPoliteServed()
    }

    /// `RLIMIT_NOFILE` lowered to 64 and 100 connections waiting to be accepted: `accept` fails with `EMFILE`,
    /// and the loops stop polling the listener for a while instead of spinning. Bound: under 0.5 s of the
    /// server's CPU in a 3 s window (a spinning server burns one core per loop: 6 s). A keep-alive client that
    /// was connected before keeps being answered.
    @Test(.timeLimit(.minutes(30)))
    func runningOutOfFileDescriptorsDoesNotSpin() throws {
        let run = try HostileAttack.run(
            "fd-exhaustion", ["--connections", "100", "--nofile", "64", "--seconds", "3"])
        #expect(run.int("waiting") == 100, "\(run)")
        let window = try #require(run.int("window_ms"), "\(run)")
        #expect(window >= 3000, "\(run)")
        #expect((run.int("cpu_ms") ?? .max) < 500, "server CPU in \(window) ms: \(run)")
        run.expectBoundedAndPoliteServed()
    }

    /// More connections from one address than the per-client cap: those beyond it are refused or closed (at
    /// most `cap` stay open), while a client from another address (127.0.0.2) is served as usual.
    @Test(.timeLimit(.minutes(30)))
    func connectionsBeyondThePerClientCapAreRefusedWhileAnotherAddressIsServed() throws {
        let cap = 16
        let run = try HostileAttack.run(
            "per-client", ["--connections", "\(3 * cap)", "--seconds", "1", "--polite-source", "127.0.0.2"],
            serverArguments: [HostileAttack.perClientCapFlag, "\(cap)"])
        #expect(run.int("attempted") == 3 * cap, "\(run)")
        #expect((run.int("held") ?? .max) <= cap, "connections from 127.0.0.1 still open: \(run)")
        #expect((run.int("answered") ?? 0) >= 1, "the first connections from 127.0.0.1 are served: \(run)")
        run.expectBoundedAndPoliteServed()
    }
}

/// Slow and silent clients, closed when the server's 10 s timeouts pass (`HTTPServerLimits`: handshake 10 s,
/// head 10 s from the end of the handshake; the sweep runs every 250 ms): allowed 12.5 s. These pass today;
/// keep it so. Not serialized with each other: each holds a few idle connections and waits.
@Suite("Slow and silent clients against the release binary")
struct SlowClientTests {
    /// How long one of these clients may stay connected: the 10 s timeout, the sweep, and scheduling slack.
    static let closedWithin = 12.5

    /// TCP connections that send nothing at all (no ClientHello): closed by the handshake timeout.
    @Test(.timeLimit(.minutes(30)))
    func muteConnectionsAreClosedByTheHandshakeTimeout() throws {
        try expectAllClosedInTime(HostileAttack.run("mute", ["--connections", "20", "--seconds", "14"]))
    }

    /// Connections that send the first bytes of a TLS record (a ClientHello announced, never finished).
    @Test(.timeLimit(.minutes(30)))
    func connectionsThatStopInsideTheClientHelloAreClosedByTheHandshakeTimeout() throws {
        try expectAllClosedInTime(HostileAttack.run("no-client-hello", ["--connections", "20", "--seconds", "14"]))
    }

    /// Slowloris: a finished handshake, then a request head one byte a second.
    @Test(.timeLimit(.minutes(30)))
    func slowlorisIsClosedByTheHeadTimeout() throws {
        try expectAllClosedInTime(
            HostileAttack.run("slowloris", ["--connections", "20", "--seconds", "14", "--trickle", "1"]))
    }

    private func expectAllClosedInTime(_ run: HostileAttack) {
        #expect(run.int("connections") == 20, "\(run)")
        #expect(run.int("closed") == run.int("connections"), "every connection closed by the server: \(run)")
        #expect((run.double("max_open_s") ?? .infinity) <= Self.closedWithin, "\(run)")
        run.expectBoundedAndPoliteServed()
    }
}

/// What one run of bench/attack.py reported (its `ATTACK key=value …` line) and what the server logged.
struct HostileAttack: CustomStringConvertible {
    /// The command-line flag of the per-client-address connection cap (issue 12).
    static let perClientCapFlag = "--max-connections-per-client"
    /// The bound on the server's resident memory under any attack: the chart's 128 MiB pod limit, less room.
    static let maxRSSKiB = 100 * 1024
    /// The bound on the polite client's 99th percentile while an attack runs.
    static let maxPoliteP99Milliseconds = 1000.0

    let fields: [String: String]
    let serverLog: String

    /// Starts the release binary with `--dev` on a free loopback port (plus `serverArguments`), runs
    /// `bench/attack.py ATTACK options…` against it with the polite client asking for `/healthz`, stops it.
    static func run(_ attack: String, _ options: [String], serverArguments: [String] = []) throws -> HostileAttack {
        let server = try ServiceProcess(
            arguments: ["--dev", "--listen", "127.0.0.1:0"] + serverArguments,
            binary: buildReleaseBinary())
        defer { server.stop() }
        let result = try runCommand(
            ["timeout", "120", "python3", "\(packageRoot)/bench/attack.py", attack, "--port", "\(server.port)",
             "--pid", "\(server.processIdentifier)", "--path", "/healthz"] + options)
        let line = result.stdoutText.split(separator: "\n").first { $0.hasPrefix("ATTACK ") }
        guard let line, result.status == 0 else {
            throw AttackFailure(
                "bench/attack.py \(attack) exited \(result.status):\n\(result.stdoutText)\(result.stderrText)")
        }
        guard server.isRunning else {
            throw AttackFailure("the server died under \(attack): \(line)\n\(server.stderrText.suffix(2000))")
        }
        var fields: [String: String] = [:]
        for pair in line.dropFirst("ATTACK ".count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        return HostileAttack(fields: fields, serverLog: String(server.stderrText.suffix(2000)))
    }

    func int(_ key: String) -> Int? { fields[key].flatMap { Int($0) } }
    func double(_ key: String) -> Double? { fields[key].flatMap { Double($0) } }

    /// The bounds every attack must keep: RSS, and the polite client answered every time (and unless told
    /// otherwise with a p99 under a second).
    func expectBoundedAndPoliteServed(p99UnderASecond: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect((int("peak_rss_kib") ?? .max) <= Self.maxRSSKiB, "peak RSS: \(self)", sourceLocation: sourceLocation)
        #expect((int("polite_ok") ?? 0) > 0, "the polite client got answers: \(self)", sourceLocation: sourceLocation)
        #expect(int("polite_failed") == 0, "the polite client failed: \(self)", sourceLocation: sourceLocation)
        if p99UnderASecond {
            #expect((double("polite_p99_ms") ?? .infinity) < Self.maxPoliteP99Milliseconds, "\(self)",
                    sourceLocation: sourceLocation)
        }
    }

    var description: String {
        let reported = fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        return "\(reported)\nserver log (end):\n\(serverLog)"
    }
}

struct AttackFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
