import Foundation
import Testing
import TestSupport

/// The release binary (the Dockerfile's build) is linked as Package.swift's `releaseLinkLayout` describes, and
/// the list of functions it packs first, Sources/helm-cert-server/link/hot-functions.txt, is what the server runs.
@Suite struct ReleaseLinkTests {
    static let hotFunctionsFile = "\(packageRoot)/Sources/helm-cert-server/link/hot-functions.txt"

    /// Relative relocations packed (DT_RELR), libstdc++ static, no dynamic symbol table of our own, the hot
    /// functions first.
    @Test(.timeLimit(.minutes(30)))
    func releaseBinaryIsLaidOutForASmallResidentSet() throws {
        let binary = try buildReleaseBinary()
        let dynamic = try runCommand(["readelf", "--dynamic", "--wide", binary]).stdoutText
        #expect(dynamic.contains("(RELR)"), "relative relocations are packed: \(dynamic)")
        let relaBytes = dynamic.split(separator: "\n").first { $0.contains("(RELASZ)") }
            .flatMap { line in line.split(separator: " ").dropLast().last.flatMap { Int($0) } }
        #expect((relaBytes ?? 0) < 16_384, "RELA holds only what RELR cannot: \(relaBytes ?? -1) bytes")
        let needed = dynamic.split(separator: "\n").filter { $0.contains("(NEEDED)") }.joined(separator: "\n")
        #expect(needed.contains("[libc.so.6]") && !needed.contains("libstdc++"), "libstdc++ is linked statically: \(needed)")
        let exported = try runCommand(["nm", "--dynamic", "--defined-only", binary]).stdoutText
        #expect(exported.isEmpty, "the binary exports no symbols of its own: \(exported.prefix(300))")

        // The listed functions fill most of the start of .text (by bytes): 62 % of its first 256 KiB at the time
        // of writing, against 30 % unordered. Not all: our modules, compiled whole-module, and parts of the static
        // Swift runtime and Foundation keep some cold functions in the sections of hot ones.
        let text = try textSection(of: binary)
        let hot = try Set(Self.listedFunctions(in: String(contentsOfFile: Self.hotFunctionsFile, encoding: .utf8)))
        let window = 256 << 10
        var hotBytes = 0
        for line in try runCommand(["nm", "--print-size", "--defined-only", binary]).stdoutText.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, hot.contains(String(fields[3])),
                  let address = Int(fields[0], radix: 16), let size = Int(fields[1], radix: 16) else { continue }
            if address >= text.start && address < text.start + window { hotBytes += size }
        }
        #expect(hotBytes * 2 >= window, "listed functions hold \(hotBytes) of the first \(window) bytes of .text")
    }

    /// scripts/update-hot-functions, run again on this build, lists (nearly) the same functions as the committed
    /// file: the file is current, and the script still drives every scenario (it checks each status code).
    @Test(.timeLimit(.minutes(30)))
    func committedHotFunctionListMatchesWhatTheServerRuns() throws {
        let binary = try buildReleaseBinary()
        let directory = try TemporaryDirectory("release-hot-functions")
        defer { directory.remove() }
        // The test runner blocks SIGTERM and children inherit the mask; the script stops what it starts with it.
        let unblocked = "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execvp(sys.argv[1], sys.argv[1:])"
        let result = try runCommand(["python3", "-c", unblocked, "\(packageRoot)/scripts/update-hot-functions",
                                     "--binary", binary, "--output", directory.file("hot-functions.txt")],
                                    directory: packageRoot)
        try #require(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        let fresh = try String(contentsOfFile: directory.file("hot-functions.txt"), encoding: .utf8)
        let committed = try String(contentsOfFile: Self.hotFunctionsFile, encoding: .utf8)
        let drift = HotFunctionDrift(committed: Self.listedFunctions(in: committed), fresh: Self.listedFunctions(in: fresh))
        #expect(drift.fresh > 500, "the profile ran \(drift.fresh) of the binary's functions")
        #expect(drift.isCurrent, "\(drift); run scripts/update-hot-functions and commit \(Self.hotFunctionsFile)")
    }

    /// The drift check can fail: a list missing a tenth of the functions, or padded with a fifth of gone ones,
    /// is stale; a handful of differences (timing-dependent paths) is not.
    @Test func driftCheckRefusesAStaleList() {
        let run = (0..<1000).map { "$sf\($0)" }
        #expect(HotFunctionDrift(committed: run, fresh: run).isCurrent)
        #expect(HotFunctionDrift(committed: Array(run.dropLast(5)) + ["$sgone"], fresh: run).isCurrent)
        #expect(!HotFunctionDrift(committed: Array(run.dropLast(100)), fresh: run).isCurrent)
        #expect(!HotFunctionDrift(committed: run + (0..<250).map { "$sgone\($0)" }, fresh: run).isCurrent)
    }

    /// The function names of a hot-functions file: its lines, without comments and blank lines.
    static func listedFunctions(in file: String) -> [String] {
        file.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }
}

/// How far the committed hot-function list is from a fresh profile.
struct HotFunctionDrift: CustomStringConvertible {
    var committed: Int, fresh: Int, shared: Int

    init(committed: [String], fresh: [String]) {
        let a = Set(committed), b = Set(fresh)
        self.committed = a.count
        self.fresh = b.count
        shared = a.intersection(b).count
    }

    /// Current when the list covers 95 % of what ran and 90 % of the list still runs.
    var isCurrent: Bool { fresh > 0 && shared * 100 >= fresh * 95 && shared * 100 >= committed * 90 }

    var description: String {
        "the committed list names \(committed) functions, the server ran \(fresh) of the binary's, \(shared) in both"
    }
}

/// Where .text starts in an ELF file, from `readelf --section-headers`.
func textSection(of binary: String) throws -> (start: Int, size: Int) {
    let headers = try runCommand(["readelf", "--section-headers", "--wide", binary]).stdoutText
    for line in headers.split(separator: "\n") {
        let fields = line.replacingOccurrences(of: "[ ", with: "[").split(separator: " ")
        if fields.count > 5, fields[1] == ".text", let start = Int(fields[3], radix: 16), let size = Int(fields[5], radix: 16) {
            return (start, size)
        }
    }
    throw CommandFailure("no .text section in \(binary)")
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
