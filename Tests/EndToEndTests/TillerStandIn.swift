import Foundation
import TestSupport

/// Tiller, as far as TLS goes: `openssl s_server` that demands a client certificate signed by the Tiller CA
/// (`-Verify 1 -verify_return_error`) and answers `-www` status pages once the handshake succeeds.
final class TillerStandIn {
    private let process = Process()
    let port: Int
    let directory: TemporaryDirectory

    /// Starts it with `server` (certificate + key) issued by `ca`.
    init(ca: [UInt8], server: PKIFixtures.Credential) throws {
        directory = try TemporaryDirectory("tiller")
        try directory.write("ca.pem", ca)
        try directory.write("server.pem", server.certificatePEM)
        try directory.write("server.key", server.keyPEM)
        // s_server's "ACCEPT host:port" line sits in a pipe buffer until it exits, so pick the port here.
        port = try Self.freeLoopbackPort()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", directory.file("server.pem"), "-key",
            directory.file("server.key"), "-CAfile", directory.file("ca.pem"), "-Verify", "1",
            "-verify_return_error", "-www",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !Self.accepts(port: port) {
            guard Date() < deadline, process.isRunning else {
                kill(process.processIdentifier, SIGKILL)
                throw CurlError(description: "openssl s_server did not start listening on 127.0.0.1:\(port)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// A port nothing listens on right now (bound to 0, read back, released).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CurlError(description: "cannot find a free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Connects like `helm --tls --tls-verify` would with the three files in `home`, sends a request, and
    /// returns whether Tiller answered (the handshake, client certificate included, succeeded).
    func acceptsClient(home: TemporaryDirectory) throws -> Bool {
        let result = try runCommand(
            [
                "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", home.file("ca.pem"),
                "-cert", home.file("cert.pem"), "-key", home.file("key.pem"), "-verify_return_error", "-quiet",
                "-servername", "localhost", "-verify_hostname", "localhost",
            ],
            stdin: Array("GET / HTTP/1.0\r\n\r\n".utf8))
        return result.status == 0 && result.stdoutText.contains("HTTP/1.0 200 ok")
    }

    deinit {
        // SIGKILL: children of the test runner inherit its blocked SIGTERM, so terminate() would be ignored.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        directory.remove()
    }
}
