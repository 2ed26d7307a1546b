/// An ordered list of HTTP header fields with case-insensitive lookup by name.
///
/// Names keep the spelling they were added with; lookups compare names ASCII case-insensitively
/// (RFC 9110 §5.1). Several fields with the same name stay separate, in order.
public struct HTTPHeaders: Sendable, Sequence {
    /// One header field: its name as written and its value (without surrounding whitespace).
    public typealias Field = (name: String, value: String)

    @usableFromInline var fields: [Field]

    /// An empty header list.
    public init() { fields = [] }

    /// A header list holding `fields` in order.
    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// The value of the first field called `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        for field in fields where Self.namesEqual(field.name, name) { return field.value }
        return nil
    }

    /// The values of every field called `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        fields.filter { Self.namesEqual($0.name, name) }.map(\.value)
    }

    /// Appends a field; existing fields with the same name are kept.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Removes every field called `name` (case-insensitive).
    public mutating func remove(_ name: String) {
        fields.removeAll { Self.namesEqual($0.name, name) }
    }

    /// Whether any field called `name` exists.
    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// The number of fields.
    public var count: Int { fields.count }

    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// ASCII case-insensitive comparison of two header names.
    static func namesEqual(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        // In place for native strings (every lookup of every request goes through here).
        let compared = x.withContiguousStorageIfAvailable { xs in
            y.withContiguousStorageIfAvailable { ys in
                for i in 0..<xs.count where xs[i] != ys[i] {
                    if lowercased(xs[i]) != lowercased(ys[i]) { return false }
                }
                return true
            }
        }
        if let compared, let compared { return compared }
        for (c, d) in zip(x, y) where c != d {
            if lowercased(c) != lowercased(d) { return false }
        }
        return true
    }

    @inline(__always) static func lowercased(_ c: UInt8) -> UInt8 {
        (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c
    }
}

extension HTTPHeaders {
    /// Whether a comma-separated header (such as `Connection`) lists `token`, case-insensitively.
    func hasToken(_ token: String, in name: String) -> Bool {
        for value in values(name) {
            for part in value.split(separator: ",") {
                let trimmed = part.trimmingASCIIWhitespace()
                if HTTPHeaders.namesEqual(String(trimmed), token) { return true }
            }
        }
        return false
    }
}

extension Substring {
    func trimmingASCIIWhitespace() -> Substring {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
