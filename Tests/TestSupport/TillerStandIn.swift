// Test support only (Foundation is fine here): starts Tests/TillerStandIn/tiller_stand_in.py.
import Foundation

/// Tiller as far as Helm 2's `--tls` goes: a real gRPC server (grpcio) on 127.0.0.1 that demands a client
/// certificate signed by its CA and answers `hapi.services.tiller.ReleaseService/GetVersion` with ``version``.
/// Needs `.tools/venv-grpc` (`scripts/install-test-tools`). Ends (SIGKILL) when this goes away.
public final class TillerStandIn: @unchecked Sendable {
    /// What the stand-in does with a connection.
    public enum Behaviour: Sendable {
        /// TLS with client authentication against `ca`, presenting `server`, then gRPC.
        case serve(ca: [UInt8], server: PKIFixtures.Credential)
        /// Accepts TCP and never answers.
        case hang
        /// Like `serve`, but GetVersion fails with the gRPC status named (`UNAVAILABLE`, `PERMISSION_DENIED`, …).
        case fail(ca: [UInt8], server: PKIFixtures.Credential, grpcStatus: String)
    }

    /// The `sem_ver` it answers.
    public static let version = "v2.16.12"
    /// The interpreter with grpcio.
    public static let python = "\(packageRoot)/.tools/venv-grpc/bin/python"

    public let port: Int
    public var address: String { "127.0.0.1:\(port)" }
    private let process: Process
    private let stdin: Pipe
    private let directory: TemporaryDirectory

    /// Starts it on `port` (0: a free one) and waits until it accepts connections; GetVersion answers `version`.
    public init(_ behaviour: Behaviour, version: String = TillerStandIn.version, port: Int = 0) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            throw CurlError(description: "\(Self.python) is missing: run scripts/install-test-tools (it installs grpcio into .tools/)")
        }
        directory = try TemporaryDirectory("tiller")
        var arguments = ["\(packageRoot)/Tests/TillerStandIn/tiller_stand_in.py", "--exit-with-stdin", "--version", version, "--port", "\(port)"]
        switch behaviour {
        case .serve(let ca, let server), .fail(let ca, let server, _):
            try directory.write("ca.pem", ca)
            try directory.write("server.pem", server.certificatePEM)
            try directory.write("server.key", server.keyPEM)
            arguments += ["--ca", directory.file("ca.pem"), "--cert", directory.file("server.pem"), "--key", directory.file("server.key")]
        case .hang:
            arguments += ["--hang"]
        }
        if case .fail(_, _, let status) = behaviour { arguments += ["--grpc-error", status] }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = arguments
        let stdout = Pipe()
        stdin = Pipe()
        process.standardOutput = stdout
        process.standardInput = stdin
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = [UInt8]()
        while true {
            let byte = try stdout.fileHandleForReading.read(upToCount: 1) ?? Data()
            if byte.isEmpty || byte.first == UInt8(ascii: "\n") { break }
            line.append(contentsOf: byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("LISTENING "), let port = Int(text.dropFirst("LISTENING ".count)) else {
            kill(process.processIdentifier, SIGKILL)
            directory.remove()
            throw CurlError(description: "tiller_stand_in.py did not start (printed \(text.debugDescription))")
        }
        self.port = port
    }

    /// Calls GetVersion like Helm 2 with `--tls --tls-verify` would, with the `curl` CLI over HTTP/2 and the
    /// three files in `home`; returns whether Tiller answered with its version (gRPC status 0).
    public func acceptsClient(home: TemporaryDirectory) throws -> Bool {
        let result = try runCommand(
            [
                "curl", "-sS", "--http2", "--max-time", "10", "--cacert", home.file("ca.pem"), "--cert",
                home.file("cert.pem"), "--key", home.file("key.pem"), "-H", "Content-Type: application/grpc",
                "-H", "TE: trailers", "--data-binary", "@-", "-D", "-",
                "https://\(address)/hapi.services.tiller.ReleaseService/GetVersion",
            ],
            stdin: [0, 0, 0, 0, 0])
        return result.status == 0 && result.stdoutText.contains("grpc-status: 0")
            && result.stdoutText.contains(Self.version)
    }

    deinit {
        // SIGKILL: children of the test runner inherit its blocked SIGTERM, so terminate() would be ignored.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        directory.remove()
    }
}
