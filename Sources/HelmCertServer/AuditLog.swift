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
        line.append(contentsOf: #"{"time":""#.utf8)
        line.append(contentsOf: rfc3339Now().utf8)
        line.append(contentsOf: #"","audit":true,"user":"#.utf8)
        appendJSONString(entry.user, to: &line)
        line.append(contentsOf: #","authMethod":"#.utf8)
        appendJSONString(entry.authMethod, to: &line)
        line.append(contentsOf: #","groups":["#.utf8)
        for (i, group) in entry.groups.enumerated() {
            if i > 0 { line.append(UInt8(ascii: ",")) }
            appendJSONString(group, to: &line)
        }
        line.append(contentsOf: #"],"method":"#.utf8)
        appendJSONString(entry.method, to: &line)
        line.append(contentsOf: #","path":"#.utf8)
        appendJSONString(entry.path, to: &line)
        if let bundle = entry.bundle {
            line.append(contentsOf: #","bundle":"#.utf8)
            appendJSONString(bundle, to: &line)
        }
        if let file = entry.file {
            line.append(contentsOf: #","file":"#.utf8)
            appendJSONString(file, to: &line)
        }
        line.append(contentsOf: #","status":"#.utf8)
        line.append(contentsOf: String(entry.status).utf8)
        line.append(contentsOf: #","remoteAddress":"#.utf8)
        appendJSONString(entry.remoteAddress, to: &line)
        line.append(contentsOf: #","bytes":"#.utf8)
        line.append(contentsOf: String(entry.bytes).utf8)
        if let etag = entry.etag {
            line.append(contentsOf: #","etag":"#.utf8)
            appendJSONString(etag, to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        return writeAll(fd, line)
    }
}

/// Now as RFC 3339 UTC with milliseconds (`2026-11-27T06:45:31.123Z`), without Foundation's formatters. The
/// part up to the seconds is formatted once per second and shared.
func rfc3339Now() -> String {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    let millis = Int(ts.tv_nsec / 1_000_000)
    let prefix = secondPrefixCache.withLock { cache -> String in
        if cache.second == ts.tv_sec { return cache.text }
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        cache.second = ts.tv_sec
        cache.text = "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))T"
            + "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))."
        return cache.text
    }
    return prefix + pad(millis, 3) + "Z"
}

private let secondPrefixCache = Mutex<(second: Int, text: String)>((second: -1, text: ""))

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}
