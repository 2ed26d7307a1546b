import Testing

@testable import HTTPServer

/// Parses `text` as bytes arriving in one piece.
private func parse(_ text: String, maxHeaderBytes: Int = 16 * 1024) -> HTTPRequestParser.Result {
    Array(text.utf8).withUnsafeBufferPointer { HTTPRequestParser.parse($0, maxHeaderBytes: maxHeaderBytes) }
}

/// The head parsed from `text`, or a recorded failure.
private func head(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (HTTPRequestHead, Int) {
    guard case .complete(let head, let length) = parse(text) else {
        Issue.record("expected a complete head from \(text.debugDescription), got \(parse(text))", sourceLocation: sourceLocation)
        throw ParseFailed()
    }
    return (head, length)
}
private struct ParseFailed: Error {}

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    @Test("maxHeaderLines: a head with exactly that many header lines parses; one more is refused with 431")
    func headerLineLimit() throws {
        let lines = { (count: Int) in "GET / HTTP/1.1\r\nHost: h\r\n" + String(repeating: "a: b\r\n", count: count - 1) + "\r\n" }
        let limit = HTTPServerLimits.defaultMaxHeaderLines
        #expect(limit == 100)
        guard case .complete(let head, _) = parse(lines(limit)) else {
            Issue.record("\(limit) header lines refused")
            return
        }
        #expect(head.headers.fields.count == limit)
        guard case .invalid(let error) = parse(lines(limit + 1)) else {
            Issue.record("\(limit + 1) header lines accepted")
            return
        }
        #expect(error.status == 431)
        #expect(error.reason == "more than 100 header lines")
        let custom = Array(lines(3).utf8).withUnsafeBufferPointer {
            HTTPRequestParser.parse($0, maxHeaderBytes: 1024, maxHeaderLines: 2)
        }
        guard case .invalid(let customError) = custom else {
            Issue.record("3 header lines accepted under a limit of 2")
            return
        }
        #expect(customError.status == 431)
    }

    @Test("a simple GET yields method, path, query, version and headers in order")
    func simpleGet() throws {
        let text = "GET /v1/bundles/helm/ca.pem?download=1&x=y HTTP/1.1\r\nHost: example\r\nAccept: */*\r\nX-Two:  a b  \r\n\r\n"
        let (head, length) = try head(text)
        #expect(length == text.utf8.count)
        #expect(head.method == .get)
        #expect(head.path == "/v1/bundles/helm/ca.pem")
        #expect(head.query == "download=1&x=y")
        #expect(head.version == .http1_1)
        #expect(head.headers.map(\.name) == ["Host", "Accept", "X-Two"])
        #expect(head.headers["x-two"] == "a b")
        #expect(head.headers["HOST"] == "example")
        #expect(head.keepAlive)
        #expect(!head.announcesBody)
        #expect(!head.isHead)
    }

    @Test("a path without a query has a nil query; an empty query is an empty string")
    func queryPresence() throws {
        #expect(try head("GET /a HTTP/1.1\r\nHost: h\r\n\r\n").0.query == nil)
        #expect(try head("GET /a? HTTP/1.1\r\nHost: h\r\n\r\n").0.query == "")
    }

    @Test("absolute-form targets yield the path and query")
    func absoluteForm() throws {
        let (h, _) = try head("GET https://example.com:8443/x/y?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        #expect(h.path == "/x/y")
        #expect(h.query == "q=1")
        #expect(try head("GET http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").0.path == "/")
    }

    @Test("OPTIONS * keeps the asterisk as its path")
    func asteriskForm() throws {
        #expect(try head("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").0.path == "*")
    }

    @Test("HEAD is recognised so the body can be left out")
    func headRequest() throws {
        let (h, _) = try head("HEAD /ca.pem HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(h.isHead)
        #expect(h.method == .head)
    }

    @Test("HTTP/1.0 needs no Host and is not kept alive unless it asks")
    func http10() throws {
        let plain = try head("GET / HTTP/1.0\r\n\r\n").0
        #expect(plain.version == .http1_0)
        #expect(!plain.keepAlive)
        #expect(try head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").0.keepAlive)
    }

    @Test("Connection: close (any case, in a list) ends keep-alive on HTTP/1.1")
    func connectionClose() throws {
        #expect(!(try head("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n").0.keepAlive))
    }

    @Test("pipelined requests are parsed one after the other from the same buffer")
    func pipelined() throws {
        let first = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n"
        let second = "HEAD /two HTTP/1.1\r\nHost: h\r\n\r\n"
        let bytes = Array((first + second + "GET /thr").utf8)
        var offset = 0
        var paths: [String] = []
        while true {
            let result = bytes.withUnsafeBufferPointer {
                HTTPRequestParser.parse(UnsafeBufferPointer(rebasing: $0[offset...]), maxHeaderBytes: 1024)
            }
            guard case .complete(let h, let length) = result else {
                guard case .incomplete = result else { Issue.record("unexpected \(result)"); return }
                break
            }
            paths.append(h.path)
            offset += length
        }
        #expect(paths == ["/one", "/two"])
        #expect(offset == first.utf8.count + second.utf8.count)
    }

    @Test("a head arriving one byte at a time completes exactly at its last byte")
    func byteByByte() throws {
        let bytes = Array("GET /slow HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n".utf8)
        var scanned = 0
        for end in 1...bytes.count {
            let result = bytes.withUnsafeBufferPointer {
                HTTPRequestParser.parse(UnsafeBufferPointer(rebasing: $0[0..<end]), maxHeaderBytes: 1024, scanFrom: scanned)
            }
            switch result {
            case .incomplete(let next):
                #expect(end < bytes.count, "incomplete at the last byte")
                scanned = next
            case .complete(let h, let length):
                #expect(end == bytes.count)
                #expect(length == bytes.count)
                #expect(h.path == "/slow")
                #expect(h.headers["user-agent"] == "t")
            case .invalid(let error):
                Issue.record("refused at byte \(end): \(error)")
            }
        }
    }

    @Test("empty lines before the request line are ignored")
    func leadingEmptyLines() throws {
        let text = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
        let (h, length) = try head(text)
        #expect(h.path == "/")
        #expect(length == text.utf8.count)
    }

    @Test("leading empty lines count against maxHeaderBytes: 1 MiB of CRLF before a request is 431")
    func leadingEmptyLinesCount() throws {
        let request = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n"
        guard case .invalid(let error) = parse(String(repeating: "\r\n", count: 512 * 1024) + request) else {
            Issue.record("1 MiB of empty lines before a head was accepted")
            return
        }
        #expect(error.status == 431)
        // Without the end of a head in sight, the limit applies as soon as it is passed.
        guard case .invalid = parse(String(repeating: "\r\n", count: 51), maxHeaderBytes: 100) else {
            Issue.record("102 bytes of empty lines accepted at limit 100")
            return
        }
        // Empty lines and head together exactly at the limit pass; one byte over does not.
        let padded = String(repeating: "\r\n", count: 10) + request
        guard case .complete(_, let length) = parse(padded, maxHeaderBytes: padded.utf8.count) else {
            Issue.record("a head with empty lines exactly at the limit was refused")
            return
        }
        #expect(length == padded.utf8.count)
        guard case .invalid = parse(padded, maxHeaderBytes: padded.utf8.count - 1) else {
            Issue.record("a head with empty lines one byte over the limit was accepted")
            return
        }
    }

    @Test("a resumed parse never looks at the bytes it already scanned (linear, no rescan from byte 0)")
    func resumedScanSkipsSeenBytes() throws {
        // Bytes the first attempt saw as empty lines are replaced by garbage that would be a 400 if looked at
        // again: the second attempt must take them as already skipped.
        var bytes = Array(String(repeating: "\r\n", count: 100).utf8)
        var scan = HTTPRequestParser.HeadScan()
        let first = bytes.withUnsafeBufferPointer { HTTPRequestParser.parse($0, maxHeaderBytes: 1024, scan: &scan) }
        guard case .incomplete = first else {
            Issue.record("expected incomplete, got \(first)")
            return
        }
        #expect(scan == HTTPRequestParser.HeadScan(emptyLineBytes: 200, scannedUpTo: 200))
        for i in 0..<197 { bytes[i] = 0x01 }
        bytes += Array("GET /after HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let second = bytes.withUnsafeBufferPointer { HTTPRequestParser.parse($0, maxHeaderBytes: 1024, scan: &scan) }
        guard case .complete(let h, let length) = second else {
            Issue.record("the resumed parse looked at bytes before where it stopped: \(second)")
            return
        }
        #expect(h.path == "/after")
        #expect(length == bytes.count)
        #expect(scan == HTTPRequestParser.HeadScan(), "the scan is not reset for the next head")
    }

    @Test("a method other than GET/HEAD with a body is passed on with its framing; the head ends before the body")
    func postWithBody() throws {
        let (h, length) = try head("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        #expect(h.method == .post)
        #expect(h.framing == .contentLength(5))
        #expect(h.announcesBody)
        #expect(length == 48, "the head ends at the empty line; the 5 body bytes are not in it")
        let (chunked, _) = try head("PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
        #expect(chunked.framing == .transferEncoding)
    }

    @Test("Content-Length: 0 is no body, on any method")
    func zeroContentLength() throws {
        #expect(try head("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").0.framing == .none)
        #expect(try head("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 000\r\n\r\n").0.framing == .none)
        #expect(try head("POST / HTTP/1.1\r\nHost: h\r\n\r\n").0.framing == .none)
    }

    @Test("a method the server does not know is passed on as its token, for the responder to answer 405 or 501")
    func extensionMethod() throws {
        let (h, _) = try head("BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(h.method == HTTPMethod(rawValue: "BREW"))
        #expect(h.method.description == "BREW")
        #expect(try head("get / HTTP/1.1\r\nHost: h\r\n\r\n").0.method != .get, "methods are case-sensitive")
    }

    @Test("Expect: 100-continue is honoured on HTTP/1.1 only (RFC 9110 §10.1.1)")
    func expectContinue() throws {
        #expect(try head("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n").0.expectsContinue)
        #expect(!(try head("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n").0.expectsContinue))
        #expect(!(try head("POST / HTTP/1.1\r\nHost: h\r\n\r\n").0.expectsContinue))
    }

    @Test("a head that is not complete yet asks for more bytes")
    func incomplete() {
        guard case .incomplete = parse("GET / HTTP/1.1\r\nHost: h\r\n") else {
            Issue.record("expected incomplete")
            return
        }
    }

    @Test("a head of exactly maxHeaderBytes is accepted; one byte more is 431")
    func headerLimitBoundary() throws {
        let base = "GET / HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n"
        let padding = String(repeating: "a", count: 100 - base.utf8.count)
        let exact = "GET / HTTP/1.1\r\nHost: h\r\nX: \(padding)\r\n\r\n"
        #expect(exact.utf8.count == 100)
        guard case .complete = parse(exact, maxHeaderBytes: 100) else {
            Issue.record("a 100-byte head refused at limit 100")
            return
        }
        guard case .invalid(let error) = parse(exact, maxHeaderBytes: 99) else {
            Issue.record("a 100-byte head accepted at limit 99")
            return
        }
        #expect(error.status == 431)
    }

    @Test("an unfinished head longer than maxHeaderBytes is 431 before its end arrives")
    func unfinishedTooLarge() {
        guard case .invalid(let error) = parse("GET / HTTP/1.1\r\nX: " + String(repeating: "b", count: 200), maxHeaderBytes: 100)
        else {
            Issue.record("expected 431")
            return
        }
        #expect(error.status == 431)
    }

    @Test("empty lines before the request line count toward maxHeaderBytes, so they cannot fill the buffer")
    func leadingEmptyLinesAreBounded() {
        // Found by fuzz/ (http-request-head): endless CRLFs were skipped without counting, so the connection
        // kept buffering them.
        let flood = String(repeating: "\r\n", count: 51)
        guard case .invalid(let error) = parse(flood, maxHeaderBytes: 100) else {
            Issue.record("102 bytes of empty lines accepted at limit 100")
            return
        }
        #expect(error.status == 431)
        guard case .invalid(let withHead) = parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", maxHeaderBytes: 30) else {
            Issue.record("a 31-byte head after two empty lines accepted at limit 30")
            return
        }
        #expect(withHead.status == 431)
        guard case .complete = parse("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", maxHeaderBytes: 29) else {
            Issue.record("a head of exactly the limit, empty line included, refused")
            return
        }
    }

    /// Bad heads and the status each must get.
    static let badInputs: [(String, String, Int)] = [
        ("bad token char in method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("two spaces in request line", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("missing version", "GET /\r\nHost: h\r\n\r\n", 400),
        ("target not starting with /", "GET index.html HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("control char in target", "GET /a\u{7F}b HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("lowercase version", "GET / http/1.1\r\nHost: h\r\n\r\n", 400),
        ("garbage version", "GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400),
        ("HTTP/2.0 version", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
        ("HTTP/0.9 version", "GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505),
        ("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400),
        ("bad char in header name", "GET / HTTP/1.1\r\nHost: h\r\nX(y): z\r\n\r\n", 400),
        ("header without colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
        ("empty header name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", 400),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  b\r\n\r\n", 400),
        ("control char in header value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{01}b\r\n\r\n", 400),
        ("bare LF line ending", "GET / HTTP/1.1\nHost: h\r\n\r\n", 400),
        ("bare CR in a header", "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400),
        ("missing Host on HTTP/1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
        ("two Host headers", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("Content-Length with Transfer-Encoding", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("Transfer-Encoding with Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400),
        ("two equal Content-Length headers", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 400),
        ("two differing Content-Length headers", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
        ("Content-Length list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\n", 400),
        ("negative Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
        ("non-numeric Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1e3\r\n\r\n", 400),
        ("huge Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        ("GET with a Content-Length body", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody", 400),
        ("GET with Transfer-Encoding", "GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("HEAD with a body", "HEAD / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx", 400),
        ("asterisk followed by more", "OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ("authority-form target", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n", 400),
        ("non-http absolute-form", "GET ftp://example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400),
    ]

    @Test("bad input is refused with the right status", arguments: badInputs)
    func badInput(_ name: String, _ text: String, _ status: Int) {
        guard case .invalid(let error) = parse(text) else {
            Issue.record("\(name): accepted \(text.debugDescription)")
            return
        }
        #expect(error.status == status, "\(name): \(error.reason)")
        #expect(!error.reason.isEmpty)
    }
}
