import Foundation
import Glibc
import TestSupport

/// The debug build of `helm-cert-server` running with `--dev` on a free loopback port, for tests that talk to
/// the real service. `--dev` prints the token it accepts on a line `token: <token>`.
final class RunningServer: @unchecked Sendable {
    let port: UInt16
    let token: String
    private let process: Process
    private let output: OutputCollector

    /// The binary `swift build`/`swift test` leaves in the debug build folder, or `$HELM_CERT_SERVER_BINARY`.
    static var binary: String {
        ProcessInfo.processInfo.environment["HELM_CERT_SERVER_BINARY"] ?? "\(packageRoot)/.build/debug/helm-cert-server"
    }

    /// Starts the server and waits (up to `timeout`) for its token line and for `/readyz` to answer 200.
    init(timeout: Duration = .seconds(60)) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw ServerError("\(Self.binary) is missing: build it with `swift build --product helm-cert-server`")
        }
        port = try freeLoopbackPort()
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["--dev", "--listen", "127.0.0.1:\(port)"]
        output = OutputCollector()
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let reader = pipe.fileHandleForReading, collector = output
        Thread.detachNewThread {
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                collector.append(chunk)
            }
        }
        let deadline = ContinuousClock.now + timeout
        var foundToken: String?
        while foundToken == nil {
            foundToken = output.token()
            if foundToken != nil { break }
            guard process.isRunning else {
                throw ServerError("helm-cert-server --dev exited (\(process.terminationStatus)) before printing `token: …`:\n\(output.text)")
            }
            guard ContinuousClock.now < deadline else {
                process.terminate()
                throw ServerError("helm-cert-server --dev printed no `token: …` line within \(timeout):\n\(output.text)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        token = foundToken!
        while true {
            let status = try runCommand(["curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2",
                                         "https://127.0.0.1:\(port)/readyz"]).stdoutText
            if status == "200" { break }
            guard process.isRunning, ContinuousClock.now < deadline else {
                stop()
                throw ServerError("helm-cert-server --dev never answered GET /readyz with 200 (last: \(status)):\n\(output.text)")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    /// Everything the server printed so far (it never prints the key; the dev token is throwaway).
    var log: String { output.text }

    /// Stops the server: SIGTERM, then SIGKILL if it is still running 5 seconds later (a child started from a
    /// test thread can inherit a signal mask that blocks SIGTERM), and waits for it.
    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Why the server could not be used.
struct ServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Collects a process's output across threads.
private final class OutputCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes = Data()

    func append(_ chunk: Data) { lock.withLock { bytes.append(chunk) } }
    var text: String { lock.withLock { String(decoding: bytes, as: UTF8.self) } }

    /// The word after `token: ` on a complete line, if the server printed one.
    func token() -> String? {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).dropLast(text.hasSuffix("\n") ? 0 : 1) {
            guard let range = line.range(of: "token: ") else { continue }
            let word = line[range.upperBound...].split(separator: " ").first.map(String.init)
            if let word, !word.isEmpty { return word }
        }
        return nil
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on right now (the kernel's pick for port 0).
func freeLoopbackPort() throws -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ServerError("socket() failed: \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw ServerError("bind(127.0.0.1:0) failed: \(String(cString: strerror(errno)))") }
    return UInt16(bigEndian: address.sin_port)
}
