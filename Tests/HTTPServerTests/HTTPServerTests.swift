import Foundation
import Glibc
import HTTPServer
import Logging
import TestSupport
import Testing

/// End-to-end: a real server on 127.0.0.1, real TLS, real `curl` / `openssl s_client` / raw sockets.
@Suite("HTTPServer", .serialized)
struct HTTPServerTests {
    @Test("two requests on one keep-alive TLS connection (curl reuses it), including a 1 MiB body")
    func keepAlive() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let result = try fixture.curl(["-v", fixture.httpsURL + "/one?x=1", fixture.httpsURL + "/big", "-o", "/dev/null", "-o", "-"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stderrText.contains("Re-using existing connection"))
        #expect(result.stdout.count == 1 << 20)
        #expect(result.stdout == EchoResponder.big)
        #expect(result.stderrText.lowercased().contains("< date: "))
    }

    @Test("the responder sees method, path, query and version")
    func requestFields() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let result = try fixture.curl([fixture.httpsURL + "/v1/bundles/helm/ca.pem?a=b"])
        #expect(result.stdoutText.hasPrefix("path=/v1/bundles/helm/ca.pem query=a=b version=HTTP/1.1 cn=- remote=127.0.0.1:"))
    }

    @Test("HEAD gets GET's headers, Content-Length included, and no body")
    func head() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let get = try fixture.curl(["-D", "-", "-o", "/dev/null", fixture.httpsURL + "/big"])
        let head = try fixture.curl(["-I", fixture.httpsURL + "/big"])
        #expect(get.stdoutText.lowercased().contains("content-length: 1048576"))
        #expect(head.stdoutText.lowercased().contains("content-length: 1048576"))
        #expect(head.status == 0, "\(head.stderrText)")
    }

    @Test("other methods reach the responder (405 here); one with a body is answered, then closed")
    func methodNotAllowed() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let delete = try fixture.curl(["-X", "DELETE", "-o", "/dev/null", "-w", "%{http_code}", fixture.httpsURL + "/x"])
        #expect(delete.stdoutText == "405")
        let post = try fixture.curl(["-D", "-", "-o", "/dev/null", "--data", "hello", fixture.httpsURL + "/x"])
        #expect(post.stdoutText.hasPrefix("HTTP/1.1 405 Method Not Allowed"))
        #expect(post.stdoutText.lowercased().contains("connection: close"))
        #expect(post.stdoutText.contains("Allow: GET, HEAD"))
    }

    @Test("curl --data-binary @file over TLS: a route that takes a body gets it byte for byte (with or without 100 Continue)")
    func uploadWithCurl() throws {
        let fixture = try TestServer(responder: UploadResponder(limit: 16 * 1024))
        defer { fixture.stop() }
        let directory = fixture.pki.directory
        let body = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        try directory.write("body.bin", body)
        let upload = try fixture.curl([
            "--fail", "--data-binary", "@" + directory.file("body.bin"), "-H", "Content-Type: application/pkcs10",
            "-o", directory.file("echo.bin"), fixture.httpsURL + "/upload",
        ])
        #expect(upload.status == 0, "\(upload.stderrText)")
        #expect(try directory.read("echo.bin") == body)

        // A client that waits for 100 Continue before sending (curl does by itself only for bodies over 1 MiB).
        let waiting = try fixture.curl([
            "-v", "--fail", "--data-binary", "@" + directory.file("body.bin"), "-H", "Expect: 100-continue",
            "--expect100-timeout", "5", "-o", directory.file("echo-after-continue.bin"), fixture.httpsURL + "/upload",
        ])
        #expect(waiting.status == 0, "\(waiting.stderrText)")
        #expect(waiting.stderrText.contains("< HTTP/1.1 100 Continue"), "\(waiting.stderrText)")
        #expect(try directory.read("echo-after-continue.bin") == body)

        // One byte over the limit: 413 naming it (curl sends its body anyway; the server drains it and closes).
        try directory.write("big.bin", [UInt8](repeating: 0x61, count: 16 * 1024 + 1))
        let tooBig = try fixture.curl([
            "--data-binary", "@" + directory.file("big.bin"), "-w", "%{http_code}", fixture.httpsURL + "/upload",
        ])
        #expect(tooBig.stdoutText == "a body of 16385 bytes is over this path's limit of 16384 bytes\n413", "\(tooBig.stdoutText)")
    }

    @Test("POST with an empty body (curl -d '', Content-Length: 0) keeps the connection alive, on any route")
    func emptyBodyKeepsAlive() throws {
        let fixture = try TestServer(responder: UploadResponder())
        defer { fixture.stop() }
        let result = try fixture.curl([
            "-v", "-d", "", fixture.httpsURL + "/upload", fixture.httpsURL + "/upload", "-o", "/dev/null", "-o", "/dev/null",
        ])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stderrText.contains("> Content-Length: 0"), "\(result.stderrText)")
        #expect(result.stderrText.contains("Re-using existing connection"), "\(result.stderrText)")
        #expect(result.stderrText.components(separatedBy: "< X-Body-Bytes: 0").count == 3, "\(result.stderrText)")
    }

    /// Malformed or hostile heads and the status each gets over a raw socket.
    static let hostile: [(String, String, String)] = [
        ("head over maxHeaderBytes", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n", "431"),
        ("Content-Length with Transfer-Encoding (smuggling)",
         "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"),
        ("two differing Content-Length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "400"),
        ("body on GET", "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", "400"),
        ("space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", "400"),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", "400"),
        ("missing Host", "GET / HTTP/1.1\r\n\r\n", "400"),
        ("HTTP/2.0 request line", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", "505"),
        ("binary garbage", "\u{01}\u{02}\u{03} \u{04}\r\n\r\n", "400"),
    ]

    @Test("hostile input gets its status, then close; the server keeps serving others", arguments: hostile)
    func hostileInput(_ name: String, _ request: String, _ status: String) throws {
        let fixture = try TestServer(tls: false)
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port)
        try connection.send(request)
        let response = try #require(connection.readResponse(), "\(name): no response")
        #expect(response.head.hasPrefix("HTTP/1.1 \(status) "), "\(name): \(response.head)")
        #expect(response.head.contains("Connection: close"))
        #expect(response.head.contains("Content-Type: text/plain"))
        #expect(connection.waitForClose(), "\(name): connection not closed")
        let good = try fixture.curl([fixture.httpURL + "/after"])
        #expect(good.stdoutText.hasPrefix("path=/after "), "\(name): \(good.stderrText)")
    }

    @Test("a smuggling attempt over TLS is refused with 400 as well")
    func smugglingOverTLS() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let result = try fixture.sClient(
            ["-quiet"], input: "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            untilServerCloses: true)
        #expect(result.stdoutText.hasPrefix("HTTP/1.1 400 Bad Request"), "\(result.stdoutText) \(result.stderrText)")
        #expect(try fixture.curl([fixture.httpsURL + "/after"]).stdoutText.hasPrefix("path=/after"))
    }

    /// OpenSSL reads ahead: one read(2) can bring many TLS records, which then wait inside OpenSSL where epoll
    /// cannot see them. 600 requests, each its own record (Nagle packs them into shared segments), some
    /// deferred to another thread, must all be answered in order on the one connection.
    @Test("pipelined requests in separate TLS records, read ahead together, are all answered in order")
    func pipelinedTLSRecords() throws {
        let fixture = try TestServer(responder: DeferringResponder())
        defer { fixture.stop() }
        let client = #"""
            import socket, ssl, sys
            port, cafile, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
            context = ssl.create_default_context(cafile=cafile)
            context.check_hostname = False
            paths = [f"/defer/5/{i}" if i % 100 == 7 else f"/{i}" for i in range(count)]
            with context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10)) as tls:
                for path in paths:
                    tls.sendall(f"GET {path} HTTP/1.1\r\nHost: h\r\n\r\n".encode())  # one record each
                buffer, answered = b"", []
                while len(answered) < count:
                    data = tls.recv(65536)
                    if not data:
                        break
                    buffer += data
                    while (end := buffer.find(b"\r\n\r\n")) >= 0:
                        head = buffer[:end].decode()
                        length = int(next(line.split(":")[1] for line in head.split("\r\n")
                                          if line.lower().startswith("content-length:")))
                        if len(buffer) < end + 4 + length:
                            break
                        answered.append(buffer[end + 4:end + 4 + length].split(b" ")[0].decode())
                        buffer = buffer[end + 4 + length:]
            print(len(answered), "in order" if answered == [f"path={p}" for p in paths] else f"out of order: {answered[:5]}")
            """#
        let result = try runCommand(["timeout", "30", "python3", "-c", client, "\(fixture.port)", fixture.ca.certificate, "600"])
        #expect(result.stdoutText == "600 in order\n", "\(result.stdoutText) \(result.stderrText)")
    }

    @Test("a TLS 1.3 session made before reloadTLS resumes after it: the ticket keys stay")
    func ticketsOutliveReload() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let session = fixture.pki.directory.file("session.pem")
        // Read until the server closes, so the tickets that follow the handshake are in the saved session.
        let first = try fixture.sClient(["-tls1_3", "-sess_out", session], input: closingRequest, untilServerCloses: true)
        #expect(first.stdoutText.contains("New, TLSv1.3"), "\(first.stdoutText)")
        try fixture.server.reloadTLS()
        let again = try fixture.sClient(["-tls1_3", "-sess_in", session], input: closingRequest, untilServerCloses: true)
        #expect(again.stdoutText.contains("Reused, TLSv1.3"), "\(again.stdoutText)")
    }

    @Test("TLS 1.3: every resumption brings a new ticket, and that one resumes too")
    func ticketsRenewedOnResumption() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let directory = fixture.pki.directory
        let first = try fixture.sClient(["-tls1_3", "-sess_out", directory.file("1.pem")], input: closingRequest, untilServerCloses: true)
        #expect(first.stdoutText.contains("New, TLSv1.3"), "\(first.stdoutText)")
        for generation in 1...3 {
            // s_client writes -sess_out only when a new ticket arrives.
            let resumed = try fixture.sClient(
                ["-tls1_3", "-sess_in", directory.file("\(generation).pem"), "-sess_out", directory.file("\(generation + 1).pem")],
                input: closingRequest, untilServerCloses: true)
            #expect(resumed.stdoutText.contains("Reused, TLSv1.3"), "resumption \(generation): \(resumed.stdoutText)")
            #expect(FileManager.default.fileExists(atPath: directory.file("\(generation + 1).pem")), "no new ticket after resumption \(generation)")
        }
    }

    @Test("ticket keys rotate: new tickets get the new key, older ones resume and are renewed, expired ones don't")
    func ticketKeyRotation() throws {
        let lifetime: Int64 = 4
        let fixture = try TestServer(sessionLifetime: .seconds(lifetime), ticketKeyRotation: .seconds(1))
        defer { fixture.stop() }
        let directory = fixture.pki.directory
        let madeA = ContinuousClock.now
        let first = try fixture.sClient(["-tls1_2", "-sess_out", directory.file("a.pem")])
        #expect(first.stdoutText.contains("New, TLSv1.2"), "\(first.stdoutText)")
        let keyA = try ticketKeyName(in: first.stdoutText)

        // The ring rotates at whole seconds of CLOCK_MONOTONIC. Start just after one begins: the next ticket is
        // made with a new key (B), and the resumption below most likely falls within B's second too.
        let secondOfB = waitForNextMonotonicSecond()
        let second = try fixture.sClient(["-tls1_2", "-sess_out", directory.file("b.pem")])
        let madeB = ContinuousClock.now
        #expect(second.stdoutText.contains("New, TLSv1.2"), "\(second.stdoutText)")
        let keyB = try ticketKeyName(in: second.stdoutText)
        #expect(keyA != keyB, "the ticket key did not change after the rotation period")

        let resumed = try fixture.sClient(["-tls1_2", "-sess_in", directory.file("a.pem")])
        #expect(resumed.stdoutText.contains("Reused, TLSv1.2"), "\(resumed.stdoutText)")
        let renewed = try ticketKeyName(in: resumed.stdoutText)
        #expect(renewed != keyA, "the resumed session's ticket was not renewed")
        // A slow machine may have crossed into the next second, where the ring makes a key this test can't name.
        if monotonicSecond() == secondOfB {
            #expect(renewed == keyB, "the resumed session's ticket was not renewed under the current key")
        }
        #expect(ContinuousClock.now < madeA + .seconds(lifetime - 1), "the machine was too slow for this test's timing")

        // Past every bound, with room for whole-second clocks: OpenSSL keeps a session until its start (whole
        // seconds) plus the lifetime, the ring keeps A's key until its successor was made (B) plus the lifetime.
        let wait = max(madeA + .seconds(lifetime + 2), madeB + .seconds(lifetime + 1)) - ContinuousClock.now
        Thread.sleep(forTimeInterval: wait.timeInterval)
        let expired = try fixture.sClient(["-tls1_2", "-sess_in", directory.file("a.pem")])
        #expect(expired.stdoutText.contains("New, TLSv1.2"), "a session older than sessionLifetime resumed: \(expired.stdoutText)")
    }

    @Test("TLS 1.1 is refused; TLS 1.2 negotiates an ECDHE AEAD cipher; TLS 1.3 works")
    func protocolVersions() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let old = try fixture.sClient(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        #expect(old.status != 0)
        let tls12 = try fixture.sClient(["-tls1_2", "-brief"])
        #expect(tls12.status == 0, "\(tls12.stderrText)")
        #expect(tls12.stderrText.contains("Protocol version: TLSv1.2"))
        #expect(tls12.stderrText.contains("Ciphersuite: ECDHE-ECDSA-AES") || tls12.stderrText.contains("Ciphersuite: ECDHE-ECDSA-CHACHA20"))
        let tls13 = try fixture.sClient(["-tls1_3", "-brief"])
        #expect(tls13.stderrText.contains("Protocol version: TLSv1.3"))
        let cbc = try fixture.sClient(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA"])
        #expect(cbc.status != 0, "a CBC cipher was accepted")
    }

    @Test("the server prefers AES-128-GCM in TLS 1.3 and 1.2; a client offering only another AEAD, or ChaCha20 first, gets that")
    func cipherPreference() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        // (s_client arguments, the cipher the server must pick). OpenSSL's client offers AES-256-GCM first.
        let cases: [([String], String)] = [
            (["-tls1_3"], "TLS_AES_128_GCM_SHA256"),
            (["-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384"], "TLS_AES_256_GCM_SHA384"),
            (["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"], "TLS_CHACHA20_POLY1305_SHA256"),
            (["-tls1_2"], "ECDHE-ECDSA-AES128-GCM-SHA256"),
            (["-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384"], "ECDHE-ECDSA-AES256-GCM-SHA384"),
            (["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"], "ECDHE-ECDSA-CHACHA20-POLY1305"),
            // A client that lists ChaCha20 first (no AES instructions, say) gets it, though it offers AES too.
            (["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"], "TLS_CHACHA20_POLY1305_SHA256"),
            (["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256"], "ECDHE-ECDSA-CHACHA20-POLY1305"),
        ]
        for (arguments, expected) in cases {
            let result = try fixture.sClient(arguments + ["-brief"])
            #expect(result.status == 0, "\(arguments): \(result.stderrText)")
            #expect(result.stderrText.contains("Ciphersuite: \(expected)\n"), "\(arguments): \(result.stderrText)")
        }
    }

    @Test("TLS 1.3: a full handshake brings one session ticket, and so does a resumption")
    func oneTicketPerHandshake() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let session = fixture.pki.directory.file("session.pem")
        // Read until the server closes: every ticket the server sends is in the -msg trace by then.
        let full = try fixture.sClient(["-tls1_3", "-msg", "-sess_out", session], input: closingRequest, untilServerCloses: true)
        #expect(full.stdoutText.contains("New, TLSv1.3"), "\(full.stdoutText)")
        #expect(newSessionTickets(in: full.stdoutText) == 1, "\(full.stdoutText)")
        // OpenSSL sends one ticket after a resumption whatever the setting; this half checks none is lost.
        let resumed = try fixture.sClient(["-tls1_3", "-msg", "-sess_in", session], input: closingRequest, untilServerCloses: true)
        #expect(resumed.stdoutText.contains("Reused, TLSv1.3"), "\(resumed.stdoutText)")
        #expect(newSessionTickets(in: resumed.stdoutText) == 1, "\(resumed.stdoutText)")
    }

    @Test("TLS sessions resume (tickets and cache on the shared context)")
    func sessionResumption() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let session = fixture.pki.directory.file("session.pem")
        let first = try fixture.sClient(["-tls1_2", "-sess_out", session])
        #expect(first.stdoutText.contains("New, TLSv1.2"), "\(first.stdoutText)")
        for _ in 0..<3 {
            let again = try fixture.sClient(["-tls1_2", "-sess_in", session])
            #expect(again.stdoutText.contains("Reused, TLSv1.2"), "\(again.stdoutText)")
        }
    }

    @Test("plain HTTP sent to the TLS port fails that handshake only; TLS clients are still served")
    func plainToTLSPort() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port)
        try connection.send("GET / HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(connection.waitForClose())
        #expect(try fixture.curl([fixture.httpsURL + "/after"]).stdoutText.hasPrefix("path=/after"))
        #expect(eventually { fixture.server.openConnectionCount == 0 })
    }

    @Test("a slowloris client is closed after headerTimeout; others are still served")
    func slowloris() throws {
        let limits = HTTPServerLimits(headerTimeout: .milliseconds(300))
        let fixture = try TestServer(tls: false, limits: limits)
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port, readTimeout: 3)
        let start = ContinuousClock.now
        try connection.send("GET / HTTP/1.1\r\n")
        var closed = false
        for byte in "Host: example\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".utf8 {
            usleep(50_000)
            if (try? connection.send([byte])) == nil { closed = true; break }
            if ContinuousClock.now - start > .seconds(1) { break }
        }
        #expect(closed || connection.waitForClose())
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(300))
        #expect(elapsed < .seconds(2))
        #expect(try fixture.curl([fixture.httpURL + "/after"]).stdoutText.hasPrefix("path=/after"))
    }

    @Test("a TCP client that never starts the TLS handshake is closed after handshakeTimeout")
    func handshakeTimeout() throws {
        let fixture = try TestServer(limits: HTTPServerLimits(handshakeTimeout: .milliseconds(300)))
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port, readTimeout: 3)
        let start = ContinuousClock.now
        #expect(connection.waitForClose())
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(250) && elapsed < .seconds(2))
    }

    @Test("an idle keep-alive connection is closed after idleTimeout")
    func idleTimeout() throws {
        let fixture = try TestServer(tls: false, limits: HTTPServerLimits(idleTimeout: .milliseconds(300)))
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port, readTimeout: 3)
        try connection.send("GET /a HTTP/1.1\r\nHost: h\r\n\r\n")
        let response = try #require(connection.readResponse())
        #expect(!response.head.contains("Connection: close"))
        let start = ContinuousClock.now
        #expect(connection.waitForClose())
        #expect(ContinuousClock.now - start >= .milliseconds(250))
        #expect(eventually { fixture.server.openConnectionCount == 0 })
    }

    @Test("pipelined requests in one write are answered in order on one connection")
    func pipelining() throws {
        let fixture = try TestServer(tls: false)
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port)
        try connection.send("GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n")
        let first = try #require(connection.readResponse())
        let second = try #require(connection.readResponse(head: true))
        let third = try #require(connection.readResponse())
        #expect(first.body.hasPrefix("path=/1 "))
        #expect(second.head.hasPrefix("HTTP/1.1 200 OK"))
        #expect(second.body.isEmpty)
        #expect(third.body.hasPrefix("path=/3 "))
    }

    @Test("a flood of pipelined requests (beyond one read budget, with backpressure) is answered in order")
    func pipelinedFlood() throws {
        let fixture = try TestServer(tls: false)
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port)
        let count = 20_000
        var flood: [UInt8] = []
        for i in 0..<count { flood += Array("GET /\(i) HTTP/1.1\r\nHost: h\r\n\r\n".utf8) }
        let payload = flood
        let sender = Thread { try? connection.send(payload) }
        sender.start()
        for i in 0..<count {
            let response = try #require(connection.readResponse(), "response \(i) missing")
            guard response.body.hasPrefix("path=/\(i) ") else {
                Issue.record("response \(i) out of order: \(response.body)")
                return
            }
        }
        #expect(try fixture.curl([fixture.httpURL + "/after"]).stdoutText.hasPrefix("path=/after"))
    }

    @Test("IPv6: the server binds ::1 and reports the peer as [::1]:port")
    func ipv6() throws {
        var logger = Logger(label: "t")
        logger.logLevel = .warning
        let server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "::1", port: 0, eventLoopCount: 1), responder: EchoResponder(),
            logger: logger)
        try server.start()
        defer {
            server.shutdown(gracePeriod: .seconds(1))
            server.waitUntilStopped()
        }
        let result = try runCommand(["curl", "--silent", "--max-time", "10", "http://[::1]:\(server.localPort)/six"])
        #expect(result.stdoutText.contains("path=/six "))
        #expect(result.stdoutText.contains("remote=[::1]:"))
    }

    @Test("Connection: close is honoured: the response says so and the connection ends")
    func connectionClose() throws {
        let fixture = try TestServer(tls: false)
        defer { fixture.stop() }
        let connection = try RawTCPConnection(port: fixture.port)
        try connection.send("GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n")
        let response = try #require(connection.readResponse())
        #expect(response.head.contains("\r\nConnection: close"))
        #expect(connection.waitForClose())
    }

    @Test("HTTP/1.0 is answered then closed, unless it asks for keep-alive")
    func http10() throws {
        let fixture = try TestServer(tls: false)
        defer { fixture.stop() }
        let plain = try RawTCPConnection(port: fixture.port)
        try plain.send("GET /old HTTP/1.0\r\n\r\n")
        let response = try #require(plain.readResponse())
        #expect(response.body.contains("version=HTTP/1.0"))
        #expect(plain.waitForClose())
        let keepAlive = try RawTCPConnection(port: fixture.port)
        try keepAlive.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try #require(keepAlive.readResponse()).head.contains("Connection: keep-alive"))
        try keepAlive.send("GET /b HTTP/1.0\r\n\r\n")
        #expect(try #require(keepAlive.readResponse()).body.hasPrefix("path=/b"))
    }

    @Test("plain HTTP mode serves curl")
    func plainHTTP() throws {
        let fixture = try TestServer(tls: false)
        defer { fixture.stop() }
        let result = try fixture.curl(["-v", fixture.httpURL + "/p", fixture.httpURL + "/q"])
        #expect(result.stdoutText.contains("path=/p ") && result.stdoutText.contains("path=/q "))
        #expect(result.stderrText.contains("Re-using existing connection"))
    }

    @Test("connections beyond maxConnections are closed at once; the ones within stay")
    func connectionCap() throws {
        let fixture = try TestServer(tls: false, limits: HTTPServerLimits(maxConnections: 2))
        defer { fixture.stop() }
        let first = try RawTCPConnection(port: fixture.port)
        let second = try RawTCPConnection(port: fixture.port)
        #expect(eventually { fixture.server.openConnectionCount == 2 })
        let third = try RawTCPConnection(port: fixture.port, readTimeout: 3)
        #expect(third.waitForClose())
        try first.send("GET /still HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try #require(first.readResponse()).body.hasPrefix("path=/still"))
        _ = second
    }

    @Test("connections beyond maxConnectionsPerClient from one address are closed at once; another address is served")
    func perClientCap() throws {
        let fixture = try TestServer(tls: false, limits: HTTPServerLimits(maxConnectionsPerClient: 2))
        defer { fixture.stop() }
        let first = try RawTCPConnection(port: fixture.port, from: "127.0.0.1")
        let second = try RawTCPConnection(port: fixture.port, from: "127.0.0.1")
        #expect(eventually { fixture.server.openConnectionCount == 2 })
        let third = try RawTCPConnection(port: fixture.port, readTimeout: 3, from: "127.0.0.1")
        #expect(third.waitForClose())
        let other = try RawTCPConnection(port: fixture.port, from: "127.0.0.2")
        try other.send("GET /other HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try #require(other.readResponse()).body.hasPrefix("path=/other"))
        // A connection that closes frees its address's slot.
        second.shutdownBoth()
        #expect(eventually { fixture.server.openConnectionCount == 2 })
        let again = try RawTCPConnection(port: fixture.port, from: "127.0.0.1")
        try again.send("GET /again HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(try #require(again.readResponse()).body.hasPrefix("path=/again"))
        _ = first
    }

    @Test("connections beyond maxHandshakingConnections are closed at once; a finished handshake frees its slot")
    func handshakeCap() throws {
        let fixture = try TestServer(limits: HTTPServerLimits(maxHandshakingConnections: 2), eventLoopCount: 1)
        defer { fixture.stop() }
        // Two TCP clients that never send a ClientHello hold both handshake slots (from two addresses: one
        // address gets one slot of two, see perClientHandshakeShare).
        let mute = try RawTCPConnection(port: fixture.port, from: "127.0.0.4")
        let mute2 = try RawTCPConnection(port: fixture.port, from: "127.0.0.5")
        #expect(eventually { fixture.server.openConnectionCount == 2 })
        let third = try RawTCPConnection(port: fixture.port, readTimeout: 3, from: "127.0.0.6")
        #expect(third.waitForClose())
        let refused = try fixture.curl([fixture.httpsURL + "/refused"])
        #expect(refused.status != 0, "a TLS client got through while every handshake slot was taken")
        mute2.shutdownBoth()
        #expect(eventually { fixture.server.openConnectionCount == 1 })
        // One slot: curl's handshake takes it and gives it back; a second request on a new connection works too.
        #expect(try fixture.curl([fixture.httpsURL + "/one"]).stdoutText.hasPrefix("path=/one"))
        #expect(try fixture.curl([fixture.httpsURL + "/two"]).stdoutText.hasPrefix("path=/two"))
        _ = mute
    }

    @Test("one address holds at most 1/8 of the handshake slots: its mute connections cannot lock others out")
    func perClientHandshakeShare() throws {
        let fixture = try TestServer(limits: HTTPServerLimits(maxHandshakingConnections: 16), eventLoopCount: 1)
        defer { fixture.stop() }
        // 127.0.0.2's share is 2: two silent connections take it, a third is closed at once.
        let mutes = try (1...2).map { _ in try RawTCPConnection(port: fixture.port, from: "127.0.0.2") }
        #expect(eventually { fixture.server.openConnectionCount == 2 })
        let third = try RawTCPConnection(port: fixture.port, readTimeout: 3, from: "127.0.0.2")
        #expect(third.waitForClose())
        // Another address still gets a handshake.
        #expect(try fixture.curl([fixture.httpsURL + "/polite"]).stdoutText.hasPrefix("path=/polite"))
        _ = mutes
    }

    @Test("graceful shutdown finishes a request in flight, closes idle connections, stops accepting")
    func gracefulShutdown() throws {
        let fixture = try TestServer(tls: false)
        let idle = try RawTCPConnection(port: fixture.port)
        try idle.send("GET /idle HTTP/1.1\r\nHost: h\r\n\r\n")
        _ = try #require(idle.readResponse())
        let inFlight = try RawTCPConnection(port: fixture.port)
        try inFlight.send("GET /late HTTP/1.1\r\nHost: h\r\n")
        #expect(eventually { fixture.server.openConnectionCount == 2 })
        let port = fixture.port
        fixture.server.shutdown(gracePeriod: .seconds(5))
        #expect(idle.waitForClose())
        try inFlight.send("\r\n")
        let response = try #require(inFlight.readResponse())
        #expect(response.body.hasPrefix("path=/late"))
        #expect(response.head.contains("Connection: close"))
        fixture.server.waitUntilStopped()
        #expect(fixture.server.openConnectionCount == 0)
        #expect(throws: RawTCPError.self) { try RawTCPConnection(port: port) }
        fixture.pki.remove()
    }

    @Test("reloadTLS serves the new certificate to new connections")
    func reloadTLS() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let before = try fixture.sClient(["-brief"])
        #expect(before.stderrText.contains("CN = server-a"), "\(before.stderrText)")
        let renewed = try fixture.pki.issue("renewed", commonName: "server-b", ca: fixture.ca)
        try fixture.pki.directory.write("server.pem", try fixture.pki.directory.read("renewed.pem"))
        try fixture.pki.directory.write("server.key", try fixture.pki.directory.read("renewed.key"))
        _ = renewed
        try fixture.server.reloadTLS()
        let after = try fixture.sClient(["-brief"])
        #expect(after.stderrText.contains("CN = server-b"), "\(after.stderrText)")
    }

    @Test("reloadTLS with a key that does not match keeps the old context and says why")
    func reloadTLSMismatch() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        _ = try fixture.pki.issue("other", commonName: "other", ca: fixture.ca)
        try fixture.pki.directory.write("server.key", try fixture.pki.directory.read("other.key"))
        let error = try #require(throws: HTTPServerError.self) { try fixture.server.reloadTLS() }
        #expect(error.description.contains("server.key"))
        #expect(error.description.contains("does not match"))
        #expect(try fixture.curl([fixture.httpsURL + "/still"]).stdoutText.hasPrefix("path=/still"))
    }

    @Test("a missing certificate file fails at init, naming the file")
    func missingCertificate() throws {
        let tls = TLSConfiguration(certificateChainFile: "/nonexistent/tls.crt", privateKeyFile: "/nonexistent/tls.key")
        let error = try #require(throws: HTTPServerError.self) {
            _ = try HTTPServer(
                configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, tls: tls), responder: EchoResponder(),
                logger: .init(label: "t"))
        }
        #expect(error.description.contains("could not load certificate chain from /nonexistent/tls.crt"))
    }

    @Test("a host that is not an IP address literal fails start(), naming it")
    func badHost() throws {
        let bad = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "not-an-ip", port: 0), responder: EchoResponder(), logger: .init(label: "t"))
        let error = try #require(throws: HTTPServerError.self) { try bad.start() }
        #expect(error.description.contains("not-an-ip"))
    }

    @Test("mTLS: a client certificate signed by clientCAFile yields its subject CN; none yields nil")
    func mutualTLS() throws {
        let fixture = try TestServer(clientCA: true)
        defer { fixture.stop() }
        let client = try fixture.pki.issue("client", commonName: "helm-client", ca: fixture.ca, client: true)
        let with = try fixture.curl(["--cert", client.certificate, "--key", client.key, fixture.httpsURL + "/me"])
        #expect(with.stdoutText.contains("cn=helm-client"), "\(with.stdoutText) \(with.stderrText)")
        let without = try fixture.curl([fixture.httpsURL + "/me"])
        #expect(without.stdoutText.contains("cn=-"), "\(without.stderrText)")
        let stranger = try TestPKI()
        defer { stranger.remove() }
        let otherCA = try stranger.makeCA("other-ca")
        let foreign = try stranger.issue("foreign", commonName: "intruder", ca: otherCA, client: true)
        let refused = try fixture.curl(["--cert", foreign.certificate, "--key", foreign.key, fixture.httpsURL + "/me"])
        #expect(!refused.stdoutText.contains("cn=intruder"))
    }

    @Test("mTLS: the client certificate's certificatePolicies reach the responder, dotted, in order; none: empty")
    func clientCertificatePolicies() throws {
        let fixture = try TestServer(clientCA: true)
        defer { fixture.stop() }
        let marked = try fixture.pki.issue(
            "marked", commonName: "marked", ca: fixture.ca, client: true, policies: ["1.3.6.1.4.1.99999.1", "2.25.42"])
        let with = try fixture.curl(["--cert", marked.certificate, "--key", marked.key, fixture.httpsURL + "/me"])
        #expect(with.stdoutText.contains("cn=marked"), "\(with.stdoutText) \(with.stderrText)")
        #expect(with.stdoutText.hasSuffix("policies=1.3.6.1.4.1.99999.1,2.25.42\n"), "\(with.stdoutText)")
        let plain = try fixture.pki.issue("plain", commonName: "plain", ca: fixture.ca, client: true)
        let without = try fixture.curl(["--cert", plain.certificate, "--key", plain.key, fixture.httpsURL + "/me"])
        #expect(without.stdoutText.contains("cn=plain") && without.stdoutText.hasSuffix("policies=\n"), "\(without.stdoutText)")
    }
}

/// One request that asks the server to close afterwards: `sClient(…, untilServerCloses: true)` then reads every
/// session ticket the server sends before it ends.
private let closingRequest = "GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"

/// CLOCK_MONOTONIC, the clock the session-ticket key ring rotates by (in whole seconds).
private func monotonicNow() -> timespec {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return now
}

/// The whole second of CLOCK_MONOTONIC it is now.
private func monotonicSecond() -> Int { monotonicNow().tv_sec }

/// Sleeps until 20 ms into the next whole second of CLOCK_MONOTONIC, and returns that second.
private func waitForNextMonotonicSecond() -> Int {
    let now = monotonicNow()
    usleep(UInt32((1_000_000_000 - now.tv_nsec) / 1000 + 20_000))
    return now.tv_sec + 1
}

/// How many NewSessionTicket messages the server sent, from `openssl s_client -msg` output.
private func newSessionTickets(in text: String) -> Int {
    text.split(separator: "\n").filter { $0.hasPrefix("<<< TLS 1.3, Handshake") && $0.hasSuffix(", NewSessionTicket") }.count
}

/// The 16-byte key name that starts the session ticket in the session `openssl s_client` prints, in hex.
private func ticketKeyName(in text: String) throws -> String {
    let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
    guard let start = lines.firstIndex(of: "TLS session ticket:"), start + 1 < lines.count,
        lines[start + 1].hasPrefix("0000 - ")
    else { throw TicketDumpError(text: text) }
    let hex = lines[start + 1].dropFirst("0000 - ".count).prefix(16 * 3 + 1)
    return hex.filter { $0.isHexDigit }.lowercased()
}

private struct TicketDumpError: Error, CustomStringConvertible {
    let text: String
    var description: String { "no session ticket in `openssl s_client` output:\n\(text)" }
}
