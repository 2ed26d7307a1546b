import Testing

@testable import HTTPServer

/// Request bodies, on the routes that take one (``UploadResponder``: `POST /upload`, at most 1,024 bytes here).
extension HTTPConnectionTests {
    static func upload(_ length: Int, path: String = "/upload", extra: String = "") -> String {
        "POST \(path) HTTP/1.1\r\nHost: h\r\nContent-Length: \(length)\r\n\(extra)\r\n"
    }

    @Test("a body in the same segment as its head is read whole, handed to the responder, and the connection kept alive")
    func bodyWithTheHead() throws {
        let responder = UploadResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send(Self.upload(5) + "hello")
        #expect(harness.drive(at: 5) == .wait)
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer.text)")
        #expect(answer.text.contains("X-Body-Bytes: 5\r\n") && answer.text.hasSuffix("\r\n\r\nhello"), "\(answer.text)")
        #expect(!answer.text.contains("Connection: close") && !answer.endOfStream)
        #expect(responder.bodies == [Array("hello".utf8)])
        #expect(harness.connection.machine.state == .idle(deadline: 5 + harness.context.timeouts.idle))
    }

    @Test("a body arriving a byte at a time: read under the head's deadline, answered once its last byte is here")
    func bodyInPieces() throws {
        let responder = UploadResponder()
        let harness = try ConnectionHarness(responder: responder)
        let body = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        harness.send(Self.upload(body.count))
        harness.drive(at: 10)
        let headDeadline = harness.context.timeouts.header  // from the connection's start, at 0
        #expect(harness.connection.machine.state == .readingBody(length: 300, deadline: headDeadline))
        for (i, byte) in body.enumerated() {
            #expect(harness.receive().text.isEmpty, "answered after \(i) of 300 bytes")
            harness.send([byte])
            harness.drive(at: 10 + Int64(i))
            #expect(harness.connection.bufferedInputBytes <= body.count)
        }
        #expect(harness.receive().text.contains("X-Body-Bytes: 300\r\n"))
        #expect(responder.bodies == [body])
    }

    @Test("a request pipelined behind a body is parsed after exactly Content-Length bytes, and answered in order")
    func bodyThenPipelinedRequest() throws {
        let responder = UploadResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send(Self.upload(5) + "GET /" + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n" + Self.upload(2) + "ab")
        harness.drive()
        let text = harness.receive().text
        #expect(statusLines(text).count == 3, "\(text)")
        let first = try #require(text.range(of: "\r\n\r\nGET /"))
        let next = try #require(text.range(of: "path=/next "))
        #expect(first.lowerBound < next.lowerBound)
        #expect(responder.bodies == [Array("GET /".utf8), [], Array("ab".utf8)])
    }

    @Test("a body of exactly the route's limit is read")
    func bodyAtTheLimit() throws {
        let responder = UploadResponder(limit: 1_024)
        let harness = try ConnectionHarness(responder: responder)
        harness.send(Self.upload(1_024) + String(repeating: "x", count: 1_024))
        harness.drive()
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.text.contains("X-Body-Bytes: 1024\r\n"))
        #expect(responder.bodies.map(\.count) == [1_024])
    }

    @Test("one byte over the route's limit: 413 naming the limit as soon as the head is here, no body read, close")
    func bodyOverTheLimit() throws {
        let responder = UploadResponder(limit: 1_024)
        let harness = try ConnectionHarness(responder: responder)
        harness.send(Self.upload(1_025))  // the client waits: the server must answer without the body
        harness.drive(at: 3)
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 413 Content Too Large\r\n"), "\(answer.text)")
        #expect(answer.text.contains("Content-Type: text/plain"))
        #expect(answer.text.hasSuffix("a body of 1025 bytes is over this path's limit of 1024 bytes\n"), "\(answer.text)")
        #expect(answer.text.contains("Connection: close") && answer.endOfStream)
        #expect(responder.requests.load(ordering: .relaxed) == 0)
        #expect(harness.connection.machine.state == .draining(deadline: 3 + harness.context.timeouts.drain))
    }

    @Test("HTTPServerLimits.maxBodyBytes caps every route, whatever its responder asks")
    func serverWideBodyCap() throws {
        let responder = UploadResponder(limit: 1 << 20)
        let harness = try ConnectionHarness(responder: responder, limits: HTTPServerLimits(maxBodyBytes: 100))
        harness.send(Self.upload(101))
        harness.drive()
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 413 "))
        #expect(answer.text.hasSuffix("limit of 100 bytes\n"), "\(answer.text)")
        #expect(responder.requests.load(ordering: .relaxed) == 0)
    }

    @Test("a chunked body on a route that takes one: 411 Length Required, close, the responder is not asked")
    func chunkedBody() throws {
        let responder = UploadResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send("POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
        harness.drive()
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 411 Length Required\r\n"), "\(answer.text)")
        #expect(answer.text.contains("Content-Length (at most 1024 bytes)"))
        #expect(answer.endOfStream)
        #expect(responder.requests.load(ordering: .relaxed) == 0)
    }

    @Test("a body on a route that takes none: answered without it, then closed; the body is not parsed as a request")
    func bodyOnARouteWithoutBodies() throws {
        let responder = UploadResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send("POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 29\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive()
        let answer = harness.receive()
        #expect(statusLines(answer.text) == ["HTTP/1.1 405 Method Not Allowed\r\n"], "\(answer.text)")
        #expect(answer.text.contains("Connection: close") && answer.endOfStream)
        #expect(!answer.text.contains("smuggled"))
        #expect(responder.bodies == [[]])
    }

    @Test("Content-Length: 0 is no body, on a route that takes one or not: answered, kept alive")
    func emptyBody() throws {
        let responder = UploadResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send(Self.upload(0) + "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n" + "GET /after HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive()
        let answer = harness.receive()
        #expect(statusLines(answer.text).count == 3, "\(answer.text)")
        #expect(answer.text.contains("X-Body-Bytes: 0\r\n") && answer.text.contains("path=/after "))
        #expect(!answer.text.contains("Connection: close") && !answer.endOfStream)
    }

    @Test("a body too slow for the head's deadline closes the connection at it, like a slow head")
    func slowBody() throws {
        let harness = try ConnectionHarness(responder: UploadResponder(), limits: HTTPServerLimits(headerTimeout: .seconds(1)))
        harness.send("POST /upload HTTP/1.1\r\n")
        harness.drive(at: 200_000_000)
        harness.send("Host: h\r\nContent-Length: 10\r\n\r\nabc")
        harness.drive(at: 600_000_000)
        harness.send("defg")  // progress does not move the deadline
        harness.drive(at: 900_000_000)
        #expect(harness.connection.machine.state == .readingBody(length: 10, deadline: 1_000_000_000))
        #expect(harness.connection.checkDeadline(harness.context, now: 999_999_999) == .none)
        #expect(harness.connection.checkDeadline(harness.context, now: 1_000_000_000) == .close)
        #expect(harness.receive().text.isEmpty, "a slow client gets no answer, as for a slow head")
    }

    @Test("Expect: 100-continue: 100 Continue goes out once the head is read, then the answer; not if the body came along")
    func expectContinue() throws {
        let harness = try ConnectionHarness(responder: UploadResponder())
        harness.send(Self.upload(3, extra: "Expect: 100-continue\r\n"))
        harness.drive()
        #expect(harness.receive().text == "HTTP/1.1 100 Continue\r\n\r\n")
        harness.send("abc")
        harness.drive()
        let answer = harness.receive().text
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.hasSuffix("\r\n\r\nabc"), "\(answer)")

        harness.send(Self.upload(3, extra: "Expect: 100-continue\r\n") + "xyz")
        harness.drive()
        let second = harness.receive().text
        #expect(!second.contains("100 Continue") && second.hasSuffix("\r\n\r\nxyz"), "\(second)")

        harness.send(Self.upload(1_025, extra: "Expect: 100-continue\r\n"))
        harness.drive()
        #expect(harness.receive().text.hasPrefix("HTTP/1.1 413 "), "a refusal is the final answer, no 100 before it")
    }

    @Test("reading a body, the server reads no further than its end: input stays under the body, pipelined bytes wait")
    func bodyReadsStopAtItsEnd() throws {
        let responder = UploadResponder(limit: 4_096)
        let limits = HTTPServerLimits(maxHeaderBytes: 1_024)
        let harness = try ConnectionHarness(responder: responder, limits: limits)
        harness.send(Self.upload(4_096, path: "/upload/hold"))
        harness.drive()
        let body = [UInt8](repeating: 0x62, count: 4_096)
        let next = [UInt8](String(repeating: "GET /n HTTP/1.1\r\nHost: h\r\n\r\n", count: 300).utf8)
        #expect(harness.send(body + next) == body.count + next.count)
        harness.drive()
        #expect(responder.bodies == [body])
        #expect(harness.connection.machine.awaited != nil)
        #expect(harness.unreadByServer == next.count, "the server read past the body while its answer was held")
        #expect(harness.connection.bufferedInputBytes == 0)
        #expect(harness.connection.heldInputBytes == 0, "the input array is kept beside the body the responder holds")
    }

    @Test("backpressure holds for bodies: while output waits at its limit, no body is taken and the socket is not read")
    func backpressureWithBodies() throws {
        let responder = UploadResponder(limit: 1_000)
        let limits = HTTPServerLimits(maxUnsentOutputBytes: 8 * 1024)
        let harness = try ConnectionHarness(responder: responder, limits: limits, socketBufferBytes: 4_096)
        let request = Self.upload(1_000) + String(repeating: "z", count: 1_000)
        let batch = String(repeating: request, count: 60)
        #expect(harness.send(batch) == batch.utf8.count)
        harness.drive()
        harness.drive()
        let asked = responder.requests.load(ordering: .relaxed)
        #expect(asked < 60, "every body was taken although the client reads nothing")
        #expect(harness.connection.unsentBytes >= limits.maxUnsentOutputBytes)
        #expect(harness.connection.unsentBytes < limits.maxUnsentOutputBytes + 1_200, "more than one response over the limit")
        #expect(harness.connection.bufferedInputBytes <= limits.maxHeaderBytes + 1 + responder.limit)
        let more = String(repeating: request, count: 5)
        #expect(harness.send(more) == more.utf8.count)
        let unread = harness.unreadByServer
        #expect(unread >= more.utf8.count)
        #expect(harness.drive() == .wait)
        #expect(harness.unreadByServer == unread, "the server read its socket while output was full")
        #expect(responder.requests.load(ordering: .relaxed) == asked)
        let text = harness.receiveUntilAllAnswered()
        #expect(statusLines(text).count == 65)
        #expect(responder.bodies.allSatisfy { $0 == Array(repeating: 0x7A, count: 1_000) })
    }
}
