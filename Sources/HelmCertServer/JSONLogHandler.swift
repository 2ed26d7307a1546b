#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials
import Logging
import Synchronization

/// A swift-log handler writing one JSON object per line: `{"time":…,"level":…,"message":…,"label":…,…}`,
/// metadata flattened into the object. Lines are written whole with one `write(2)` so that concurrent
/// threads never interleave inside a line.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let fd: Int32

    /// - Parameters:
    ///   - label: the logger's label (`helm-cert-server`).
    ///   - level: the lowest level written.
    ///   - fd: where lines go (standard error by default; standard output is for audit lines).
    public init(label: String, level: Logger.Level = .info, fd: Int32 = 2) {
        self.label = label
        self.logLevel = level
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = "{\"time\":" + jsonQuoted(Date().formatted(.iso8601))
        line += ",\"level\":" + jsonQuoted(event.level.rawValue)
        line += ",\"message\":" + jsonQuoted("\(event.message)")
        line += ",\"label\":" + jsonQuoted(label)
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for key in merged.keys.sorted() where !["time", "level", "message", "label"].contains(key) {
            line += "," + jsonQuoted(key) + ":" + jsonQuoted("\(merged[key]!)")
        }
        line += "}\n"
        writeAll(fd, line.utf8)
    }
}
