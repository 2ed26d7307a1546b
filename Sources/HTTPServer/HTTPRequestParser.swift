/// Parses HTTP/1.x request heads from bytes: a pure function, no I/O, no state of its own.
///
/// Strict where leniency enables request smuggling or header confusion (RFC 9112): lines end with
/// CRLF, no obs-fold, no whitespace before a header's colon, exactly one `Host` on HTTP/1.1, at most
/// one `Content-Length` and never together with `Transfer-Encoding`, no body on `GET`/`HEAD`.
enum HTTPRequestParser {
    /// The outcome of one parse attempt.
    enum Result {
        /// No complete head yet. Resume scanning at `scannedUpTo` (relative to the bytes passed) next time.
        case incomplete(scannedUpTo: Int)
        /// A head ending `length` bytes after the start of the bytes passed (including the empty line).
        case complete(HTTPRequestHead, length: Int)
        /// A head that must be refused with the given status; the connection closes after it.
        case invalid(HTTPRequestError)
    }

    /// How far one head has been looked at, carried from one parse attempt to the next so that a head arriving
    /// a few bytes at a time costs time linear in its length: no attempt looks at a byte twice (but for the
    /// three before `scannedUpTo`, where a CRLFCRLF may straddle two reads).
    struct HeadScan: Equatable, Sendable {
        /// Bytes of empty lines (CRLF) before the request line found so far; they count against the head limit.
        var emptyLineBytes = 0
        /// Where the search for the end of the head resumes.
        var scannedUpTo = 0
    }

    /// Parses the head at the start of `bytes`, resuming where the previous attempt on the same bytes stopped.
    ///
    /// The head limit counts every byte before the end of the head, empty lines before the request line
    /// included (RFC 9112 §2.2 lets a server ignore them, not accept them without bound).
    ///
    /// - Parameters:
    ///   - bytes: unconsumed input, starting where a request starts.
    ///   - maxHeaderBytes: most bytes a head may take, leading empty lines included; a longer one is refused
    ///     with 431, as soon as more than that many bytes are here without its end.
    ///   - scan: where the previous attempt stopped (start with `HeadScan()`); updated for the next attempt and
    ///     reset once a head is complete.
    ///   - maxHeaderLines: most header lines a head may have (the request line not counted); more: 431.
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, maxHeaderBytes: Int,
        maxHeaderLines: Int = HTTPServerLimits.defaultMaxHeaderLines, scan: inout HeadScan
    ) -> Result {
        // RFC 9112 §2.2: ignore empty lines before the request line. Resumed where the last attempt stopped, so
        // a stream of CRLFs is looked at once, and once the request line began this is a single comparison.
        var start = scan.emptyLineBytes
        while start + 1 < bytes.count, bytes[start] == cr, bytes[start + 1] == lf { start += 2 }
        scan.emptyLineBytes = start
        guard let end = findHeadEnd(bytes, from: max(start, scan.scannedUpTo - 3)) else {
            if bytes.count > maxHeaderBytes { return .invalid(tooLarge) }
            scan.scannedUpTo = bytes.count
            return .incomplete(scannedUpTo: bytes.count)
        }
        scan = HeadScan()
        if end > maxHeaderBytes { return .invalid(tooLarge) }
        do {
            let head = try parseHead(UnsafeBufferPointer(rebasing: bytes[start..<end - 2]), maxHeaderLines: maxHeaderLines)
            return .complete(head, length: end)
        } catch {
            return .invalid(error)
        }
    }

    /// Parses the head at the start of `bytes`: ``parse(_:maxHeaderBytes:scan:)`` for a caller that keeps only
    /// where the search for the end of the head stopped. Leading empty lines are looked at again on each call
    /// (at most `maxHeaderBytes` of them); a connection keeps a ``HeadScan`` instead.
    ///
    /// - Parameters:
    ///   - bytes: unconsumed input, starting where a request starts.
    ///   - maxHeaderBytes: most bytes a head may take, leading empty lines included; a longer one is refused
    ///     with 431.
    ///   - scanFrom: where the previous attempt stopped looking for the end of the head.
    ///   - maxHeaderLines: most header lines a head may have; more: 431.
    static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, maxHeaderBytes: Int,
        maxHeaderLines: Int = HTTPServerLimits.defaultMaxHeaderLines, scanFrom: Int = 0
    ) -> Result {
        var scan = HeadScan(emptyLineBytes: 0, scannedUpTo: scanFrom)
        return parse(bytes, maxHeaderBytes: maxHeaderBytes, maxHeaderLines: maxHeaderLines, scan: &scan)
    }

    /// The index just past the first CRLFCRLF at or after `from`, or nil.
    static func findHeadEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int? {
        var i = max(0, from)
        let n = bytes.count
        while i + 3 < n {
            if bytes[i + 3] != lf { i += bytes[i + 3] == cr ? 1 : 4; continue }
            if bytes[i] == cr, bytes[i + 1] == lf, bytes[i + 2] == cr { return i + 4 }
            i += 1
        }
        return nil
    }

    /// Parses request line and header lines; `head` ends with the CRLF of the last header line.
    private static func parseHead(
        _ head: UnsafeBufferPointer<UInt8>, maxHeaderLines: Int
    ) throws(HTTPRequestError) -> HTTPRequestHead {
        var lineStart = 0
        guard let requestLineEnd = try nextLineEnd(head, from: 0) else { throw bad("empty request") }
        let (method, path, query, version) = try parseRequestLine(UnsafeBufferPointer(rebasing: head[0..<requestLineEnd]))
        lineStart = requestLineEnd + 2

        var headers = HTTPHeaders()
        headers.fields.reserveCapacity(12)
        var hostCount = 0
        var contentLengths = 0
        var contentLength: Int64 = 0
        var hasTransferEncoding = false
        while lineStart < head.count, let lineEnd = try nextLineEnd(head, from: lineStart) {
            guard headers.fields.count < maxHeaderLines else { throw tooManyLines(maxHeaderLines) }
            let (name, value) = try parseHeaderLine(UnsafeBufferPointer(rebasing: head[lineStart..<lineEnd]))
            lineStart = lineEnd + 2
            if HTTPHeaders.namesEqual(name, "host") { hostCount += 1 }
            else if HTTPHeaders.namesEqual(name, "content-length") {
                contentLengths += 1
                guard let n = parseContentLength(value) else { throw bad("invalid Content-Length \"\(value)\"") }
                contentLength = n
            } else if HTTPHeaders.namesEqual(name, "transfer-encoding") {
                hasTransferEncoding = true
            }
            headers.fields.append((name: name, value: value))
        }
        if version == .http1_1 && hostCount == 0 { throw bad("missing Host header (required on HTTP/1.1)") }
        if hostCount > 1 { throw bad("more than one Host header") }
        if contentLengths > 1 { throw bad("more than one Content-Length header") }
        if contentLengths > 0 && hasTransferEncoding {
            throw bad("both Content-Length and Transfer-Encoding: ambiguous message length")
        }
        let framing: HTTPRequestHead.BodyFraming =
            hasTransferEncoding ? .transferEncoding : contentLength > 0 ? .contentLength(Int(contentLength)) : .none
        if framing != .none && (method == .get || method == .head) {
            throw bad("\(method) request with a body")
        }
        let keepAlive: Bool
        if version == .http1_1 {
            keepAlive = !headers.hasToken("close", in: "Connection")
        } else {
            keepAlive = headers.hasToken("keep-alive", in: "Connection") && !headers.hasToken("close", in: "Connection")
        }
        return HTTPRequestHead(
            method: method, path: path, query: query, version: version, headers: headers,
            keepAlive: keepAlive, framing: framing)
    }

    /// The index of the CR ending the line that starts at `from`, or nil at the end; throws on a bare CR or LF.
    private static func nextLineEnd(_ head: UnsafeBufferPointer<UInt8>, from: Int) throws(HTTPRequestError) -> Int? {
        var i = from
        while i < head.count {
            let c = head[i]
            if c == cr {
                guard i + 1 < head.count, head[i + 1] == lf else { throw bad("bare CR in request head") }
                return i
            }
            if c == lf { throw bad("bare LF in request head: lines must end with CRLF") }
            i += 1
        }
        return nil
    }

    private static func parseRequestLine(
        _ line: UnsafeBufferPointer<UInt8>
    ) throws(HTTPRequestError) -> (HTTPMethod, String, String?, HTTPVersion) {
        guard let firstSpace = line.firstIndex(of: space) else { throw bad("malformed request line") }
        let methodBytes = UnsafeBufferPointer(rebasing: line[..<firstSpace])
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(isTokenChar) else { throw bad("invalid method") }
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: space) else { throw bad("malformed request line") }
        let target = UnsafeBufferPointer(rebasing: line[(firstSpace + 1)..<secondSpace])
        let versionBytes = UnsafeBufferPointer(rebasing: line[(secondSpace + 1)...])
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw bad("invalid request target")
        }
        let version = try parseVersion(versionBytes)
        let method = HTTPMethod(rawValue: String(decoding: methodBytes, as: UTF8.self))
        let (path, query) = try splitTarget(target)
        return (method, path, query, version)
    }

    private static func parseVersion(_ bytes: UnsafeBufferPointer<UInt8>) throws(HTTPRequestError) -> HTTPVersion {
        // HTTP-version = "HTTP" "/" DIGIT "." DIGIT
        guard bytes.count == 8, bytes[0] == 0x48, bytes[1] == 0x54, bytes[2] == 0x54, bytes[3] == 0x50,
            bytes[4] == 0x2F, isDigit(bytes[5]), bytes[6] == 0x2E, isDigit(bytes[7])
        else { throw bad("malformed HTTP version") }
        guard bytes[5] == 0x31, bytes[7] == 0x31 || bytes[7] == 0x30 else {
            throw HTTPRequestError(status: 505, reason: "HTTP version not supported: use HTTP/1.1")
        }
        return bytes[7] == 0x31 ? .http1_1 : .http1_0
    }

    /// Splits origin-form (`/p?q`), asterisk-form (`*`) or absolute-form (`http://h/p?q`) targets;
    /// authority-form (`CONNECT host:port`) is refused.
    private static func splitTarget(_ target: UnsafeBufferPointer<UInt8>) throws(HTTPRequestError) -> (String, String?) {
        var pathStart = 0
        if target[0] == 0x2A {  // "*"
            guard target.count == 1 else { throw bad("invalid request target") }
            return ("*", nil)
        }
        if target[0] != slash {
            // absolute-form: scheme "://" authority path-abempty [ "?" query ]
            let text = String(decoding: target, as: UTF8.self)
            let lower = text.lowercased()
            let scheme: Int
            if lower.hasPrefix("http://") { scheme = 7 } else if lower.hasPrefix("https://") { scheme = 8 }
            else { throw bad("invalid request target: expected a path starting with /") }
            pathStart = target[scheme...].firstIndex(where: { $0 == slash || $0 == question }) ?? target.count
            if pathStart == target.count { return ("/", nil) }
            if target[pathStart] == question {
                return ("/", String(decoding: UnsafeBufferPointer(rebasing: target[(pathStart + 1)...]), as: UTF8.self))
            }
        }
        let rest = target[pathStart...]
        if let q = rest.firstIndex(of: question) {
            return (
                String(decoding: UnsafeBufferPointer(rebasing: target[pathStart..<q]), as: UTF8.self),
                String(decoding: UnsafeBufferPointer(rebasing: target[(q + 1)...]), as: UTF8.self)
            )
        }
        return (String(decoding: UnsafeBufferPointer(rebasing: rest), as: UTF8.self), nil)
    }

    private static func parseHeaderLine(
        _ line: UnsafeBufferPointer<UInt8>
    ) throws(HTTPRequestError) -> (String, String) {
        guard let first = line.first else { throw bad("empty header line") }
        if first == space || first == tab { throw bad("obsolete line folding in header") }
        guard let colon = line.firstIndex(of: colonByte) else { throw bad("header line without colon") }
        let name = UnsafeBufferPointer(rebasing: line[..<colon])
        guard !name.isEmpty else { throw bad("empty header name") }
        guard name.allSatisfy(isTokenChar) else {
            if name.last == space || name.last == tab { throw bad("whitespace before colon in header") }
            throw bad("invalid character in header name")
        }
        var valueStart = colon + 1
        var valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == space || line[valueStart] == tab { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == space || line[valueEnd - 1] == tab { valueEnd -= 1 }
        let value = UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd])
        for c in value where !(c == tab || (c >= 0x20 && c != 0x7F)) {
            throw bad("control character in header value")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// `1*DIGIT`, at most 18 digits so it fits; nil otherwise (no signs, spaces or lists).
    private static func parseContentLength(_ value: String) -> Int64? {
        let utf8 = value.utf8
        guard !utf8.isEmpty, utf8.count <= 18 else { return nil }
        var n: Int64 = 0
        for c in utf8 {
            guard isDigit(c) else { return nil }
            n = n * 10 + Int64(c - 0x30)
        }
        return n
    }

    private static func bad(_ reason: String) -> HTTPRequestError { HTTPRequestError(status: 400, reason: reason) }

    static func tooManyLines(_ limit: Int) -> HTTPRequestError {
        HTTPRequestError(status: 431, reason: "more than \(limit) header lines")
    }

    static let tooLarge = HTTPRequestError(
        status: 431, reason: "request line and headers exceed the server's limit")

    /// RFC 9110 tchar: "!#$%&'*+-.^_`|~" / DIGIT / ALPHA.
    @inline(__always) static func isTokenChar(_ c: UInt8) -> Bool {
        tokenTable[Int(c)]
    }
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    private static let tokenTable: [Bool] = (0..<256).map { i in
        let c = UInt8(i)
        if c >= 0x30 && c <= 0x39 { return true }
        if (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) { return true }
        return Array("!#$%&'*+-.^_`|~".utf8).contains(c)
    }
}

private let cr: UInt8 = 0x0D
private let lf: UInt8 = 0x0A
private let space: UInt8 = 0x20
private let tab: UInt8 = 0x09
private let slash: UInt8 = 0x2F
private let question: UInt8 = 0x3F
private let colonByte: UInt8 = 0x3A
