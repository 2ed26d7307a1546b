import Foundation

/// The release binary, built as the Dockerfile builds it (scripts/build-release, into .build-release).
///
/// Built once per test process: the first caller runs the script (minutes from scratch, seconds when nothing
/// changed; SwiftPM serialises concurrent builds of one scratch path), later callers get the same path.
/// `$HELM_CERT_SERVER_RELEASE_BINARY` names a binary to use instead (another branch's build, say).
public func buildReleaseBinary() throws -> String {
    try ReleaseBinary.shared.path()
}

/// scripts/build-release failed; carries what it printed.
public struct ReleaseBuildError: Error, CustomStringConvertible {
    public var description: String
}

private final class ReleaseBinary: @unchecked Sendable {
    static let shared = ReleaseBinary()
    private let lock = NSLock()
    private var built: String?

    func path() throws -> String {
        if let given = ProcessInfo.processInfo.environment["HELM_CERT_SERVER_RELEASE_BINARY"] { return given }
        lock.lock()
        defer { lock.unlock() }
        if let built { return built }
        let result = try runCommand(["\(packageRoot)/scripts/build-release"], directory: packageRoot)
        guard result.status == 0, let path = result.stdoutText.split(separator: "\n").last.map(String.init) else {
            throw ReleaseBuildError(description: "scripts/build-release failed (\(result.status)):\n\(result.stdoutText)\(result.stderrText)")
        }
        built = path
        return path
    }
}
