/// Serialises responses into one contiguous output buffer (head and body together, so TLS sends them
/// as one burst of records from a single `SSL_write`).
enum HTTPResponseWriter {
    /// Appends the bytes of `response` to `buffer`.
    ///
    /// - Parameters:
    ///   - response: what the responder returned; its `Date`, `Content-Length` and `Connection` fields are
    ///     replaced by the server's own.
    ///   - isHead: whether the request was `HEAD` (headers only, `Content-Length` of the full body).
    ///   - close: whether the connection closes after this response (`Connection: close`).
    ///   - keepAliveHTTP10: whether to say `Connection: keep-alive` (an HTTP/1.0 client that asked for it).
    ///   - date: the current IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func append(
        _ response: HTTPResponse, isHead: Bool, close: Bool, keepAliveHTTP10: Bool = false,
        date: [UInt8], to buffer: inout [UInt8]
    ) {
        let sendsBody = !isHead && bodyAllowed(response.status)
        if let head = response.preparedHead {
            buffer.reserveCapacity(
                buffer.count + head.statusAndFields.count + head.contentLength.count + 64
                    + (sendsBody ? response.body.count : 0))
            buffer.append(contentsOf: head.statusAndFields)
        } else {
            buffer.reserveCapacity(
                buffer.count + 128 + response.headers.count * 40 + (sendsBody ? response.body.count : 0))
            appendStatusAndFields(response, to: &buffer)
        }
        buffer.append(contentsOf: dateName)
        buffer.append(contentsOf: date)
        buffer.append(contentsOf: crlf)
        if let head = response.preparedHead {
            buffer.append(contentsOf: head.contentLength)
        } else {
            appendContentLength(response, to: &buffer)
        }
        if close {
            buffer.append(contentsOf: connectionClose)
        } else if keepAliveHTTP10 {
            buffer.append(contentsOf: connectionKeepAlive)
        }
        buffer.append(contentsOf: crlf)
        if sendsBody { buffer.append(contentsOf: response.body) }
    }

    /// What ``append(_:isHead:close:keepAliveHTTP10:date:to:)`` writes for `response` whatever the request,
    /// written by the same two functions it uses for unprepared responses, so both give the same bytes.
    static func prepareHead(_ response: HTTPResponse) -> HTTPResponse.PreparedHead {
        var fields: [UInt8] = []
        fields.reserveCapacity(64 + response.headers.count * 40)
        appendStatusAndFields(response, to: &fields)
        var contentLength: [UInt8] = []
        appendContentLength(response, to: &contentLength)
        return HTTPResponse.PreparedHead(statusAndFields: fields, contentLength: contentLength)
    }

    /// The status line and the responder's fields, except the server-owned `Content-Length`, `Date`,
    /// `Connection` and `Transfer-Encoding`; CR and LF in values become spaces.
    private static func appendStatusAndFields(_ response: HTTPResponse, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: statusLine(response.status))
        for field in response.headers {
            if HTTPHeaders.namesEqual(field.name, "content-length") || HTTPHeaders.namesEqual(field.name, "date")
                || HTTPHeaders.namesEqual(field.name, "connection") || HTTPHeaders.namesEqual(field.name, "transfer-encoding")
            {
                continue
            }
            buffer.append(contentsOf: field.name.utf8)
            buffer.append(contentsOf: colonSpace)
            appendSanitized(field.value, to: &buffer)
            buffer.append(contentsOf: crlf)
        }
    }

    /// `Content-Length: N\r\n` with the body's length, except for 1xx and 204, which have none.
    private static func appendContentLength(_ response: HTTPResponse, to buffer: inout [UInt8]) {
        let status = response.status
        guard status != 204 && !(status >= 100 && status < 200) else { return }
        buffer.append(contentsOf: contentLengthName)
        appendDecimal(response.body.count, to: &buffer)
        buffer.append(contentsOf: crlf)
    }

    /// Whether a response with `status` may carry a body (RFC 9110 §6.4.1).
    @inline(__always) static func bodyAllowed(_ status: Int) -> Bool {
        !(status < 200 || status == 204 || status == 304)
    }

    /// A short `text/plain` refusal: `status` with `reason` as the body; the connection closes after it.
    static func errorResponse(_ error: HTTPRequestError) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain; charset=utf-8")
        return HTTPResponse(status: error.status, headers: headers, body: Array((error.reason + "\n").utf8))
    }

    /// `HTTP/1.1 100 Continue` and the empty line: the interim answer a client that sent `Expect: 100-continue`
    /// waits for before it sends the body.
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// `HTTP/1.1 200 OK\r\n` for known codes (cached), else built.
    static func statusLine(_ status: Int) -> [UInt8] {
        if status >= 100 && status < 600, let cached = statusLines[status] { return cached }
        return Array("HTTP/1.1 \(status) \(reasonPhrase(status))\r\n".utf8)
    }

    private static let statusLines: [Int: [UInt8]] = {
        var lines: [Int: [UInt8]] = [:]
        for code in [200, 201, 204, 206, 301, 302, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 410,
            411, 413, 414, 415, 416, 421, 422, 429, 431, 500, 501, 502, 503, 504, 505]
        {
            lines[code] = Array("HTTP/1.1 \(code) \(reasonPhrase(code))\r\n".utf8)
        }
        return lines
    }()

    /// The RFC 9110 reason phrase of `status`, or an empty string for unknown codes.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }

    /// Header values must not smuggle a line break into the response: CR and LF become spaces.
    @inline(__always) private static func appendSanitized(_ value: String, to buffer: inout [UInt8]) {
        for c in value.utf8 { buffer.append(c == 0x0D || c == 0x0A ? 0x20 : c) }
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]
    private static let colonSpace: [UInt8] = [0x3A, 0x20]
    private static let dateName: [UInt8] = Array("Date: ".utf8)
    private static let contentLengthName: [UInt8] = Array("Content-Length: ".utf8)
    private static let connectionClose: [UInt8] = Array("Connection: close\r\n".utf8)
    private static let connectionKeepAlive: [UInt8] = Array("Connection: keep-alive\r\n".utf8)
}
