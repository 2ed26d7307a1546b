/// Cuts a byte stream into newline-terminated lines; what follows the last newline waits for more bytes
/// (and is dropped if the stream ends there: a watch cut mid-event).
struct LineSplitter {
    private var pending: [UInt8] = []

    /// Whether bytes of an unfinished line are waiting.
    var hasPartialLine: Bool { !pending.isEmpty }

    /// Adds bytes and returns the lines they complete, without their `\n` (and `\r`), skipping empty ones.
    mutating func append(_ bytes: some Collection<UInt8>) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                if !pending.isEmpty { lines.append(pending) }
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append(byte)
            }
        }
        return lines
    }
}
