import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One `/v1` request as the audit log records it. Never the token, never key bytes.
public struct AuditEntry: Sendable {
    /// Who asked (the token file's user name), or `-` when nobody was authenticated.
    public var user: String
    /// `token`, `kubernetes`, `mtls`, or `none`.
    public var authMethod: String
    public var groups: [String]
    public var method: String
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
}

/// The audit trail: one JSON line per `/v1` request, allowed or refused, to standard output or a file.
///
/// Each line is written with a single `write(2)` (appends are atomic for a line this size), so lines from
/// different event loops never interleave. `record` reports failure, and the caller then refuses the
/// request: the key is never handed out unrecorded.
public final class AuditLog: Sendable {
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// Where lines go, for messages.
    public let destination: String

    /// Audits to standard output.
    public init() {
        fd = 1
        ownsDescriptor = false
        destination = "standard output"
    }

    /// Audits to `path`, appending (created with mode 0600).
    /// - Throws: `ServiceError` naming the file and the reason.
    public init(path: String) throws(ServiceError) {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw ServiceError("--audit-log \(path): cannot open for appending: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        ownsDescriptor = true
        destination = path
    }

    deinit { if ownsDescriptor { close(fd) } }

    /// Writes one line; false if it could not be written whole.
    public func record(_ entry: AuditEntry) -> Bool {
        // Built as bytes in one buffer: this runs on every /v1 request.
        var line: [UInt8] = []
        line.reserveCapacity(384)
        line.appendLiteral(#"{"time":""#)
        appendRFC3339Now(to: &line)
        line.appendLiteral(#"","audit":true,"user":"#)
        appendJSONString(entry.user, to: &line)
        line.appendLiteral(#","authMethod":"#)
        appendJSONString(entry.authMethod, to: &line)
        line.appendLiteral(#","groups":["#)
        for (i, group) in entry.groups.enumerated() {
            if i > 0 { line.append(UInt8(ascii: ",")) }
            appendJSONString(group, to: &line)
        }
        line.appendLiteral(#"],"method":"#)
        appendJSONString(entry.method, to: &line)
        line.appendLiteral(#","path":"#)
        appendJSONString(entry.path, to: &line)
        if let bundle = entry.bundle {
            line.appendLiteral(#","bundle":"#)
            appendJSONString(bundle, to: &line)
        }
        if let file = entry.file {
            line.appendLiteral(#","file":"#)
            appendJSONString(file, to: &line)
        }
        line.appendLiteral(#","status":"#)
        appendDecimal(entry.status, to: &line)
        line.appendLiteral(#","remoteAddress":"#)
        appendJSONString(entry.remoteAddress, to: &line)
        line.appendLiteral(#","bytes":"#)
        appendDecimal(entry.bytes, to: &line)
        if let etag = entry.etag {
            line.appendLiteral(#","etag":"#)
            appendJSONString(etag, to: &line)
        }
        line.appendLiteral("}\n")
        return writeAll(fd, line)
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
                appendPadded(UInt(value), width: width, to: &text)
                text.append(contentsOf: separator.utf8)
            }
            cache = (second: ts.tv_sec, text: text)
        }
        buffer.append(contentsOf: cache.text)
    }
    appendPadded(UInt(ts.tv_nsec / 1_000_000), width: 3, to: &buffer)
    buffer.append(UInt8(ascii: "Z"))
}

private let secondPrefixCache = Mutex<(second: Int, text: [UInt8])>((second: -1, text: []))

/// Appends `value` in decimal, zero-padded to `width` digits.
private func appendPadded(_ value: UInt, width: Int, to buffer: inout [UInt8]) {
    var divisor: UInt = 1
    var digits = 1
    while divisor <= value / 10 { divisor *= 10; digits += 1 }
    for _ in digits..<max(width, digits) { buffer.append(UInt8(ascii: "0")) }
    var rest = value
    while divisor > 0 {
        buffer.append(UInt8(ascii: "0") + UInt8(rest / divisor))
        rest %= divisor
        divisor /= 10
    }
}

/// Appends `value` in decimal (a leading `-` for negative values).
func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
    if value < 0 { buffer.append(UInt8(ascii: "-")) }
    appendPadded(value.magnitude, width: 1, to: &buffer)
}

extension [UInt8] {
    /// Appends the bytes of a literal without going through `String` (audit lines are built per request).
    @inline(__always) mutating func appendLiteral(_ text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
