import HTTPServer

/// The kinds of problem this service answers with: each is an RFC 9457 `type` URI that stays the same across
/// releases, so a script can branch on it without parsing `detail` (openapi.yaml lists them all, in
/// `components.schemas.Problem.properties.type.enum`).
///
/// The URIs identify; they need not resolve (RFC 9457, section 3.1.1).
public enum ProblemType: String, Sendable, CaseIterable {
    /// 401: no `Authorization` header on a `/v1` path.
    case noToken = "no-token"
    /// 401: an `Authorization` header that is not `Bearer <token>`.
    case malformedAuthorization = "malformed-authorization"
    /// 401: a bearer token neither the token file nor a Kubernetes review knows.
    case invalidToken = "invalid-token"
    /// 403: a Kubernetes token whose account RBAC does not allow `get` on the bundle.
    case forbidden = "forbidden"
    /// 503: the Kubernetes review that would decide about a token could not be made (API down).
    case authenticationUnavailable = "authentication-unavailable"
    /// 503: the request's audit line cannot be written or queued, so nothing is handed out.
    case auditUnavailable = "audit-unavailable"
    /// 503: no valid bundle to serve yet, or any more (bundle endpoints and `/readyz`).
    case bundleNotReady = "bundle-not-ready"
    /// 404: no such path, bundle or file.
    case notFound = "not-found"
    /// 405: a method the path does not take (its `Allow` header lists those it does).
    case methodNotAllowed = "method-not-allowed"
    /// 403: `key.pem` or `bundle.tar.gz` while the shared key is closed (`--no-shared-key`): get a personal
    /// certificate from `personal.tar.gz` instead.
    case sharedKeyDisabled = "shared-key-disabled"
    /// 403: a personal certificate asked for by a caller authenticated with a client certificate (mTLS): it could
    /// renew itself forever.
    case personalCertificateForbidden = "personal-certificate-forbidden"
    /// 503: issuing personal certificates is off, or its CA is not usable now (`/readyz` says why).
    case issuingUnavailable = "issuing-unavailable"
    /// 503: too many certificates are being issued; retry after `Retry-After`.
    case issuingBusy = "issuing-busy"
    /// 400: a certificate signing request that is malformed, too big, or asks for what is not issued (a CA).
    case invalidCertificateRequest = "invalid-certificate-request"
    /// 400: a `?ttl=` that is not a duration, or longer than the server issues.
    case invalidTTL = "invalid-ttl"
    /// 415: a certificate signing request sent with another `Content-Type` than `application/pkcs10`.
    case unsupportedMediaType = "unsupported-media-type"
    /// 400: a ledger `?limit=` that is not a whole number from 1 to the maximum, or repeated.
    case invalidLimit = "invalid-limit"

    /// Where every type URI starts.
    public static let base = "https://helm-cert-server.kyma-project.io/problems/"

    /// The `type` member: `https://helm-cert-server.kyma-project.io/problems/<name>`.
    public var uri: String { Self.base + rawValue }
}

/// An RFC 9457 problem (`application/problem+json`): what went wrong and what the caller can do about it.
public struct ProblemDetails: Sendable, Equatable {
    /// Which kind of problem (the `type` URI).
    public var type: ProblemType
    public var status: Int
    public var title: String
    /// A sentence a person can act on.
    public var detail: String

    public init(_ type: ProblemType, status: Int, title: String, detail: String) {
        self.type = type
        self.status = status
        self.title = title
        self.detail = detail
    }

    /// The JSON body: `{"type":"https://…/problems/<name>","title":…,"status":…,"detail":…}`.
    public var json: [UInt8] {
        var out = "{\"type\":"
        out += jsonQuoted(type.uri)
        out += ",\"title\":"
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
