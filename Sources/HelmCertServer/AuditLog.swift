import BackgroundWork
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HTTPServer

/// One `/v1` request as the audit log records it. Never the token, never key bytes.
public struct AuditEntry: Sendable {
    /// Who asked (the token file's user name), or `-` when nobody was authenticated.
    public var user: String
    /// How the caller was authenticated; `nil` (written `none`) when nobody was.
    public var authMethod: AuthMethod?
    public var groups: [String]
    /// The request method; the line writes its token (`"GET"`).
    public var method: HTTPMethod
    public var path: String
    public var bundle: String?
    /// `ca.pem`, `cert.pem`, `key.pem`, `bundle.tar.gz`, `metadata`.
    public var file: String?
    public var status: Int
    public var remoteAddress: String
    /// Body bytes sent.
    public var bytes: Int
    /// The bundle answer's ETag, for downloads.
    public var etag: String?
    /// The request's number in this process (`/v1` requests, from 1): ties a second line about the same request
    /// (``answerDropped``) to its first.
    public var request: UInt64? = nil
    /// True on the second line of a request whose answer was dropped after its first line was written (the
    /// client left, or got 503 because the line came too late): that line's status and bytes did not happen.
    public var answerDropped = false
    /// The personal certificate this request was issued, if any (never its key).
    public var certificate: IssuedCertificateAudit? = nil
}

/// What an audit line says about an issued personal certificate: enough to find it (serial, fingerprint) and
/// to know until when it works. The caller is the line's `user`.
public struct IssuedCertificateAudit: Sendable, Equatable {
    /// Uppercase hex, as `openssl x509 -serial` prints it.
    public var serial: String
    /// RFC 2253 (`CN=alice`).
    public var subject: String
    public var notAfter: Date
    /// Lowercase hex SHA-256 of the certificate's DER.
    public var sha256: String
    /// How it was asked for: a CSR, or a key the server generated.
    public var how: IssuingMethod

    public init(serial: String, subject: String, notAfter: Date, sha256: String, how: IssuingMethod) {
        self.serial = serial
        self.subject = subject
        self.notAfter = notAfter
        self.sha256 = sha256
        self.how = how
    }
}

/// How a personal certificate was asked for: the `how` label of `helm_cert_server_certificates_issued_total`
/// and the audit line's `certificate.how`.
public enum IssuingMethod: String, Sendable, CaseIterable {
    /// `POST …/certificates` with the caller's certificate signing request: the key never left the caller.
    case csr
    /// `POST …/personal.tar.gz`: the server generated the key and handed it out once.
    case generated
}

/// The audit trail: one JSON line per `/v1` request, allowed or refused, to standard output or a file. An event
/// loop writes its turn's lines itself when the destination takes them at once; a thread of its own writes the
/// rest, so that a slow or stalled destination never blocks an event loop.
///
/// - ``record(_:atEndOf:then:)`` (an event loop) encodes the line on the loop's thread and writes it with the
///   rest of the turn's lines at the end of the turn, when the destination takes them without waiting
///   (``AuditDirectWrite``) and the writer thread holds nothing; otherwise it queues them for the thread.
///   ``record(_:then:)`` (any other thread) always queues. Either way the completion runs only once the line
///   is written, and it releases the answer: nothing is handed out before its line is written, and a line that
///   cannot be written turns the answer into a refusal.
/// - At most `queueCapacity` lines wait, in turn batches and queued together (default
///   ``defaultQueueCapacity``); when they all do, `record` says no
///   and the caller refuses the request at once: a stalled destination refuses keys, never hands them out
///   unrecorded, and never holds more than `queueCapacity` × ``maxLineBytes`` of lines.
/// - Every line is at most ``maxLineBytes`` (4096 bytes, `PIPE_BUF`), and lines are written in chunks of at most
///   that many bytes, each with one `write(2)`: a pipe shared with other writers never gets a line torn apart.
///   Long fields are cut to fit and end with a marker (``AuditEntry/Limits``).
public final class AuditLog: Sendable {
    /// The most lines waiting to be written, unless told otherwise.
    public static let defaultQueueCapacity = 1024
    /// The longest line, newline included: `PIPE_BUF` on Linux, the most one `write(2)` to a pipe writes whole.
    public static let maxLineBytes = 4096

    /// Where lines go, for messages.
    public let destination: String
    /// The most lines waiting to be written.
    public let queueCapacity: Int
    private let writer: Writer

    /// Audits to standard output.
    /// - Parameter queueCapacity: the most lines waiting to be written.
    /// - Throws: `ServiceError` when the writer thread cannot be started.
    public init(queueCapacity: Int = AuditLog.defaultQueueCapacity) throws(ServiceError) {
        destination = "standard output"
        self.queueCapacity = queueCapacity
        writer = try Writer(fd: 1, ownsDescriptor: false, capacity: queueCapacity)
    }

    /// Audits to `path`, appending (created with mode 0600). Opening a FIFO waits for its reader, as a shell's
    /// redirection does.
    /// - Parameters:
    ///   - path: the file.
    ///   - queueCapacity: the most lines waiting to be written.
    /// - Throws: `ServiceError` naming the file and the reason, or saying the writer thread cannot be started.
    public init(path: String, queueCapacity: Int = AuditLog.defaultQueueCapacity) throws(ServiceError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ServiceError("--audit-log \(path): cannot open for appending: \(String(cString: strerror(errno)))")
        }
        destination = path
        self.queueCapacity = queueCapacity
        writer = try Writer(fd: fd, ownsDescriptor: true, capacity: queueCapacity)
    }

    /// Lets the writer finish the queued lines, then ends its thread (and closes a file it opened).
    deinit { writer.finish() }

    /// Queues `entry`'s line for the writer thread; `completion` runs on that thread once the line is written
    /// (true) or could not be (false). For callers that are not an event loop (a Kubernetes review's or an
    /// issuing job's completion); a loop uses ``record(_:atEndOf:then:)``.
    /// - Returns: false, without calling `completion`, when ``queueCapacity`` lines are already waiting.
    public func record(_ entry: AuditEntry, then completion: @escaping @Sendable (Bool) -> Void) -> Bool {
        writer.enqueue(Self.line(for: entry), completion: completion)
    }

    /// Adds `entry`'s line to `turn`'s batch. At the end of the turn the loop writes the whole batch itself, in as
    /// few `write(2)`s as ``maxLineBytes`` allows, when the destination takes it without waiting and the writer
    /// thread has nothing queued (``AuditDirectWrite``); `completion` then runs on the loop's thread. Whatever
    /// cannot be written so goes to the writer thread, in order, and its completions run there. Either way a
    /// line's completion runs only once it is written: the caller still hands nothing out before that. This
    /// spares a request the two hand-offs between threads (to the writer and back), which cost more than the
    /// write itself (docs/benchmark.md), and writes a busy turn's lines together.
    /// - Returns: false, without calling `completion`, when ``queueCapacity`` lines already wait (in batches
    ///   or queued).
    public func record(
        _ entry: AuditEntry, atEndOf turn: EventLoopTurn, then completion: @escaping @Sendable (Bool) -> Void
    ) -> Bool {
        guard writer.reserve() else { return false }
        // Keyed by the writer, which the batch keeps alive: no later writer can take its address, so a batch is
        // never handed to another log's lines.
        let batch = turn.value(for: ObjectIdentifier(writer)) { TurnBatch(writer: writer) }
        batch.add(Self.line(for: entry), completion: completion)
        if batch.lines.count == 1 { turn.atEnd { batch.flush() } }
        return true
    }

    /// The lines one event loop recorded during its current turn; touched only on that loop's thread.
    private final class TurnBatch {
        let writer: Writer
        var lines: [Writer.Pending] = []

        init(writer: Writer) { self.writer = writer }

        func add(_ line: [UInt8], completion: @escaping @Sendable (Bool) -> Void) {
            lines.append(Writer.Pending(bytes: line, completions: [completion]))
        }

        func flush() {
            let due = lines
            lines.removeAll(keepingCapacity: true)
            writer.writeFromLoop(due)
        }
    }

    /// The JSON line for `entry`, newline included, at most ``maxLineBytes`` long.
    static func line(for entry: AuditEntry) -> [UInt8] {
        // Built as bytes in one buffer: this runs on every /v1 request.
        typealias Limits = AuditEntry.Limits
        var line: [UInt8] = []
        line.reserveCapacity(384)
        line.appendLiteral(#"{"time":""#)
        appendRFC3339Now(to: &line)
        line.appendLiteral(#"","audit":true,"user":"#)
        appendJSONString(entry.user, to: &line, cutAt: Limits.user)
        line.appendLiteral(#","authMethod":"#)
        appendJSONString(entry.authMethod?.rawValue ?? "none", to: &line, cutAt: Limits.short)
        line.appendLiteral(#","groups":["#)
        appendGroups(entry.groups, to: &line)
        line.appendLiteral(#"],"method":"#)
        appendJSONString(entry.method.rawValue, to: &line, cutAt: Limits.short)
        line.appendLiteral(#","path":"#)
        appendJSONString(entry.path, to: &line, cutAt: Limits.path)
        if let bundle = entry.bundle {
            line.appendLiteral(#","bundle":"#)
            appendJSONString(bundle, to: &line, cutAt: Limits.name)
        }
        if let file = entry.file {
            line.appendLiteral(#","file":"#)
            appendJSONString(file, to: &line, cutAt: Limits.short)
        }
        line.appendLiteral(#","status":"#)
        appendDecimal(entry.status, to: &line)
        line.appendLiteral(#","remoteAddress":"#)
        appendJSONString(entry.remoteAddress, to: &line, cutAt: Limits.name)
        line.appendLiteral(#","bytes":"#)
        appendDecimal(entry.bytes, to: &line)
        if let etag = entry.etag {
            line.appendLiteral(#","etag":"#)
            appendJSONString(etag, to: &line, cutAt: Limits.name)
        }
        if let request = entry.request {
            line.appendLiteral(#","request":"#)
            appendDecimal(Int(truncatingIfNeeded: request), to: &line)
        }
        if entry.answerDropped { line.appendLiteral(#","answerDropped":true"#) }
        if let certificate = entry.certificate {
            line.appendLiteral(#","certificate":{"serial":"#)
            appendJSONString(certificate.serial, to: &line, cutAt: Limits.name)
            line.appendLiteral(#","subject":"#)
            appendJSONString(certificate.subject, to: &line, cutAt: Limits.subject)
            line.appendLiteral(#","notAfter":"#)
            appendJSONString(certificate.notAfter.formatted(.iso8601), to: &line, cutAt: Limits.short)
            line.appendLiteral(#","sha256":"#)
            appendJSONString(certificate.sha256, to: &line, cutAt: Limits.name)
            line.appendLiteral(#","how":"#)
            appendJSONString(certificate.how.rawValue, to: &line, cutAt: Limits.short)
            line.appendLiteral("}")
        }
        line.appendLiteral("}\n")
        assert(line.count <= maxLineBytes, "the field limits add up to more than one audit line")
        return line
    }

    /// The groups, each cut at ``AuditEntry/Limits/group``, until ``AuditEntry/Limits/groups`` bytes are used;
    /// the rest are counted in a last element `...[N more groups cut]`.
    private static func appendGroups(_ groups: [String], to line: inout [UInt8]) {
        let start = line.count
        for (index, group) in groups.enumerated() {
            var element: [UInt8] = []
            appendJSONString(group, to: &element, cutAt: AuditEntry.Limits.group)
            guard line.count - start + element.count + 1 <= AuditEntry.Limits.groups else {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                appendJSONString("...[\(groups.count - index) more groups cut]", to: &line)
                return
            }
            if index > 0 { line.append(UInt8(ascii: ",")) }
            line.append(contentsOf: element)
        }
    }

    /// The queue and the thread that empties it, and the loops' way past it (``writeFromLoop(_:)``): a loop writes
    /// only while the thread has nothing queued or in hand, under the same lock, so lines are never interleaved,
    /// torn or reordered behind a stall.
    private final class Writer: Sendable {
        /// Bytes to write (whole lines, or the rest of lines a loop wrote in part), and the completions of the
        /// lines they end.
        struct Pending {
            var bytes: [UInt8]
            var completions: [@Sendable (Bool) -> Void]
        }

        private struct State {
            var queue: [Pending] = []
            /// The thread is writing a batch it took from the queue.
            var writing = false
            var finishing = false
            /// How a loop may write without waiting; `.unavailable` once that proved impossible.
            var direct: AuditDirectWrite
        }

        private let fd: Int32
        private let ownsDescriptor: Bool
        private let capacity: Int
        /// Lines recorded and not yet written: in loops' turn batches, queued, or in the thread's hands. At most
        /// `capacity`; a line is counted from ``reserve()`` to its completion.
        private let waiting = Atomic<Int>(0)
        private let state: Mutex<State>
        /// Poked for the first line into an empty queue, stopped by `finish()`.
        private let signal = StopSignal()

        /// Starts the writer thread: a thread of its own, since a stalled destination blocks it in `write(2)`
        /// for as long as the stall lasts. Detached: `finish()` does not wait for a stalled destination.
        init(fd: Int32, ownsDescriptor: Bool, capacity: Int) throws(ServiceError) {
            self.fd = fd
            self.ownsDescriptor = ownsDescriptor
            self.capacity = capacity
            state = Mutex(State(direct: AuditDirectWrite(for: fd)))
            do {
                try BackgroundThread(name: "audit-writer") { [self] in run() }.detach()
            } catch {
                state.withLock { $0.direct.close() }
                if ownsDescriptor { close(fd) }
                throw ServiceError("\(error)")
            }
        }

        /// Counts one more waiting line, unless `capacity` already wait.
        func reserve() -> Bool {
            if waiting.wrappingAdd(1, ordering: .relaxed).newValue <= capacity { return true }
            waiting.wrappingSubtract(1, ordering: .relaxed)
            return false
        }

        /// Queues a line unless `capacity` lines wait. The writer takes every waiting line each time it wakes,
        /// so only the first line into an empty queue needs to wake it.
        func enqueue(_ line: [UInt8], completion: @escaping @Sendable (Bool) -> Void) -> Bool {
            guard reserve() else { return false }
            let queued = state.withLock { state -> Bool? in
                guard !state.finishing else { return nil }
                state.queue.append(Pending(bytes: line, completions: [completion]))
                return state.queue.count == 1
            }
            guard let first = queued else {
                waiting.wrappingSubtract(1, ordering: .relaxed)
                return false
            }
            if first { signal.poke() }
            return true
        }

        /// On a loop's thread, at the end of its turn: writes `lines` (each counted by ``reserve()``) now, in
        /// chunks of whole lines of at most ``AuditLog/maxLineBytes``, when the thread holds nothing and the
        /// destination takes them without waiting; queues the rest for the thread, the unwritten part of a line
        /// included. Completions of lines written here run here, after the lock is released.
        func writeFromLoop(_ lines: [Pending]) {
            guard !lines.isEmpty else { return }
            var done: [@Sendable (Bool) -> Void] = []
            var failed: [@Sendable (Bool) -> Void] = []
            let wake = state.withLock { state -> Bool in
                guard !state.finishing else {
                    failed = lines.flatMap(\.completions)  // the thread may have ended: nothing would write them
                    return false
                }
                var rest = lines[...]
                if state.queue.isEmpty && !state.writing {
                    rest = Self.writeDirectly(lines, with: &state.direct, done: &done)
                }
                guard !rest.isEmpty else { return false }
                let wasEmpty = state.queue.isEmpty
                state.queue.append(contentsOf: rest)
                return wasEmpty
            }
            if wake { signal.poke() }
            waiting.wrappingSubtract(done.count + failed.count, ordering: .relaxed)
            for completion in done { completion(true) }
            for completion in failed { completion(false) }
        }

        /// Writes what `direct` takes of `lines` at once; returns what is left, the first element possibly a
        /// line's unwritten end. The caller holds the lock.
        private static func writeDirectly(
            _ lines: [Pending], with direct: inout AuditDirectWrite, done: inout [@Sendable (Bool) -> Void]
        ) -> ArraySlice<Pending> {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(AuditLog.maxLineBytes)
            var first = 0
            var index = 0
            while first < lines.count {
                // Whole lines, up to maxLineBytes (each line alone fits).
                chunk.removeAll(keepingCapacity: true)
                index = first
                while index < lines.count && (index == first || chunk.count + lines[index].bytes.count <= AuditLog.maxLineBytes) {
                    chunk.append(contentsOf: lines[index].bytes)
                    index += 1
                }
                let outcome = chunk.withUnsafeBytes { direct.attempt($0) }
                switch outcome {
                case .wrote(let count) where count == chunk.count:
                    for line in lines[first..<index] { done.append(contentsOf: line.completions) }
                    first = index
                case .wrote(let count):
                    // Lines wholly written are done; the one cut short leaves its end to the thread.
                    var offset = 0
                    var cut = first
                    while cut < index && offset + lines[cut].bytes.count <= count {
                        offset += lines[cut].bytes.count
                        done.append(contentsOf: lines[cut].completions)
                        cut += 1
                    }
                    var rest = Array(lines[cut...])
                    if count > offset { rest[0].bytes.removeFirst(count - offset) }
                    return rest[...]
                case .unsupported:
                    direct.close()
                    direct = .unavailable
                    return lines[first...]
                }
            }
            return []
        }

        func finish() {
            state.withLock { $0.finishing = true }
            signal.stop()
        }

        private func run() {
            while true {
                let stopped = signal.wait(for: nil)
                let batch = state.withLock { state in
                    defer { state.queue.removeAll(keepingCapacity: true) }
                    state.writing = !state.queue.isEmpty
                    return state.queue
                }
                write(batch)
                let done = state.withLock { state in
                    state.writing = false
                    return stopped && state.queue.isEmpty
                }
                if done { break }
            }
            state.withLock { $0.direct.close() }
            if ownsDescriptor { close(fd) }
        }

        /// Writes the batch in chunks of whole lines of at most `maxLineBytes`, calling each line's completion
        /// as soon as its chunk is out (or has failed).
        private func write(_ batch: [Pending]) {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(AuditLog.maxLineBytes)
            var first = 0
            for index in batch.indices {
                if chunk.count + batch[index].bytes.count > AuditLog.maxLineBytes {
                    flush(&chunk, batch[first..<index])
                    first = index
                }
                chunk.append(contentsOf: batch[index].bytes)
            }
            flush(&chunk, batch[first...])
        }

        private func flush(_ chunk: inout [UInt8], _ lines: ArraySlice<Pending>) {
            guard !lines.isEmpty else { return }
            let written = writeAll(fd, chunk)
            chunk.removeAll(keepingCapacity: true)
            let completions = lines.flatMap(\.completions)
            waiting.wrappingSubtract(completions.count, ordering: .relaxed)
            for completion in completions { completion(written) }
        }
    }
}

extension AuditEntry {
    /// The most bytes a field takes in a line, as escaped JSON without its quotes; a longer value is cut to fit
    /// and ends with `...[cut: N bytes in all]`. With the line's fixed parts they add up to less than
    /// ``AuditLog/maxLineBytes``.
    enum Limits {
        /// The request path: a 15 KB path is cut to its first kilobyte.
        static let path = 1024
        /// The user name (a certificate CN, a token-file name, a Kubernetes user).
        static let user = 256
        /// An issued certificate's subject (`CN=…`, RFC 2253): 600, so a 64-character CN always fits whole, at
        /// its worst 64 four-byte characters, or quotes RFC 2253 and JSON escape to four bytes each (259 bytes).
        static let subject = 600
        /// Each group.
        static let group = 256
        /// All groups together, with their quotes and commas.
        static let groups = 1024
        /// The bundle name, the remote address, the ETag.
        static let name = 128
        /// The method, the authentication method, the file.
        static let short = 32
    }
}

/// Appends now as RFC 3339 UTC with milliseconds (`2026-11-27T06:45:31.123Z`), without Foundation's
/// formatters. The part up to the seconds is formatted once per second and shared by every thread.
func appendRFC3339Now(to buffer: inout [UInt8]) {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    secondPrefixCache.withLock { cache in
        if cache.second != ts.tv_sec {
            var seconds = ts.tv_sec
            var parts = tm()
            gmtime_r(&seconds, &parts)
            var text: [UInt8] = []
            text.reserveCapacity(20)
            for (value, width, separator) in [
                (Int(parts.tm_year) + 1900, 4, "-"), (Int(parts.tm_mon) + 1, 2, "-"), (Int(parts.tm_mday), 2, "T"),
                (Int(parts.tm_hour), 2, ":"), (Int(parts.tm_min), 2, ":"), (Int(parts.tm_sec), 2, "."),
            ] {
                appendDecimal(value, minimumDigits: width, to: &text)
                text.append(contentsOf: separator.utf8)
            }
            cache = (second: ts.tv_sec, text: text)
        }
        buffer.append(contentsOf: cache.text)
    }
    appendDecimal(ts.tv_nsec / 1_000_000, minimumDigits: 3, to: &buffer)
    buffer.append(UInt8(ascii: "Z"))
}

private let secondPrefixCache = Mutex<(second: Int, text: [UInt8])>((second: -1, text: []))

extension [UInt8] {
    /// Appends the bytes of a literal without going through `String` (audit lines are built per request).
    @inline(__always) mutating func appendLiteral(_ text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
