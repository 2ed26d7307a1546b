import Glibc

/// A blocking TCP client socket to 127.0.0.1 for sending hand-made (often malformed) bytes.
///
/// Unchecked Sendable: one thread may `send` while another reads (the socket allows it); the read
/// buffer is only touched by the reading thread.
final class RawTCPConnection: @unchecked Sendable {
    let fd: Int32
    private var buffer: [UInt8] = []

    /// Connects to `127.0.0.1:port` from `source` (an address of 127.0.0.0/8; by default the kernel picks
    /// 127.0.0.1); reads give up after `readTimeout` seconds.
    init(port: Int, readTimeout: Int = 5, from source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawTCPError("socket") }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            inet_pton(AF_INET, source, &local.sin_addr)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                throw RawTCPError("bind(\(source))")
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw RawTCPError("connect")
        }
        var timeout = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    private var isOpen = true

    deinit { if isOpen { close(fd) } }

    /// Leaves with a reset (`SO_LINGER` 0, then close): the server sees the client gone at once.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
        isOpen = false
    }

    /// Sends all of `text`.
    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw RawTCPError("send") }
            offset += n
        }
    }

    /// Reads one response (head plus `Content-Length` body; no body for HEAD when `head` is true).
    /// Returns nil if the peer closed or the read timed out first.
    func readResponse(head isHead: Bool = false) -> (head: String, body: String)? {
        while true {
            if let end = findHeadEnd() {
                let head = String(decoding: buffer[..<end], as: UTF8.self)
                var length = 0
                for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: " ")) ?? 0
                }
                if isHead { length = 0 }
                if buffer.count >= end + length {
                    let body = String(decoding: buffer[end..<(end + length)], as: UTF8.self)
                    buffer.removeFirst(end + length)
                    return (head, body)
                }
            }
            guard readMore() else { return nil }
        }
    }

    /// Stops sending (`shutdown(SHUT_WR)`: a FIN) and keeps reading.
    func halfClose() { shutdown(fd, Int32(SHUT_WR)) }

    /// Ends the connection from this side now (both directions), as a client that leaves does.
    func shutdownBoth() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Whether the peer closes the connection (EOF or reset) before the read timeout; discards data.
    func waitForClose() -> Bool {
        while true {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    private func readMore() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func findHeadEnd() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for i in 0...(buffer.count - 4) where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
            return i + 4
        }
        return nil
    }
}

struct RawTCPError: Error, CustomStringConvertible {
    var description: String
    init(_ call: String) { description = "\(call) failed: errno \(errno)" }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> String {
        String(self.drop { $0 == set }.reversed().drop { $0 == set }.reversed())
    }
}
