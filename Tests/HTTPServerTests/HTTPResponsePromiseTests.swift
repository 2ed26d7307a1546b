import Foundation
import HTTPServer
import Synchronization
import TestSupport
import Testing

/// End-to-end: responders that answer later from other threads (``HTTPResponsePromise``), against a
/// real TLS server with real `curl` and `openssl s_client`.
@Suite("HTTPServer deferred responses", .serialized)
struct HTTPResponsePromiseTests {
    @Test("a response deferred to another thread arrives intact, for GET and HEAD, on a kept-alive connection")
    func deferredGetAndHead() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(responder: responder)
        defer { fixture.stop() }
        let get = try fixture.curl(["-v", "-D", "-", fixture.httpsURL + "/defer/100/a?x=1", fixture.httpsURL + "/defer/50/b"])
        #expect(get.status == 0, "\(get.stderrText)")
        #expect(get.stdoutText.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(get.stdoutText)")
        #expect(get.stdoutText.contains("path=/defer/100/a query=x=1 version=HTTP/1.1 "))
        #expect(get.stdoutText.contains("path=/defer/50/b query=- "))
        #expect(get.stderrText.contains("Re-using existing connection"))
        #expect(!get.stdoutText.lowercased().contains("connection: close"))

        let head = try fixture.curl(["-I", fixture.httpsURL + "/defer/100/c"])
        #expect(head.status == 0, "\(head.stderrText)")
        #expect(head.stdoutText.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(head.stdoutText)")
        let bodyLength = try fixture.curl([fixture.httpsURL + "/defer/100/c"]).stdout.count
        #expect(bodyLength > 0)
        #expect(head.stdoutText.lowercased().contains("content-length: \(bodyLength)\r\n"), "\(head.stdoutText)")
        #expect(!head.stdoutText.contains("path="))
        #expect(responder.deferredCount.load(ordering: .relaxed) == 4)
    }

    @Test("a client that half-closes after a deferred request gets the answer, then the server closes")
    func halfCloseGetsDeferredAnswer() throws {
        let fixture = try TestServer(tls: false, responder: DeferringResponder())
        defer { fixture.stop() }
        let client = try RawTCPConnection(port: fixture.port)
        try client.send("GET /defer/300/a HTTP/1.1\r\nHost: h\r\n\r\n")
        client.halfClose()
        let response = try #require(client.readResponse(), "no answer after a half-close")
        #expect(response.head.hasPrefix("HTTP/1.1 200 OK"), "\(response.head)")
        #expect(response.body.hasPrefix("path=/defer/300/a "), "\(response.body)")
        #expect(client.waitForClose())
    }

    @Test("while 5 requests wait 1 s for their answers, another client is answered at once")
    func othersAreServedWhileWaiting() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(responder: responder)
        defer { fixture.stop() }
        // One curl, five connections at once, bodies into files. Not `runCommand`: it drains pipes on
        // Dispatch's global pool, which two blocked readers exhaust on a 2-core machine, and would delay
        // the quick request's `runCommand` below until the slow ones end.
        let files = (1...5).map { fixture.pki.directory.file("slow-\($0).txt") }
        let slow = Process()
        slow.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        slow.arguments = ["curl", "--silent", "--max-time", "10", "--cacert", fixture.ca.certificate,
            "--parallel", "--parallel-immediate", "--parallel-max", "5"]
            + (1...5).flatMap { [fixture.httpsURL + "/defer/1000/\($0)", "-o", files[$0 - 1]] }
        slow.standardOutput = FileHandle.nullDevice
        slow.standardError = FileHandle.nullDevice
        try slow.run()
        #expect(eventually { responder.deferredCount.load(ordering: .relaxed) == 5 })
        let quick = try fixture.curl(["-w", "\n%{time_total}", fixture.httpsURL + "/now"])
        let stillWaiting = 5 - responder.fulfilledCount.load(ordering: .relaxed)
        #expect(quick.stdoutText.hasPrefix("path=/now "), "\(quick.stderrText)")
        let seconds = try #require(Double(quick.stdoutText.split(separator: "\n").last ?? ""))
        #expect(seconds < 0.5, "the immediate request took \(seconds) s")
        #expect(stillWaiting == 5, "the immediate request was only answered after \(5 - stillWaiting) deferred ones")
        slow.waitUntilExit()
        #expect(slow.terminationStatus == 0)
        for i in 1...5 {
            let body = String(decoding: try fixture.pki.directory.read("slow-\(i).txt"), as: UTF8.self)
            #expect(body.hasPrefix("path=/defer/1000/\(i) "), "\(body)")
        }
    }

    @Test("300 deferred requests over 20 kept-alive connections, answered from 300 threads: none lost")
    func manyDeferred() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(responder: responder)
        defer { fixture.stop() }
        let count = 300
        let urls = (1...count).flatMap { [fixture.httpsURL + "/defer/\($0 % 7)/\($0)", "-o", "/dev/null"] }
        let result = try fixture.curl(["--parallel", "--parallel-max", "20", "-w", "%{http_code} %{num_connects}\n"] + urls)
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.count == count)
        #expect(lines.allSatisfy { $0.hasPrefix("200 ") }, "\(result.stdoutText)")
        #expect(lines.filter { $0 == "200 0" }.count > count / 2, "connections were not kept alive")
        #expect(responder.fulfilledCount.load(ordering: .relaxed) == count)
    }

    @Test("requests pipelined behind a deferred one stay buffered and are answered in order")
    func pipelinedBehindDeferred() throws {
        let fixture = try TestServer(responder: DeferringResponder())
        defer { fixture.stop() }
        let requests = "GET /defer/300/1 HTTP/1.1\r\nHost: h\r\n\r\n" + "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n"
            + "HEAD /defer/100/3 HTTP/1.1\r\nHost: h\r\n\r\n" + "GET /4 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let result = try fixture.sClient(["-quiet"], input: requests, untilServerCloses: true)
        let output = result.stdoutText
        let responses = output.components(separatedBy: "HTTP/1.1 200 OK\r\n").filter { !$0.isEmpty }
        try #require(responses.count == 4 && output.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(output) \(result.stderrText)")
        #expect(responses[0].contains("path=/defer/300/1 "))
        #expect(responses[1].contains("path=/2 "))
        #expect(responses[2].contains("Content-Length: "))
        #expect(!responses[2].contains("path="), "HEAD got a body")
        #expect(responses[3].contains("path=/4 "))
        #expect(responses[3].contains("Connection: close"))
    }

    @Test("header and idle timeouts (200 ms) do not fire while a response is awaited for 700 ms")
    func otherTimeoutsPauseWhileAwaiting() throws {
        let limits = HTTPServerLimits(headerTimeout: .milliseconds(200), idleTimeout: .milliseconds(200))
        let fixture = try TestServer(limits: limits, responder: DeferringResponder())
        defer { fixture.stop() }
        let requests = "GET /defer/700/1 HTTP/1.1\r\nHost: h\r\n\r\n" + "GET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let result = try fixture.sClient(["-quiet"], input: requests, untilServerCloses: true)
        let responses = result.stdoutText.components(separatedBy: "HTTP/1.1 200 OK\r\n").filter { !$0.isEmpty }
        try #require(responses.count == 2, "\(result.stdoutText) \(result.stderrText)")
        #expect(responses[0].contains("path=/defer/700/1 "))
        #expect(responses[1].contains("path=/2 "))
    }

    @Test("plain HTTP: a deferred answer to HTTP/1.0 keep-alive says so and the connection stays; plain 1.0 closes")
    func deferredHTTP10() throws {
        let fixture = try TestServer(tls: false, responder: DeferringResponder())
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port)
        try connection.send("GET /defer/50/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = try #require(connection.readResponse())
        #expect(first.head.contains("\r\nConnection: keep-alive"))
        #expect(first.body.hasPrefix("path=/defer/50/a query=- version=HTTP/1.0 "))
        try connection.send("GET /defer/50/b HTTP/1.0\r\n\r\n")
        let second = try #require(connection.readResponse())
        #expect(second.body.hasPrefix("path=/defer/50/b "))
        #expect(!second.head.contains("keep-alive"))
        #expect(connection.waitForClose())
    }

    @Test("a promise fulfilled on the loop's own thread before respond returns works; a second succeed is ignored")
    func inlineAndRepeatedSucceed() throws {
        let fixture = try TestServer(responder: DeferringResponder())
        defer { fixture.stop() }
        let requests = "GET /inline/1 HTTP/1.1\r\nHost: h\r\n\r\n" + "GET /twice/2 HTTP/1.1\r\nHost: h\r\n\r\n"
            + "GET /defer/200/3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let result = try fixture.sClient(["-quiet"], input: requests, untilServerCloses: true)
        let responses = result.stdoutText.components(separatedBy: "HTTP/1.1 200 OK\r\n").filter { !$0.isEmpty }
        try #require(responses.count == 3, "\(result.stdoutText) \(result.stderrText)")
        #expect(responses[0].contains("path=/inline/1 "))
        #expect(responses[1].contains("path=/twice/2 "))
        #expect(responses[2].contains("path=/defer/200/3 "))
        #expect(responses[2].contains("\r\nConnection: close\r\n"))
        #expect(!result.stdoutText.contains("second answer"))
    }

    @Test("answers put off to the end of the loop's turn are delivered in that turn, in request order, without another thread")
    func answersAtTheEndOfTheTurn() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(responder: responder)
        defer { fixture.stop() }
        let requests = "GET /turn/1 HTTP/1.1\r\nHost: h\r\n\r\n" + "GET /plain/2 HTTP/1.1\r\nHost: h\r\n\r\n"
            + "GET /turn/3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let result = try fixture.sClient(["-quiet"], input: requests, untilServerCloses: true)
        let responses = result.stdoutText.components(separatedBy: "HTTP/1.1 200 OK\r\n").filter { !$0.isEmpty }
        try #require(responses.count == 3, "\(result.stdoutText) \(result.stderrText)")
        #expect(responses[0].contains("path=/turn/1 "))
        #expect(responses[1].contains("path=/plain/2 "))
        #expect(responses[2].contains("path=/turn/3 "))
        #expect(responses[2].contains("\r\nConnection: close\r\n"))
        #expect(responder.turnBatchSizes.withLock { $0 } == [1, 1], "one batch per turn that put answers off")
    }

    @Test("an answer given on the loop's own thread while it delivers others goes out in that turn, not at the next timer",
          arguments: ["/turn/1", "/inline/1"])
    func answerDuringDeliveryDoesNotWaitForTheSweep(first: String) throws {
        // A loop that thinks nothing is pending sleeps until its next sweep (every 250 ms here): twenty pipelined
        // pairs would then take about 2.5 s; answered in their turn, they take milliseconds.
        let fixture = try TestServer(tls: false, responder: DeferringResponder())
        defer { fixture.stop() }
        let start = ContinuousClock.now
        for _ in 0..<20 {
            let connection = try RawTCPConnection(port: fixture.port)
            try connection.send("GET \(first) HTTP/1.1\r\nHost: h\r\n\r\nGET /inline/2 HTTP/1.1\r\nHost: h\r\n\r\n")
            let answers = [connection.readResponse(), connection.readResponse()]
            #expect(answers.map { $0?.body.hasPrefix("path=") } == [true, true])
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed < .seconds(1), "twenty pipelined pairs took \(elapsed): an answer waited for the sweep")
    }

    @Test("many connections' answers put off in one turn share its batch, and each reaches its own client")
    func oneBatchForManyConnections() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(responder: responder)
        defer { fixture.stop() }
        let clients = 20
        let results = Mutex<[Int: String]>([:])
        let threads = (0..<clients).map { index in
            Thread {
                let text = (try? fixture.sClient(
                    ["-quiet"], input: "GET /turn/c\(index) HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                    untilServerCloses: true).stdoutText) ?? ""
                results.withLock { $0[index] = text }
            }
        }
        threads.forEach { $0.start() }
        try eventually(within: .seconds(30)) { results.withLock { $0.count } == clients }
        for index in 0..<clients {
            let text = results.withLock { $0[index] } ?? ""
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.contains("path=/turn/c\(index) "), "\(index): \(text)")
        }
        #expect(responder.turnBatchSizes.withLock { $0.reduce(0, +) } == clients)
    }

    @Test("a responder that misses responseTimeout gets its client a 503 and a close; its late answer is dropped")
    func responseTimeout() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(limits: HTTPServerLimits(responseTimeout: .milliseconds(300)), responder: responder)
        defer { fixture.stop() }
        let start = ContinuousClock.now
        let result = try fixture.sClient(
            ["-quiet"], input: "GET /hold/late HTTP/1.1\r\nHost: h\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n",
            untilServerCloses: true)
        let elapsed = ContinuousClock.now - start
        #expect(result.stdoutText.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(result.stdoutText)")
        #expect(result.stdoutText.contains("\r\nConnection: close\r\n"))
        #expect(result.stdoutText.contains("could not answer in time"))
        #expect(!result.stdoutText.contains("path=/next"), "a request behind the timed-out one was answered")
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(5), "\(elapsed)")
        #expect(responder.succeed("late", body: "too late\n"))
        #expect(try fixture.curl([fixture.httpsURL + "/after"]).stdoutText.hasPrefix("path=/after "))
    }

    @Test("a client that resets while waiting is cleaned up; the answer that comes later reaches nobody else")
    func clientGoneWhileWaiting() throws {
        let responder = DeferringResponder()
        // One loop, so the next connection most likely reuses the closed one's descriptor.
        let fixture = try TestServer(tls: false, responder: responder, eventLoopCount: 1)
        defer { fixture.stop() }
        let gone = try RawTCPConnection(port: fixture.port)
        try gone.send("GET /hold/gone HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(eventually { responder.isHolding("gone") })
        gone.reset()
        #expect(eventually { fixture.server.openConnectionCount == 0 }, "the abandoned connection was kept open")
        let next = try RawTCPConnection(port: fixture.port)
        try next.send("GET /hold/new HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        #expect(eventually { responder.isHolding("new") })
        // Same loop, same queue: the stale answer is handled before the fresh one.
        #expect(responder.succeed("gone", body: "stale answer\n"))
        #expect(responder.succeed("new", body: "fresh answer\n"))
        let response = try #require(next.readResponse())
        #expect(response.head.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response.head)")
        #expect(response.body == "fresh answer\n", "\(response.body)")
        #expect(try fixture.curl([fixture.httpURL + "/after"]).stdoutText.hasPrefix("path=/after "))
    }

    @Test("graceful shutdown waits for a pending promise and sends its answer with Connection: close")
    func shutdownFinishesPendingPromise() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(responder: responder)
        let request = BackgroundTask { try fixture.curl(["-D", "-", fixture.httpsURL + "/defer/300/last"]) }
        #expect(eventually { responder.deferredCount.load(ordering: .relaxed) == 1 })
        let start = ContinuousClock.now
        fixture.server.shutdown(gracePeriod: .seconds(5))
        fixture.server.waitUntilStopped()
        #expect(ContinuousClock.now - start < .seconds(4), "shutdown waited for the whole grace period")
        let result = try request.wait()
        #expect(result.stdoutText.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(result.stdoutText) \(result.stderrText)")
        #expect(result.stdoutText.contains("\r\nConnection: close\r\n"))
        #expect(result.stdoutText.contains("path=/defer/300/last "))
        #expect(fixture.server.openConnectionCount == 0)
        fixture.pki.remove()
    }

    @Test("a promise still pending when the grace period ends: the connection closes, a later answer is dropped")
    func shutdownGraceEndsPendingPromise() throws {
        let responder = DeferringResponder()
        let fixture = try TestServer(responder: responder)
        let request = BackgroundTask {
            try fixture.sClient(["-quiet"], input: "GET /hold/forever HTTP/1.1\r\nHost: h\r\n\r\n", untilServerCloses: true)
        }
        #expect(eventually { responder.isHolding("forever") })
        let start = ContinuousClock.now
        fixture.server.shutdown(gracePeriod: .milliseconds(300))
        fixture.server.waitUntilStopped()
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(3), "\(elapsed)")
        #expect(try request.wait().stdoutText.isEmpty)
        #expect(fixture.server.openConnectionCount == 0)
        #expect(responder.succeed("forever", body: "after the end\n"))  // the loop is gone: dropped, no crash
        fixture.pki.remove()
    }

    @Test("a promise made for responders' tests passes on only the first response")
    func promiseForTests() {
        let received = Mutex<[Int]>([])
        let promise = HTTPResponsePromise { response in received.withLock { $0.append(response.status) } }
        promise.succeed(HTTPResponse(status: 201))
        promise.succeed(HTTPResponse(status: 500))
        #expect(received.withLock { $0 } == [201])
    }
}
