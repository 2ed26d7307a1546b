import Foundation
import Testing
import TestSupport

/// The release binary (the Dockerfile's build) is linked as Package.swift's `releaseLinkLayout` describes: the
/// functions listed in Sources/helm-cert-server/link/hot-functions.txt first. Whether that list is still what
/// the server runs is `scripts/update-hot-functions --check`'s question (valgrind), not the suite's.
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

        // The listed functions fill most of the start of .text (by bytes): 61 % of its first 256 KiB when the list
        // was last made, against 30 % unordered. Not all: our modules, compiled whole-module, and parts of the
        // static Swift runtime and Foundation keep some cold functions in the sections of hot ones. A list gone
        // stale through code changes still passes while the functions it names that remain fill the window (the
        // list holds about 940 KiB of them): staleness costs memory, not correctness, and
        // `scripts/update-hot-functions --check` says when to regenerate it.
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

    /// The function names of a hot-functions file: its lines, without comments and blank lines.
    static func listedFunctions(in file: String) -> [String] {
        file.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix("#") }
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
