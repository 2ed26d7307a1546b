import CLibSSL
import Glibc
import Testing
import TestSupport

@testable import HTTPServer

/// The two transports over a `socketpair`: each step says progress, want-read, want-write or closed.
@Suite("Transport")
struct TransportTests {
    /// A non-blocking socket pair: (server end, client end).
    func socketPair(sendBuffer: Int32? = nil) throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &fds) == 0)
        if var size = sendBuffer {
            setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        return (fds[0], fds[1])
    }

    @Test("plain: nothing to read is want-read, bytes are progress, the peer's end of stream is closed")
    func plainRead() throws {
        let (server, client) = try socketPair()
        defer { Glibc.close(client) }
        let transport = PlainTransport(fd: server)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(buffer.withUnsafeMutableBytes { transport.read(into: $0) } == .wantRead)
        _ = send(client, "abc", 3, 0)
        #expect(buffer.withUnsafeMutableBytes { transport.read(into: $0) } == .progress(3))
        shutdown(client, Int32(SHUT_WR))
        #expect(buffer.withUnsafeMutableBytes { transport.read(into: $0) } == .closed)
    }

    @Test("plain: a full socket is want-write; a peer that left is closed (no SIGPIPE)")
    func plainWrite() throws {
        let (server, client) = try socketPair(sendBuffer: 4_096)
        let transport = PlainTransport(fd: server)
        let chunk = [UInt8](repeating: 0x61, count: 4_096)
        var last = TransportResult.progress(0)
        for _ in 0..<1_000 {
            last = chunk.withUnsafeBytes { transport.write($0) }
            guard case .progress = last else { break }
        }
        #expect(last == .wantWrite)
        Glibc.close(client)
        #expect(chunk.withUnsafeBytes { transport.write($0) } == .closed)
    }

    @Test("TLS: the handshake wants to read until the ClientHello comes; garbage instead of it is closed")
    func tlsHandshake() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let context = try pki.serverContext()
        let (server, client) = try socketPair()
        defer { Glibc.close(client) }
        let transport = try #require(TLSTransport(fd: server, context: context))
        #expect(transport.handshake() == .wantRead)
        var buffer = [UInt8](repeating: 0, count: 64)
        #expect(buffer.withUnsafeMutableBytes { transport.read(into: $0) } == .wantRead)
        _ = send(client, "GET / HTTP/1.1\r\n\r\n", 18, Int32(MSG_NOSIGNAL))
        #expect(transport.handshake() == .closed)
        #expect(transport.failureReason != nil, "OpenSSL's reason was not kept for the log")
    }
}
