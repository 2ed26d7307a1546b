/// A caller known by a static bearer token.
public struct TokenUser: Sendable, Equatable {
    /// The user name: the caller's identity in logs and audit lines.
    public var name: String
    public var uid: String
    public var groups: [String]

    public init(name: String, uid: String, groups: [String] = []) {
        self.name = name
        self.uid = uid
        self.groups = groups
    }
}

/// kube-apiserver's static token file (`--token-auth-file`): CSV lines `token,user,uid[,"group1,group2"]`.
///
/// Parsed as kube-apiserver parses it (Go's `encoding/csv` with a variable field count): blank lines are
/// skipped, fields may be quoted (`""` escapes a quote), a line with fewer than three fields is an error, a
/// line with an empty token is skipped, and a repeated token keeps its last line. Tokens are kept only as
/// SHA-256 digests once `StaticTokenAuthenticator` has them; this type never prints them.
public struct TokenFile: Sendable {
    /// One line of the file.
    public struct Entry: Sendable {
        public var token: String
        public var user: TokenUser
    }

    /// The entries in file order, duplicates resolved (last line wins).
    public private(set) var entries: [Entry]
    /// Problems that did not stop parsing (empty or duplicate tokens), by line number, without the tokens.
    public private(set) var warnings: [String]

    /// Parses the file's bytes.
    /// - Throws: `TokenFileError` naming the line that has fewer than three fields or an unterminated quote.
    public init(parsing bytes: [UInt8]) throws(TokenFileError) {
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var warnings: [String] = []
        let records = try CSVRecords.parse(bytes)
        for (line, fields) in records {
            guard fields.count >= 3 else {
                throw TokenFileError(
                    line: line,
                    reason: "has \(fields.count) field(s); each line needs at least token,user,uid")
            }
            if fields[0].isEmpty {
                warnings.append("line \(line): empty token, line skipped")
                continue
            }
            let groups = fields.count >= 4 && !fields[3].isEmpty ? fields[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
            let entry = Entry(token: fields[0], user: TokenUser(name: fields[1], uid: fields[2], groups: groups))
            if let existing = index[fields[0]] {
                warnings.append("line \(line): duplicate token, this line replaces an earlier one")
                entries[existing] = entry
            } else {
                index[fields[0]] = entries.count
                entries.append(entry)
            }
        }
        self.entries = entries
        self.warnings = warnings
    }
}

/// The token file could not be used; names the line (never its token).
public struct TokenFileError: Error, Sendable, CustomStringConvertible, Equatable {
    public var line: Int
    public var reason: String
    public var description: String {
        "token file line \(line) \(reason) (format: token,user,uid[,\"group1,group2\"])"
    }
}

/// The subset of RFC 4180 / Go `encoding/csv` that token files use.
enum CSVRecords {
    /// Returns `(line number, fields)` per non-blank record.
    static func parse(_ bytes: [UInt8]) throws(TokenFileError) -> [(Int, [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var fieldWasQuoted = false
        var i = 0
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields.removeAll()
        }
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == UInt8(ascii: "\"") {
                    if i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\"") {
                        field.append(c)
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == UInt8(ascii: "\n") { line += 1 }
                    field.append(c)
                }
            } else {
                switch c {
                case UInt8(ascii: ","):
                    endField()
                case UInt8(ascii: "\n"):
                    endRecord()
                    line += 1
                    recordLine = line
                case UInt8(ascii: "\r") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n"):
                    break
                case UInt8(ascii: "\"") where field.isEmpty && !fieldWasQuoted:
                    inQuotes = true
                    fieldWasQuoted = true
                default:
                    if fieldWasQuoted {
                        throw TokenFileError(line: line, reason: "has text after a closing quote")
                    }
                    field.append(c)
                }
            }
            i += 1
        }
        if inQuotes { throw TokenFileError(line: recordLine, reason: "has a quote that is never closed") }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }
        return records
    }
}
