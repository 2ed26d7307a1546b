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
/// Records are read exactly as kube-apiserver's `tokenfile.NewCSV` reads them, with Go's `encoding/csv`
/// (``CSVRecords``): blank lines are skipped, a field that starts with `"` is quoted (`""` is a quote inside it,
/// it may hold commas and line breaks), a quote anywhere else is an error. A line with an empty token is
/// skipped and a repeated token keeps its last line, as there.
///
/// Where kube-apiserver refuses the whole file (and keeps serving no tokens at all until restarted), this
/// skips only the broken record (bad quoting, fewer than three fields, not UTF-8), says which line in
/// ``skipped``, and applies the rest: removing a line from a file that also holds a typo still revokes it.
/// Reading resumes where Go's reader resumes after an error, so a quote that is never closed swallows the rest
/// of the file (fewer tokens, never more). Tokens are kept only as SHA-256 digests once
/// `StaticTokenAuthenticator` has them; this type never prints them.
public struct TokenFile: Sendable {
    /// One line of the file.
    public struct Entry: Sendable {
        public var token: String
        public var user: TokenUser
    }

    /// The entries in file order, duplicates resolved (last line wins).
    public private(set) var entries: [Entry]
    /// Records that were skipped because they are malformed, by line number, without their tokens.
    public private(set) var skipped: [TokenFileError]
    /// Lines that were used or skipped as kube-apiserver would (empty or duplicate tokens), by line number,
    /// without the tokens.
    public private(set) var warnings: [String]

    /// No tokens at all (no token file, or one that cannot be read).
    public static let empty = TokenFile(parsing: [])

    /// Parses the file's bytes; never fails as a whole.
    public init(parsing bytes: [UInt8]) {
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        var warnings: [String] = []
        var skipped: [TokenFileError] = []
        for record in CSVRecords.parse(bytes) {
            let line = record.line
            let fields: [String]
            switch record.fields {
            case .failure(let error):
                skipped.append(error)
                continue
            case .success(let raw):
                guard let decoded = Self.decodeUTF8(raw) else {
                    skipped.append(TokenFileError(line: line, reason: "is not valid UTF-8"))
                    continue
                }
                fields = decoded
            }
            guard fields.count >= 3 else {
                skipped.append(
                    TokenFileError(line: line, reason: "has \(fields.count) field(s); each line needs at least token,user,uid"))
                continue
            }
            if fields[0].isEmpty {
                warnings.append("line \(line): empty token, line skipped")
                continue
            }
            let groups = fields.count >= 4 && !fields[3].isEmpty
                ? fields[3].split(separator: ",", omittingEmptySubsequences: false).map(String.init) : []
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
        self.skipped = skipped
        self.warnings = warnings
    }

    private static func decodeUTF8(_ fields: [[UInt8]]) -> [String]? {
        var result: [String] = []
        for field in fields {
            guard let text = String(validating: field, as: UTF8.self) else { return nil }
            result.append(text)
        }
        return result
    }
}

/// A record of the token file that was skipped; names its line (never its token) and what was wrong.
public struct TokenFileError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The line the record starts on (1-based).
    public var line: Int
    public var reason: String
    public var description: String {
        "token file line \(line) \(reason) (format: token,user,uid[,\"group1,group2\"]); line skipped"
    }
}

/// Go's `encoding/csv` `Reader` as kube-apiserver's token file uses it (comma `,`, no comment character,
/// `LazyQuotes` and `TrimLeadingSpace` off, any number of fields per record), reading on after each error
/// as a caller of `Read` would.
///
/// - Lines end at `\n`; `\r\n` counts as `\n` (inside quoted fields too), and a `\r` just before the end of
///   the input is dropped. A line that holds nothing but its line end is skipped.
/// - A field that starts with `"` is quoted: it ends at a `"` followed by `,`, the line end or the end of
///   input; `""` inside it is one `"`; any other character after a closing quote is an error (`ErrQuote`),
///   and so is the end of input inside it.
/// - A `"` in a field that does not start with one is an error (`ErrBareQuote`); so is `a "b"` (a leading
///   space makes the field unquoted).
/// - After an error, reading resumes at the line after the one where the error was found.
enum CSVRecords {
    /// One record: the line it starts on, and its fields or why it is malformed.
    struct Record {
        var line: Int
        var fields: Result<[[UInt8]], TokenFileError>
    }

    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")

    static func parse(_ bytes: [UInt8]) -> [Record] {
        var lines = Lines(bytes)
        var records: [Record] = []
        while let (number, first) = lines.next() {
            if first.isEmpty || first == [newline] { continue }
            records.append(Record(line: number, fields: readRecord(startingWith: first, at: number, lines: &lines)))
        }
        return records
    }

    /// The fields of the record whose first line is `first`, reading further lines for quoted line breaks.
    private static func readRecord(
        startingWith first: [UInt8], at start: Int, lines: inout Lines
    ) -> Result<[[UInt8]], TokenFileError> {
        var fields: [[UInt8]] = []
        var line = first
        var lineNumber = start
        var i = 0
        func failure(_ reason: String) -> Result<[[UInt8]], TokenFileError> {
            let place = lineNumber == start ? "" : " (the record runs to line \(lineNumber))"
            return .failure(TokenFileError(line: start, reason: reason + place))
        }
        while true {
            if i == line.count || line[i] != quote {
                // Unquoted: up to the next comma or the line end; no quote anywhere in it.
                let end = line[i...].firstIndex(of: comma) ?? (line.last == newline ? line.count - 1 : line.count)
                let field = Array(line[i..<end])
                if field.contains(quote) { return failure("has a quote inside an unquoted field") }
                fields.append(field)
                guard end < line.count, line[end] == comma else { return .success(fields) }
                i = end + 1
                continue
            }
            // Quoted: up to a quote followed by a comma, the line end or the end of input.
            i += 1
            var field: [UInt8] = []
            while true {
                if let closing = line[i...].firstIndex(of: quote) {
                    field.append(contentsOf: line[i..<closing])
                    i = closing + 1
                    if i < line.count && line[i] == quote {
                        field.append(quote)
                        i += 1
                    } else if i < line.count && line[i] == comma {
                        i += 1
                        fields.append(field)
                        break
                    } else if i == line.count || (line[i] == newline && i + 1 == line.count) {
                        fields.append(field)
                        return .success(fields)
                    } else {
                        return failure("has text after a closing quote")
                    }
                } else if i < line.count {
                    field.append(contentsOf: line[i...])
                    guard let (number, next) = lines.next() else { return failure("has a quote that is never closed") }
                    line = next
                    lineNumber = number
                    i = 0
                } else {
                    return failure("has a quote that is never closed")
                }
            }
        }
    }

    /// The input's lines with their `\n` (`\r\n` made `\n`), numbered from 1, as Go's `readLine` returns them.
    private struct Lines {
        let bytes: [UInt8]
        var position = 0
        var number = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func next() -> (Int, [UInt8])? {
            guard position < bytes.count else { return nil }
            let end = bytes[position...].firstIndex(of: CSVRecords.newline).map { $0 + 1 } ?? bytes.count
            var line = Array(bytes[position..<end])
            position = end
            number += 1
            if line.last != CSVRecords.newline {
                if line.last == CSVRecords.carriageReturn { line.removeLast() }
            } else if line.count >= 2 && line[line.count - 2] == CSVRecords.carriageReturn {
                line.removeLast(2)
                line.append(CSVRecords.newline)
            }
            return (number, line)
        }
    }
}
