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
    // Fast path (audit lines on every request): printable ASCII without quotes or backslashes needs no escaping.
    if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
        return "\"" + text + "\""
    }
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let hex = Array("0123456789abcdef")
            out += "\\u00" + String(hex[Int(scalar.value >> 4)]) + String(hex[Int(scalar.value & 0xF)])
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
