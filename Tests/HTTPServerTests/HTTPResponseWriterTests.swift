import Testing

@testable import HTTPServer

@Suite("HTTPResponseWriter")
struct HTTPResponseWriterTests {
    let date = Array("Sun, 06 Nov 1994 08:49:37 GMT".utf8)

    private func text(_ response: HTTPResponse, isHead: Bool = false, close: Bool = false, http10: Bool = false) -> String {
        var buffer: [UInt8] = []
        HTTPResponseWriter.append(response, isHead: isHead, close: close, keepAliveHTTP10: http10, date: date, to: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    @Test("status line, responder headers, Date, Content-Length, blank line and body in one buffer")
    func layout() {
        var headers = HTTPHeaders()
        headers.add("Content-Type", "text/plain")
        let response = HTTPResponse(status: 200, headers: headers, body: Array("hi".utf8))
        let expected = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\n\r\nhi"
        #expect(text(response) == expected)
        #expect(text(response.prepared()) == expected)
    }

    @Test("HEAD gets the same headers (with the body's length) and no body")
    func head() {
        let out = text(HTTPResponse(status: 200, body: Array("hello".utf8)), isHead: true)
        #expect(out.hasSuffix("Content-Length: 5\r\n\r\n"))
    }

    @Test("closing adds Connection: close; an HTTP/1.0 keep-alive gets Connection: keep-alive")
    func connectionHeader() {
        #expect(text(HTTPResponse(status: 404), close: true).contains("\r\nConnection: close\r\n"))
        #expect(text(HTTPResponse(status: 200), http10: true).contains("\r\nConnection: keep-alive\r\n"))
    }

    @Test("the responder's own Date, Content-Length and Connection are replaced by the server's")
    func serverOwnedHeaders() {
        let headers = HTTPHeaders([("content-length", "99"), ("Date", "x"), ("Connection", "keep-alive"), ("X-A", "b")])
        let out = text(HTTPResponse(status: 200, headers: headers, body: [1, 2]))
        #expect(!out.contains("Content-Length: 99"))
        #expect(!out.contains("Date: x"))
        #expect(!out.contains("keep-alive"))
        #expect(out.contains("X-A: b\r\n"))
        #expect(out.contains("Content-Length: 2\r\n"))
    }

    @Test("a header value cannot inject a line break into the response")
    func noHeaderInjection() {
        let out = text(HTTPResponse(status: 200, headers: HTTPHeaders([("X-A", "b\r\nSet-Cookie: evil")])))
        #expect(!out.contains("\r\nSet-Cookie"))
    }

    @Test("204 has neither Content-Length nor body; an unknown status keeps its code")
    func specialStatuses() {
        #expect(!text(HTTPResponse(status: 204, body: [1])).contains("Content-Length"))
        #expect(text(HTTPResponse(status: 299)).hasPrefix("HTTP/1.1 299 \r\n"))
    }

    @Test(
        "a prepared response goes out byte for byte as the same response unprepared",
        arguments: [200, 204, 304, 404, 299])
    func preparedIsIdentical(status: Int) {
        let headers = HTTPHeaders([
            ("Content-Type", "application/x-pem-file"), ("ETag", "\"abc\""), ("Content-Length", "7"), ("X-A", "b\nc"),
        ])
        let response = HTTPResponse(status: status, headers: headers, body: Array("-----BEGIN-----\n".utf8))
        let prepared = response.prepared()
        for (isHead, close, http10) in [(false, false, false), (true, false, false), (false, true, false), (false, false, true)] {
            #expect(
                text(prepared, isHead: isHead, close: close, http10: http10)
                    == text(response, isHead: isHead, close: close, http10: http10))
        }
    }

    @Test("changing a prepared response's status, headers or body drops the prepared head")
    func preparedHeadFollowsChanges() {
        let base = HTTPResponse(status: 200, headers: HTTPHeaders([("X-A", "1")]), body: [1, 2, 3]).prepared()
        var status = base
        status.status = 404
        #expect(text(status).hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        var headers = base
        headers.headers.add("X-B", "2")
        #expect(text(headers).contains("X-B: 2\r\n"))
        var body = base
        body.body = [1]
        #expect(text(body).contains("Content-Length: 1\r\n"))
    }

    @Test("header names compare ASCII case-insensitively, and only whole names")
    func headerNames() {
        #expect(HTTPHeaders.namesEqual("Authorization", "authorization"))
        #expect(HTTPHeaders.namesEqual("IF-NONE-MATCH", "If-None-Match"))
        #expect(!HTTPHeaders.namesEqual("Authorization", "Authorizatio"))
        #expect(!HTTPHeaders.namesEqual("Content-Length", "Content_Length"))
        #expect(!HTTPHeaders.namesEqual("a", "\u{41}\u{301}"))
        #expect(HTTPHeaders.namesEqual("", ""))
        let headers = HTTPHeaders([("Host", "h"), ("authorization", "Bearer x")])
        #expect(headers["Authorization"] == "Bearer x")
        #expect(headers["Authorization2"] == nil)
    }

    @Test("HTTPDate formats IMF-fixdate")
    func imfFixdate() {
        #expect(String(decoding: HTTPDate.format(784111777), as: UTF8.self) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
