// Test support only: the service itself never imports Foundation (FoundationEssentials at most).
// `Process` is the well-kept way to start the real `openssl`, `kubectl`, `tar` and `python3` binaries.
import Foundation

/// What a finished command left behind.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: [UInt8]
    public var stderr: [UInt8]
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Runs a command to completion (found on `PATH`), feeding `stdin`, and captures both outputs.
///
/// - Parameters:
///   - arguments: the program followed by its arguments, e.g. `["openssl", "x509", "-noout"]`.
///   - stdin: bytes written to the command's standard input, then closed.
///   - environment: extra variables laid over the test process's environment.
///   - directory: the working directory, or the current one.
@discardableResult
public func runCommand(
    _ arguments: [String], stdin: [UInt8] = [], environment: [String: String] = [:], directory: String? = nil
) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    // Drain both pipes on their own threads so a chatty command can't fill one and block.
    nonisolated(unsafe) var out = Data(), err = Data()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { out = outPipe.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { err = errPipe.fileHandleForReading.readDataToEndOfFile() }
    if !stdin.isEmpty { try? inPipe.fileHandleForWriting.write(contentsOf: Data(stdin)) }
    try? inPipe.fileHandleForWriting.close()
    process.waitUntilExit()
    group.wait()
    return CommandResult(status: process.terminationStatus, stdout: [UInt8](out), stderr: [UInt8](err))
}

/// A directory under the system's temporary folder, removed by `remove()`.
public struct TemporaryDirectory: Sendable {
    public let path: String
    public init(_ prefix: String = "helm-cert-server-test") throws {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        path = "\(base)/\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    /// `path` joined with `name`.
    public func file(_ name: String) -> String { "\(path)/\(name)" }
    public func write(_ name: String, _ bytes: [UInt8], mode: Int = 0o600) throws {
        guard FileManager.default.createFile(atPath: file(name), contents: Data(bytes), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file(name)])
        }
    }
    public func write(_ name: String, _ text: String, mode: Int = 0o600) throws { try write(name, Array(text.utf8), mode: mode) }
    public func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: file(name)))) }
    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// The package's root folder (where `Package.swift` is), found from this source file.
public let packageRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url.path }
    }
    fatalError("Package.swift not found above \(#filePath)")
}()
