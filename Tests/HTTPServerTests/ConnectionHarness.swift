import CLibSSL
import Glibc
import Logging
import Synchronization
import Testing
import TestSupport

@testable import HTTPServer

/// One ``HTTPConnection`` on one end of a `socketpair`, driven by hand with a clock the test sets; the test
/// is the client on the other end (plain, or TLS through OpenSSL's client side). No loop, no ports, no sleeps.
final class ConnectionHarness {
    let context: HTTPConnectionContext
    let connection: HTTPConnection
    /// The client's end of the socket pair (non-blocking).
    let clientFD: Int32
    /// The server's end (owned by the connection's transport).
    let serverFD: Int32
    /// The client's TLS session, for TLS harnesses.
    private var clientSSL: OpaquePointer?
    private var clientContext: OpaquePointer?
    private var received: [UInt8] = []
    /// What the connection takes for the server's TLS context now (what `reloadTLS` replaces); at first the
    /// harness's own `tls`.
    let currentTLS: CurrentTLSContext

    /// A connection answered by `responder`, under `limits`, with the given per-wake budgets and scratch size.
    /// With `tls`, the server side uses `tls` and the client trusts anything, presenting `clientCertificate`
    /// (PEM files) when given.
    init(
        responder: any HTTPResponder = EchoResponder(), limits: HTTPServerLimits = HTTPServerLimits(),
        tls: TLSContext? = nil, clientCertificate: TestPKI.Files? = nil, scratchBytes: Int = HTTPConnectionContext.defaultScratchBytes,
        readBudget: Int = HTTPConnectionContext.defaultReadBudget,
        writeBudget: Int = HTTPConnectionContext.defaultWriteBudget, socketBufferBytes: Int32? = nil
    ) throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0 else {
            throw RawTCPError("socketpair")
        }
        serverFD = fds[0]
        clientFD = fds[1]
        if let size = socketBufferBytes {
            var value = size
            // A Unix socket's sender buffer is what limits the bytes in flight.
            setsockopt(serverFD, SOL_SOCKET, SO_SNDBUF, &value, socklen_t(MemoryLayout<Int32>.size))
        }
        var logger = Logger(label: "connection-test")
        logger.logLevel = .critical
        let currentTLS = CurrentTLSContext(tls)
        self.currentTLS = currentTLS
        context = HTTPConnectionContext(
            limits: limits, responder: responder, logger: logger, inbox: try EventLoopInbox(),
            currentTLSContext: { currentTLS.context }, scratchBytes: scratchBytes, readBudget: readBudget, writeBudget: writeBudget)
        let transport: any Transport
        if let tls {
            transport = try #require(TLSTransport(fd: serverFD, context: tls))
            let ctx = try #require(SSL_CTX_new(TLS_client_method()))
            clientContext = ctx
            if let clientCertificate {
                #expect(SSL_CTX_use_certificate_file(ctx, clientCertificate.certificate, SSL_FILETYPE_PEM) == 1)
                #expect(SSL_CTX_use_PrivateKey_file(ctx, clientCertificate.key, SSL_FILETYPE_PEM) == 1)
            }
            let ssl = try #require(SSL_new(ctx))
            SSL_set_fd(ssl, clientFD)
            SSL_set_connect_state(ssl)
            clientSSL = ssl
        } else {
            transport = PlainTransport(fd: serverFD)
        }
        connection = HTTPConnection(
            transport: transport, tls: tls != nil, remoteAddress: "test", now: 0, timeouts: context.timeouts)
    }

    deinit {
        if let clientSSL { SSL_free(clientSSL) }
        if let clientContext { SSL_CTX_free(clientContext) }
        Glibc.close(clientFD)
        connection.close()
    }

    /// Drives the connection once at time `now`.
    @discardableResult
    func drive(at now: Int64 = 1) -> HTTPConnection.DriveResult { connection.drive(context, now: now) }

    /// Runs the TLS handshake to its end, alternating client and server steps.
    func handshake() throws {
        let ssl = try #require(clientSSL)
        for _ in 0..<20 {
            let client = SSL_do_handshake(ssl)
            _ = drive()
            if client == 1 && !connection.machine.isHandshaking { return }
        }
        Issue.record("the TLS handshake did not finish")
    }

    /// Sends `text` from the client in one write; returns how many bytes the socket took (it may be full).
    @discardableResult
    func send(_ text: String) -> Int { send(Array(text.utf8)) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Int {
        if let clientSSL {
            let n = bytes.withUnsafeBytes { SSL_write(clientSSL, $0.baseAddress, Int32($0.count)) }
            return max(0, Int(n))
        }
        let n = bytes.withUnsafeBytes { Glibc.send(clientFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        return max(0, n)
    }

    /// The client stops sending (`shutdown(SHUT_WR)`).
    func halfClose() { shutdown(clientFD, Int32(SHUT_WR)) }

    /// Everything the server sent that the client has not taken yet, as text; `endOfStream` tells whether
    /// the server finished sending.
    func receive() -> (text: String, endOfStream: Bool) {
        var chunk = [UInt8](repeating: 0, count: 65536)
        var endOfStream = false
        while true {
            let n: Int
            if let clientSSL {
                let r = chunk.withUnsafeMutableBytes { SSL_read(clientSSL, $0.baseAddress, Int32($0.count)) }
                if r <= 0 {
                    let code = SSL_get_error(clientSSL, r)
                    endOfStream = code == SSL_ERROR_ZERO_RETURN || code == SSL_ERROR_SYSCALL
                    ERR_clear_error()
                    break
                }
                n = Int(r)
            } else {
                n = recv(clientFD, &chunk, chunk.count, Int32(MSG_DONTWAIT))
                if n == 0 { endOfStream = true }
                if n <= 0 { break }
            }
            received += chunk[0..<n]
        }
        defer { received = [] }
        return (String(decoding: received, as: UTF8.self), endOfStream)
    }

    /// Takes what the server sends and drives the connection, until it has sent everything and nothing waits
    /// in its input or its socket (at most 1,000 rounds); returns all it received, as text.
    func receiveUntilAllAnswered() -> String {
        var text = ""
        for _ in 0..<1_000 {
            text += receive().text
            drive()
            if connection.unsentBytes == 0 && connection.bufferedInputBytes == 0 && unreadByServer == 0 { break }
        }
        return text + receive().text
    }

    /// Bytes waiting in the server's receive queue (sent by the client, not read by the server).
    var unreadByServer: Int {
        var count: Int32 = 0
        _ = ioctl(serverFD, UInt(FIONREAD), &count)
        return Int(count)
    }

    /// Hands deferred answers that arrived in the inbox to the connection (as the loop does); returns how
    /// many it took.
    @discardableResult
    func deliverAnswers(at now: Int64 = 1) -> Int {
        var taken = 0
        for delivery in context.inbox.takeDeliveries() where delivery.connection == serverFD {
            if connection.deliver(delivery.response, promise: delivery.id, context: context, now: now) { taken += 1 }
        }
        return taken
    }
}

/// The server's TLS context as a harnessed connection sees it; a test replaces it as `reloadTLS` would.
final class CurrentTLSContext: Sendable {
    private let current: Mutex<TLSContext?>
    init(_ context: TLSContext?) { current = Mutex(context) }
    var context: TLSContext? {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }
}

/// The status lines in `text` (responses one after the other), in order.
func statusLines(_ text: String) -> [String] {
    text.matches(of: try! Regex(#"HTTP/1\.1 [0-9]{3} [A-Za-z ]*\r\n"#)).map { String(text[$0.range]) }
}

/// A responder that holds every request whose path starts with `/hold` (returns nil, keeps the promise) and
/// answers the others like ``EchoResponder``; counts the requests it saw.
final class HoldingResponder: HTTPResponder {
    private let held = Mutex<[HTTPResponsePromise]>([])
    let requests = Atomic<Int>(0)
    let bodyBytes: Int

    /// Answers with a `bodyBytes` body (0: the echo text).
    init(bodyBytes: Int = 0) { self.bodyBytes = bodyBytes }

    func respond(to request: HTTPRequest) -> HTTPResponse {
        guard bodyBytes > 0 else { return EchoResponder().respond(to: request) }
        return HTTPResponse(status: 200, body: [UInt8](repeating: 0x61, count: bodyBytes))
    }

    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> HTTPResponse? {
        requests.wrappingAdd(1, ordering: .relaxed)
        if request.path.hasPrefix("/hold") {
            held.withLock { $0.append(promise) }
            return nil
        }
        return respond(to: request)
    }

    /// The promises held so far, oldest first.
    var promises: [HTTPResponsePromise] { held.withLock { $0 } }
}

extension TestPKI {
    /// A server TLS context with a fresh CA and a leaf issued by it, as `HTTPServer` builds one.
    /// With `clientCAFile`, client certificates are verified against it.
    func serverContext(clientCAFile: String? = nil) throws -> TLSContext {
        let ca = try makeCA("ca")
        let leaf = try issue("server", commonName: "server", ca: ca)
        return try TLSContext(
            TLSConfiguration(certificateChainFile: leaf.certificate, privateKeyFile: leaf.key, clientCAFile: clientCAFile),
            ticketKeys: SessionTicketKeys(rotation: .seconds(3600), lifetime: .seconds(7200)))
    }
}
