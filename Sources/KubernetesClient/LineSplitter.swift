/// Cuts a byte stream into newline-terminated lines; what follows the last newline waits for more bytes
/// (and is dropped if the stream ends there: a watch cut mid-event).
///
/// A line may be at most `maxLineBytes` long (counting a `\r` before its newline, not the newline): the bytes
/// of an unfinished line are held in memory, so a server that never sends a newline would otherwise make the
/// client hold all it sends.
struct LineSplitter {
    /// A line grew past `maxLineBytes` before its newline arrived.
    struct LineTooLong: Error, Equatable {
        /// The limit that was crossed.
        var maxLineBytes: Int
    }

    /// The longest line accepted, in bytes.
    let maxLineBytes: Int
    private var pending: [UInt8] = []

    /// - Parameter maxLineBytes: the longest line accepted (a watch passes
    ///   ``KubernetesConfiguration/maxWatchEventBytes``).
    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Whether bytes of an unfinished line are waiting.
    var hasPartialLine: Bool { !pending.isEmpty }

    /// Adds bytes and returns the lines they complete, without their `\n` (and `\r`), skipping empty ones.
    /// - Throws: `LineTooLong` as soon as an unfinished line would hold more than `maxLineBytes` (the lines
    ///   completed before it in `bytes` are lost too: the stream is not worth reading on).
    mutating func append(_ bytes: some Collection<UInt8>) throws(LineTooLong) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                if !pending.isEmpty { lines.append(pending) }
                pending.removeAll(keepingCapacity: true)
            } else {
                guard pending.count < maxLineBytes else {
                    pending = []
                    throw LineTooLong(maxLineBytes: maxLineBytes)
                }
                pending.append(byte)
            }
        }
        return lines
    }
}
