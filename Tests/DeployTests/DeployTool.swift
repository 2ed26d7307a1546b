import Foundation
import TestSupport

/// A tool the deploy checks run from `.tools/bin` (put there by `scripts/install-test-tools`).
struct DeployTool: Sendable {
    /// The tool's file name in `.tools/bin`, e.g. `helm` or `kubernetes-validate-1.24`.
    let name: String

    static let helm = DeployTool(name: "helm")
    static let python = DeployTool(name: "python")
    static let openAPISpecValidator = DeployTool(name: "openapi-spec-validator")
    static let schemathesis = DeployTool(name: "schemathesis")

    /// kubernetes-validate for a Kubernetes version: 1.24.0 carries schemas back to 1.10, 1.37.0 the current ones.
    static func kubernetesValidate(for kubeVersion: String) -> DeployTool {
        let minor = Int(kubeVersion.split(separator: ".")[1]) ?? 0
        return DeployTool(name: minor <= 24 ? "kubernetes-validate-1.24" : "kubernetes-validate-1.37")
    }

    /// The absolute path, or an error telling how to install the tool when it is not there.
    func path() throws -> String {
        let path = "\(packageRoot)/.tools/bin/\(name)"
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingToolError(path: path) }
        return path
    }

    /// Runs the tool to completion, from the package root unless `directory` says otherwise.
    @discardableResult
    func run(
        _ arguments: [String], stdin: [UInt8] = [], directory: String = packageRoot, environment: [String: String] = [:]
    ) throws -> CommandResult {
        try runCommand([try path()] + arguments, stdin: stdin, environment: environment, directory: directory)
    }
}

/// A deploy check's tool is not installed.
struct MissingToolError: Error, CustomStringConvertible {
    let path: String
    var description: String { "\(path) is missing: run scripts/install-test-tools (it installs into .tools/)" }
}

/// A command ended with a status other than 0.
struct CommandFailedError: Error, CustomStringConvertible {
    let command: String
    let result: CommandResult
    var description: String {
        "`\(command)` exited with \(result.status)\n--- stdout\n\(result.stdoutText.suffix(4000))\n--- stderr\n\(result.stderrText.suffix(4000))"
    }
}

extension CommandResult {
    /// `self`, or a `CommandFailedError` naming `command` when the status is not 0.
    @discardableResult
    func succeeded(_ command: String) throws -> CommandResult {
        guard status == 0 else { throw CommandFailedError(command: command, result: self) }
        return self
    }
}
