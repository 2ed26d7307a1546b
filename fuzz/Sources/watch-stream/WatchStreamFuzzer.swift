import FoundationEssentials
import FuzzSupport
import HelmBundle
@testable import KubernetesClient

/// A watch response body as the API server streams it: chunks (cut at points drawn from the input) → the line
/// splitter → watch event decoding → for a Secret event, the bundle decoding `KubernetesSecretSource` does.
///
/// Properties beyond "no crash":
/// - the splitter gives the same lines however the body is chunked, and they are the body's newline-ended
///   lines without their `\n` (and one `\r`), empty ones skipped; what follows the last newline is the
///   partial line;
/// - a decoded Secret survives a JSON round trip unchanged (what the client decoded is what the API sent).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWatchStream(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    var random = bytes.withUnsafeBytes { InputRandom(seeding: $0) }
    let cut = random.cuts(count: bytes.count, maxCuts: 16)

    // A small bound half the time (drawn from the input), so that refusing a long line is exercised too.
    let maxLineBytes = random.next(below: 2) == 0 ? 4 << 20  /* maxWatchEventBytes default */ : 1 + random.next(below: 256)
    var splitter = LineSplitter(maxLineBytes: maxLineBytes)
    var lines: [[UInt8]] = []
    var refused = false
    do {
        for chunk in chunks(bytes, at: cut) { lines += try splitter.append(chunk) }
    } catch {
        refused = true
    }

    var expected = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
    let partial = expected.removeLast()
    // Refused exactly when some line (a `\r` before its newline counted) or the unfinished tail is too long.
    let tooLong = expected.contains { $0.count > maxLineBytes } || partial.count > maxLineBytes
    require(refused == tooLong, "cut at \(cut): refused \(refused), a line over \(maxLineBytes) bytes: \(tooLong)")
    if refused { return 0 }
    expected = expected.map { $0.last == UInt8(ascii: "\r") ? Array($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    require(lines == expected, "cut at \(cut): \(lines.count) lines, expected \(expected.count)")
    require(splitter.hasPartialLine == !partial.isEmpty, "partial line \(splitter.hasPartialLine), expected \(!partial.isEmpty)")

    for line in lines {
        guard let event = try? WatchEvent.decode(line: line) else { continue }
        switch event {
        case .added(let secret), .modified(let secret), .deleted(let secret):
            let again = try? JSONDecoder().decode(Secret.self, from: JSONEncoder().encode(secret))
            require(again == secret, "a decoded Secret changed in a JSON round trip")
            if let files = try? BundleFiles(secretData: secret.data ?? [:]) {
                _ = try? ValidatedBundle(validating: files)
            }
        case .bookmark, .error:
            break
        }
    }
    return 0
}
