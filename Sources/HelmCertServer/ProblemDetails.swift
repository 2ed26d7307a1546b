import HTTPServer

/// An RFC 9457 problem (`application/problem+json`): what went wrong and what the caller can do about it.
public struct ProblemDetails: Sendable, Equatable {
    public var status: Int
    public var title: String
    /// A sentence a person can act on.
    public var detail: String

    public init(status: Int, title: String, detail: String) {
        self.status = status
        self.title = title
        self.detail = detail
    }

    /// The JSON body: `{"type":"about:blank","title":…,"status":…,"detail":…}`.
    public var json: [UInt8] {
        var out = "{\"type\":\"about:blank\",\"title\":"
        out += jsonQuoted(title)
        out += ",\"status\":\(status),\"detail\":"
        out += jsonQuoted(detail)
        out += "}\n"
        return Array(out.utf8)
    }

    /// A response carrying this problem, plus any extra headers.
    public func response(headers extra: [(String, String)] = []) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/problem+json")
        headers.add("Cache-Control", "no-store")
        for (name, value) in extra { headers.add(name, value) }
        return HTTPResponse(status: status, headers: headers, body: json)
    }
}

/// `text` as a JSON string literal.
func jsonQuoted(_ text: String) -> String {
    var buffer: [UInt8] = []
    appendJSONString(text, to: &buffer)
    return String(decoding: buffer, as: UTF8.self)
}

/// Appends `text` as a JSON string literal. Runs of bytes that need no escaping (all of an audit line's usual
/// values) are copied in one go; quotes, backslashes and control characters are escaped; other UTF-8 passes
/// through.
func appendJSONString(_ text: String, to buffer: inout [UInt8]) {
    buffer.append(UInt8(ascii: "\""))
    let copied: Void? = text.utf8.withContiguousStorageIfAvailable { appendJSONEscaped($0, to: &buffer) }
    if copied == nil { appendJSONEscaped(Array(text.utf8), to: &buffer) }
    buffer.append(UInt8(ascii: "\""))
}

/// Appends `text` as a JSON string literal of at most `limit` bytes between its quotes: a longer one is cut at a
/// character boundary and ends with `...[cut: N bytes in all]` (N: `text`'s UTF-8 length), so an audit line
/// keeps a bounded length whatever a client sends.
func appendJSONString(_ text: String, to buffer: inout [UInt8], cutAt limit: Int) {
    let utf8 = text.utf8
    // Escaping makes a byte at most 6 (`\u001f`): short values, nearly all of them, need no counting.
    if utf8.count * 6 <= limit { return appendJSONString(text, to: &buffer) }
    var escapedLength = 0
    for byte in utf8 { escapedLength += jsonEscapedLength(byte) }
    if escapedLength <= limit { return appendJSONString(text, to: &buffer) }
    let marker = Array("...[cut: \(utf8.count) bytes in all]".utf8)
    let budget = limit - marker.count
    var used = 0
    var end = utf8.startIndex  // where the kept prefix ends: always at the start of a character
    var index = utf8.startIndex
    while index != utf8.endIndex {
        used += jsonEscapedLength(utf8[index])
        if used > budget { break }
        index = utf8.index(after: index)
        if index == utf8.endIndex || utf8[index] & 0xC0 != 0x80 { end = index }
    }
    appendJSONString(String(text[..<end]), to: &buffer)
    buffer.insert(contentsOf: marker, at: buffer.count - 1)
}

/// How many bytes `byte` takes once escaped by `appendJSONString`.
private func jsonEscapedLength(_ byte: UInt8) -> Int {
    switch byte {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): 2
    case 0..<0x20: 6
    default: 1
    }
}

private func appendJSONEscaped(_ bytes: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
    var start = 0
    for index in 0..<bytes.count {
        let byte = bytes[index]
        guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
        buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
        start = index + 1
        buffer.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer.append(byte)
        case UInt8(ascii: "\n"): buffer.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): buffer.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): buffer.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            buffer.append(contentsOf: "u00".utf8)
            buffer.append(hex.utf8Start[Int(byte >> 4)])
            buffer.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
    buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
}

private func appendJSONEscaped(_ bytes: [UInt8], to buffer: inout [UInt8]) {
    bytes.withUnsafeBufferPointer { appendJSONEscaped($0, to: &buffer) }
}
