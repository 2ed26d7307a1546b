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

/// Appends `text` as a JSON string literal. Printable ASCII without quotes or backslashes (audit lines on every
/// request) is copied as it is; control characters are escaped; other UTF-8 passes through.
func appendJSONString(_ text: String, to buffer: inout [UInt8]) {
    buffer.append(UInt8(ascii: "\""))
    let hex = Array("0123456789abcdef".utf8)
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "\""): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            buffer.append(contentsOf: Array("\\u00".utf8))
            buffer.append(hex[Int(byte >> 4)])
            buffer.append(hex[Int(byte & 0xF)])
        default: buffer.append(byte)
        }
    }
    buffer.append(UInt8(ascii: "\""))
}
