import Glibc
import Testing
import TestSupport

@testable import HTTPServer

/// One connection driven by hand over a `socketpair`: its transitions, pipelining, backpressure, the head
/// limit, half-close, deferred answers, draining, timeouts (with the test's clock) and its per-wake budgets.
@Suite("HTTPConnection")
struct HTTPConnectionTests {
    @Test("a request is answered and the connection waits, idle, for the next (keep-alive)")
    func answersAndKeepsAlive() throws {
        let harness = try ConnectionHarness()
        #expect(harness.connection.machine.state == .readingHead(deadline: harness.context.timeouts.header))
        harness.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(harness.drive(at: 5) == .wait)
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.text.contains("path=/a "))
        #expect(!answer.endOfStream)
        #expect(harness.connection.machine.state == .idle(deadline: 5 + harness.context.timeouts.idle))
    }

    @Test("pipelined requests in one write are answered in order, a HEAD among them without body")
    func pipelining() throws {
        let harness = try ConnectionHarness()
        harness.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive()
        let text = harness.receive().text
        #expect(statusLines(text).count == 3)
        let first = try #require(text.range(of: "path=/1 "))
        let third = try #require(text.range(of: "path=/3 "))
        #expect(first.lowerBound < third.lowerBound)
        #expect(!text.contains("path=/2 "))
    }

    @Test("backpressure: while maxUnsentOutputBytes wait unsent, no request is parsed and the socket is not read")
    func backpressure() throws {
        let responder = HoldingResponder(bodyBytes: 4_000)
        let limits = HTTPServerLimits(maxUnsentOutputBytes: 16 * 1024)
        let harness = try ConnectionHarness(responder: responder, limits: limits, socketBufferBytes: 4_096)
        let request = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
        let batch = String(repeating: request, count: 100)
        #expect(harness.send(batch) == batch.utf8.count)
        harness.drive()
        harness.drive()  // the kernel took what it could: now output waits at the limit
        let asked = responder.requests.load(ordering: .relaxed)
        #expect(asked < 100, "every request was answered although the client reads nothing")
        #expect(harness.connection.unsentBytes >= limits.maxUnsentOutputBytes)
        #expect(harness.connection.unsentBytes < limits.maxUnsentOutputBytes + 4_100, "more than one response over the limit")
        // More requests arrive; driving (as epoll would on any event) parses nothing and reads nothing.
        let more = String(repeating: request, count: 10)
        #expect(harness.send(more) == more.utf8.count)
        #expect(harness.drive() == .wait)
        #expect(responder.requests.load(ordering: .relaxed) == asked)
        #expect(harness.unreadByServer == more.utf8.count, "the server read its socket while output was full")
        // The client reads: everything is answered, in order, and nothing is lost.
        let text = harness.receiveUntilAllAnswered()
        #expect(statusLines(text).count == 110)
        #expect(responder.requests.load(ordering: .relaxed) == 110)
    }

    @Test("a client that takes a little now and then: the output holds its limit plus one response, not all it sent")
    func aTricklingReaderDoesNotGrowTheOutput() throws {
        let responder = HoldingResponder(bodyBytes: 4_000)
        let limits = HTTPServerLimits(maxUnsentOutputBytes: 16 * 1024)
        let harness = try ConnectionHarness(responder: responder, limits: limits, socketBufferBytes: 4_096)
        let request = "GET /x HTTP/1.1\r\nHost: h\r\n\r\n"
        let requests = 200
        var sent = 0
        var received = 0
        var mostHeld = 0
        var chunk = [UInt8](repeating: 0, count: 1_000)
        for _ in 0..<20_000 where responder.requests.load(ordering: .relaxed) < requests {
            if sent < requests, harness.send(request) > 0 { sent += 1 }
            harness.drive()
            mostHeld = max(mostHeld, harness.connection.heldOutputBytes)
            received += max(0, recv(harness.clientFD, &chunk, chunk.count, Int32(MSG_DONTWAIT)))
        }
        #expect(mostHeld < limits.maxUnsentOutputBytes + 4_200, "one 4,000-byte response over the limit at most")
        #expect(responder.requests.load(ordering: .relaxed) == requests)
        #expect(received > 10 * limits.maxUnsentOutputBytes, "the client took too little to test anything")
    }

    @Test("1 MiB of CRLF before a request: 431 once maxHeaderBytes are passed; the input never holds more")
    func leadingEmptyLinesHitTheHeadLimit() throws {
        let limits = HTTPServerLimits(maxHeaderBytes: 1_024)
        let harness = try ConnectionHarness(limits: limits, scratchBytes: 4_096)
        let chunk = [UInt8](String(repeating: "\r\n", count: 2_048).utf8)
        var answer = ""
        var sent = 0
        while sent < 1 << 20 && answer.isEmpty {
            sent += harness.send(chunk)
            harness.drive()
            #expect(harness.connection.bufferedInputBytes <= limits.maxHeaderBytes + 1)
            answer += harness.receive().text
        }
        #expect(answer.hasPrefix("HTTP/1.1 431 "), "\(answer)")
        #expect(answer.contains("Connection: close"))
        #expect(sent < 64 * 1024, "the server read \(sent) bytes before refusing")
    }

    @Test("4,000 header lines within maxHeaderBytes: 431 naming the line limit, the responder is not asked, close")
    func tooManyHeaderLines() throws {
        let responder = HoldingResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send("GET / HTTP/1.1\r\nHost: h\r\n" + String(repeating: "a:\r\n", count: 4_000) + "\r\n")
        harness.drive()
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 431 "), "\(answer.text)")
        #expect(answer.text.contains("more than 100 header lines"))
        #expect(answer.endOfStream)
        #expect(responder.requests.load(ordering: .relaxed) == 0)
    }

    @Test("a client that half-closes after its request still gets the answer, then the server ends too")
    func halfClose() throws {
        let harness = try ConnectionHarness()
        harness.send("GET /last HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.halfClose()
        #expect(harness.drive() == .close)
        let answer = harness.receive()
        #expect(answer.text.contains("path=/last "))
    }

    @Test("Connection: close: the answer, then FIN, then what the client still sends is drained until it ends")
    func drainsAfterClose() throws {
        let harness = try ConnectionHarness()
        harness.send("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(harness.drive(at: 10) == .wait)
        let answer = harness.receive()
        #expect(statusLines(answer.text).count == 1)
        #expect(answer.text.contains("Connection: close"))
        #expect(answer.endOfStream, "no FIN after the last response")
        #expect(harness.connection.machine.state == .draining(deadline: 10 + harness.context.timeouts.drain))
        harness.send("more pipelined bytes the server will never answer")
        #expect(harness.drive() == .wait)
        #expect(harness.unreadByServer == 0)
        harness.halfClose()
        #expect(harness.drive() == .close)
    }

    /// (what times out, limits, what the client sends, when the server drives, when the deadline falls), in ns.
    static let deadlines: [(String, HTTPServerLimits, String, Int64, Int64)] = [
        ("drain: a client that never ends its stream after Connection: close",
         HTTPServerLimits(drainTimeout: .milliseconds(5)), "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
         0, 5_000_000),
        ("header: a head not finished in time", HTTPServerLimits(headerTimeout: .seconds(1)),
         "GET /slow HTTP/1.1\r\nHost:", 500_000_000, 1_000_000_000),
        ("idle: a kept-alive connection without a next request", HTTPServerLimits(idleTimeout: .seconds(3)),
         "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", 1_000, 3_000_001_000),
    ]

    @Test("timeouts on the test clock: the connection closes exactly at its deadline", arguments: deadlines)
    func deadline(_ what: String, _ limits: HTTPServerLimits, _ request: String, _ drivenAt: Int64, _ deadline: Int64) throws {
        let harness = try ConnectionHarness(limits: limits)
        harness.send(request)
        harness.drive(at: drivenAt)
        #expect(harness.connection.checkDeadline(harness.context, now: deadline - 1) == .none, "\(what)")
        #expect(harness.connection.checkDeadline(harness.context, now: deadline) == .close, "\(what)")
    }

    // MARK: deferred answers

    @Test("a deferred answer: nothing more is parsed meanwhile; once it arrives both answers go out in order")
    func deferredAnswer() throws {
        let responder = HoldingResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send("GET /hold/1 HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(harness.drive() == .wait)
        #expect(harness.connection.machine.awaited != nil)
        #expect(responder.requests.load(ordering: .relaxed) == 1)
        #expect(harness.receive().text.isEmpty)
        let promise = try #require(responder.promises.first)
        #expect(!promise.isCancelled)
        promise.succeed(HTTPResponse(status: 200, body: Array("held answer\n".utf8)))
        #expect(harness.deliverAnswers() == 1)
        harness.drive()
        let text = harness.receive().text
        let held = try #require(text.range(of: "held answer"))
        let next = try #require(text.range(of: "path=/next "))
        #expect(held.lowerBound < next.lowerBound)
        #expect(responder.requests.load(ordering: .relaxed) == 2)
    }

    @Test("a deferred answer the client left before: the promise is cancelled and its answer dropped")
    func clientLeavesBeforeAnswer() throws {
        let responder = HoldingResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send("GET /hold/1 HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive()
        let promise = try #require(responder.promises.first)
        // The loop hears from epoll that the peer is gone (a read would not happen while awaiting).
        #expect(harness.connection.hangUpReported(peerGone: true) == .close)
        harness.connection.close()
        #expect(promise.isCancelled)
        promise.succeed(HTTPResponse(status: 200))
        #expect(harness.deliverAnswers() == 0)
    }

    @Test("a client that half-closes while its answer is deferred still gets it; then the connection closes")
    func halfCloseWhileDeferred() throws {
        let responder = HoldingResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send("GET /hold/1 HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.halfClose()
        // epoll says EPOLLRDHUP (no EPOLLHUP): the loop drives on.
        #expect(harness.connection.hangUpReported(peerGone: false) == .none)
        #expect(harness.drive() == .wait)
        let promise = try #require(responder.promises.first)
        #expect(!promise.isCancelled)
        promise.succeed(HTTPResponse(status: 200, body: Array("held answer\n".utf8)))
        #expect(harness.deliverAnswers() == 1)
        #expect(harness.drive() == .close)
        harness.connection.close()
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 200 OK\r\n") && answer.text.hasSuffix("held answer\n"), "\(answer.text)")
        #expect(answer.endOfStream)
    }

    @Test("a client gone (reset) with a request buffered: the responder is not asked, the connection closes")
    func goneClientIsNotAnswered() throws {
        let responder = HoldingResponder()
        let harness = try ConnectionHarness(responder: responder)
        harness.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(harness.connection.hangUpReported(peerGone: true) == .close)
        #expect(harness.connection.machine.state == .closed)
        #expect(harness.drive() == .close)
        #expect(responder.requests.load(ordering: .relaxed) == 0)
    }

    @Test("a deferred answer late on the test clock: 503 with Connection: close, the promise is cancelled")
    func deferredTimeout() throws {
        let responder = HoldingResponder()
        let harness = try ConnectionHarness(responder: responder, limits: HTTPServerLimits(responseTimeout: .seconds(2)))
        harness.send("GET /hold/1 HTTP/1.1\r\nHost: h\r\n\r\nGET /never HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive(at: 0)
        let promise = try #require(responder.promises.first)
        #expect(harness.connection.checkDeadline(harness.context, now: 1_999_999_999) == .none)
        #expect(harness.connection.checkDeadline(harness.context, now: 2_000_000_000) == .respondTimedOut(isHead: false))
        #expect(promise.isCancelled)
        harness.drive(at: 2_000_000_001)
        let answer = harness.receive()
        #expect(answer.text.hasPrefix("HTTP/1.1 503 "))
        #expect(answer.text.contains("Connection: close"))
        #expect(!answer.text.contains("path=/never"))
        #expect(answer.endOfStream)
        promise.succeed(HTTPResponse(status: 200))
        #expect(harness.deliverAnswers() == 0)
    }

    // MARK: fairness

    @Test("fairness: a connection yields after its write budget, and after its read budget")
    func budgets() throws {
        let writer = try ConnectionHarness(responder: HoldingResponder(bodyBytes: 200_000), writeBudget: 16 * 1024)
        writer.send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(writer.drive() == .yield)
        #expect(writer.connection.unsentBytes > 180_000)

        let reader = try ConnectionHarness(scratchBytes: 8, readBudget: 2)
        reader.send("GET /a-long-path-that-takes-several-reads HTTP/1.1\r\n")
        #expect(reader.drive() == .yield)
        #expect(reader.connection.bufferedInputBytes == 16)
        #expect(reader.drive() == .yield)
        #expect(reader.connection.bufferedInputBytes == 32)
    }

    // MARK: TLS over the socket pair

    @Test("TLS: handshake, then pipelined requests answered in order; Connection: close ends with close_notify")
    func tls() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let harness = try ConnectionHarness(tls: try pki.serverContext())
        #expect(harness.connection.machine.isHandshaking)
        #expect(harness.drive() == .wait)  // no ClientHello yet: wants to read
        try harness.handshake()
        harness.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        harness.drive()
        let answer = harness.receive()
        #expect(statusLines(answer.text).count == 2)
        #expect(answer.text.contains("path=/1 ") && answer.text.contains("path=/2 "))
        #expect(answer.endOfStream, "no close_notify/FIN after the last answer")
        if case .draining = harness.connection.machine.state {} else {
            Issue.record("not draining: \(harness.connection.machine.state)")
        }
    }

    @Test("mTLS keep-alive: once the client CA in force changed, the next request carries no client identity and closes")
    func clientIdentityEndsWhenTheClientCAChanges() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let clientCA = try pki.makeCA("client-ca")
        let client = try pki.issue("client", commonName: "helm-client", ca: clientCA, client: true)
        let harness = try ConnectionHarness(
            tls: try pki.serverContext(clientCAFile: clientCA.certificate), clientCertificate: client)
        try harness.handshake()
        harness.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive()
        #expect(harness.receive().text.contains("path=/1 query=- version=HTTP/1.1 cn=helm-client"))

        // A reload that keeps the client CA's bytes (a new serving certificate) keeps the identity.
        harness.currentTLS.context = try pki.serverContext(clientCAFile: clientCA.certificate)
        harness.send("GET /2 HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive()
        let kept = harness.receive()
        #expect(kept.text.contains("cn=helm-client") && !kept.text.contains("Connection: close"), "\(kept.text)")

        // Another client CA: the same connection's next request is anonymous, and the connection closes after it.
        harness.currentTLS.context = try pki.serverContext(clientCAFile: try pki.makeCA("other-client-ca").certificate)
        harness.send("GET /3 HTTP/1.1\r\nHost: h\r\n\r\n")
        harness.drive()
        let after = harness.receive()
        #expect(after.text.contains("path=/3 query=- version=HTTP/1.1 cn=- "), "\(after.text)")
        #expect(after.text.contains("Connection: close"), "\(after.text)")
        #expect(after.endOfStream)
    }

    @Test("TLS: bytes that are not a ClientHello fail the handshake and close")
    func tlsGarbage() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let harness = try ConnectionHarness(tls: try pki.serverContext())
        _ = send(harness.clientFD, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27, Int32(MSG_NOSIGNAL))
        #expect(harness.drive() == .close)
        #expect(harness.connection.machine.state == .closed)
    }
}
