import Foundation

/// The real `helm-cert-server` binary, started as a child process for end-to-end tests.
///
/// It finds the binary next to the test bundle (the same build folder `swift test` used), captures standard
/// output and error, and waits for the JSON log line `"message":"listening"` to learn the bound port.
public final class ServiceProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var out: [UInt8] = []
    private var err: [UInt8] = []
    /// The port the service bound (it is started with `--listen 127.0.0.1:0` unless told otherwise).
    public private(set) var port: Int = 0

    /// The built `helm-cert-server` binary: `$HELM_CERT_SERVER_BINARY` when set (another build, say), else the
    /// one next to the test bundle.
    public static var binaryPath: String {
        if let given = ProcessInfo.processInfo.environment["HELM_CERT_SERVER_BINARY"] { return given }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // On Linux the runner is `.build/debug/<pkg>PackageTests.xctest`; on macOS it sits inside a bundle.
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("helm-cert-server").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir.deleteLastPathComponent()
        }
        return "\(packageRoot)/.build/debug/helm-cert-server"
    }

    /// Starts the service with `arguments` and waits (up to `timeout`) until it listens.
    ///
    /// - Parameter binary: the executable to start; by default the build `swift test` used (``binaryPath``).
    /// - Throws: `ServiceProcessError` with everything the process printed if it exits or never listens.
    public init(
        arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(20),
        binary: String = ServiceProcess.binaryPath
    ) throws {
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.out.append(contentsOf: data) }
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else { return }
            self.lock.withLock { self.err.append(contentsOf: data) }
        }
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let port = listeningPort() {
                self.port = port
                return
            }
            if !process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        stop()
        throw ServiceProcessError(message: "helm-cert-server did not start listening", output: outputText)
    }

    /// Waits (up to `timeout`) until standard output holds `text`, and says whether it does. What the service
    /// prints once it listens (the `--dev` welcome) can arrive after the "listening" log line `init` waits for.
    @discardableResult
    public func waitForStandardOutput(containing text: String, timeout: Duration = .seconds(10)) -> Bool {
        eventually(within: timeout, every: .milliseconds(20)) { stdoutText.contains(text) }
    }

    /// Everything written to standard output so far (the `--dev` welcome text, audit lines).
    public var stdoutText: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    /// Everything written to standard error so far (JSON log lines).
    public var stderrText: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
    /// Everything written so far, standard output then standard error (for failure messages).
    public var outputText: String { stdoutText + stderrText }
    /// The files the running process has mapped (`/proc/PID/maps`): which shared libraries it loaded.
    public var mappedFiles: Set<String> {
        // Read to the end of file: procfs reports a size of 0, which size-based readers take at its word.
        let handle = FileHandle(forReadingAtPath: "/proc/\(process.processIdentifier)/maps")
        defer { try? handle?.close() }
        let maps = String(decoding: (try? handle?.readToEnd()) ?? Data(), as: UTF8.self)
        return Set(maps.split(separator: "\n").compactMap { line in
            line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true).dropFirst(5).first
                .map { String($0.drop { $0 == " " }) }
        })
    }

    /// The JSON log lines so far, decoded.
    public var logLines: [[String: String]] {
        stderrText.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: String]
        }
    }

    /// Waits until a log line satisfies `predicate` (true) or `timeout` passes (false).
    public func waitForLog(timeout: Duration = .seconds(10), _ predicate: ([String: String]) -> Bool) -> Bool {
        eventually(within: timeout) { logLines.contains(where: predicate) }
    }

    /// The process id (for `/proc/PID`).
    public var processIdentifier: Int32 { process.processIdentifier }

    /// Whether the process is still running.
    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (SIGHUP, say) without waiting for anything.
    public func send(signal: Int32) {
        if process.isRunning { kill(process.processIdentifier, signal) }
    }

    /// Sends `signal` (SIGTERM by default) and waits for the exit; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -9
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    private func listeningPort() -> Int? {
        for line in logLines where line["message"] == "listening" {
            if let address = line["address"], let colon = address.lastIndex(of: ":"),
                let port = Int(address[address.index(after: colon)...])
            {
                return port
            }
        }
        return nil
    }
}

/// The service process failed to start; carries what it printed.
public struct ServiceProcessError: Error, CustomStringConvertible {
    public var message: String
    public var output: String
    public var description: String { "\(message); its output:\n\(output)" }
}
