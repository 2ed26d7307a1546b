import Testing

@testable import HTTPServer

@Suite("HTTPRequestHead")
struct HTTPRequestHeadTests {
    static func head(_ framing: HTTPRequestHead.BodyFraming) -> HTTPRequestHead {
        HTTPRequestHead(
            method: .post, path: "/upload", query: nil, version: .http1_1, headers: HTTPHeaders([("Host", "h")]),
            keepAlive: true, framing: framing)
    }

    /// (framing, the route's limit, what the connection does).
    static let handling: [(HTTPRequestHead.BodyFraming, Int, HTTPRequestHead.BodyHandling)] = [
        (.none, 0, .none),
        (.none, 1_024, .none),
        (.contentLength(5), 0, .unread),
        (.transferEncoding, 0, .unread),
        (.contentLength(1), 1_024, .read(1)),
        (.contentLength(1_024), 1_024, .read(1_024)),
        (.contentLength(1_025), 1_024, .refuse(HTTPRequestHead.contentTooLarge(1_025, limit: 1_024))),
        (.transferEncoding, 1_024, .refuse(HTTPRequestHead.lengthRequired(1_024))),
    ]

    @Test("a body is read only with Content-Length within the route's limit; a route with limit 0 never reads one",
          arguments: handling)
    func bodyHandling(_ framing: HTTPRequestHead.BodyFraming, _ limit: Int, _ expected: HTTPRequestHead.BodyHandling) {
        #expect(Self.head(framing).bodyHandling(accepting: limit) == expected)
    }

    @Test("the refusals say what the limit is and what to send instead")
    func refusalsNameTheLimit() {
        #expect(HTTPRequestHead.contentTooLarge(20_000, limit: 16_384)
            == HTTPRequestError(status: 413, reason: "a body of 20000 bytes is over this path's limit of 16384 bytes"))
        let lengthRequired = HTTPRequestHead.lengthRequired(16_384)
        #expect(lengthRequired.status == 411)
        #expect(lengthRequired.reason.contains("Content-Length (at most 16384 bytes)"))
    }
}
