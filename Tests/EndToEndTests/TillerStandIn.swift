import Foundation
import TestSupport

/// Tiller, as far as TLS goes: `openssl s_server` that demands a client certificate signed by the Tiller CA
/// (`-Verify 1 -verify_return_error`) and answers `-www` status pages once the handshake succeeds.
final class TillerStandIn {
    private let process = Process()
    private let output = Pipe()
    let port: Int
    let directory: TemporaryDirectory

    /// Starts it with `server` (certificate + key) issued by `ca`.
    init(ca: [UInt8], server: PKIFixtures.Credential) throws {
        directory = try TemporaryDirectory("tiller")
        try directory.write("ca.pem", ca)
        try directory.write("server.pem", server.certificatePEM)
        try directory.write("server.key", server.keyPEM)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "s_server", "-accept", "0", "-cert", directory.file("server.pem"), "-key",
            directory.file("server.key"), "-CAfile", directory.file("ca.pem"), "-Verify", "1",
            "-verify_return_error", "-www",
        ]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = [UInt8]()
        while true {
            let byte = try output.fileHandleForReading.read(upToCount: 1) ?? Data()
            if byte.isEmpty { break }
            if byte.first == UInt8(ascii: "\n") {
                if String(decoding: line, as: UTF8.self).hasPrefix("ACCEPT") { break }
                line.removeAll()
            } else {
                line.append(contentsOf: byte)
            }
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            process.terminate()
            throw CurlError(description: "openssl s_server did not start: \(text)")
        }
        self.port = port
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
        process.terminate()
        process.waitUntilExit()
        directory.remove()
    }
}
