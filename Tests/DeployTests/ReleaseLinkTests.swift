import Foundation
import Testing
import TestSupport

/// The release binary (the Dockerfile's build) is linked as Package.swift's `releaseLinkLayout` describes.
/// Whether the functions it packs first (Sources/helm-cert-server/link/hot-functions.txt) are still what the
/// server runs is `scripts/update-hot-functions --check`'s question (valgrind), not the suite's.
@Suite struct ReleaseLinkTests {
    /// Relative relocations packed (DT_RELR), libstdc++ static, no dynamic symbol table of our own.
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

        // Whether the functions listed in hot-functions.txt still fill the start of .text depends on how far the
        // code has moved since the list was made, so no test asserts it: a stale list costs idle memory, not
        // correctness. `scripts/update-hot-functions --check` says when to regenerate it, and bench/run's idle
        // RSS row shows what it is worth (docs/benchmark.md).
    }
}
