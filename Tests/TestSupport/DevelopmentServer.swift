/// `helm-cert-server --dev` (the README's "run it" command) as a ``ServiceProcess`` on a loopback port the kernel
/// picks, with the throwaway token and server CA its welcome text prints.
public final class DevelopmentServer: Sendable {
    /// The running process: its port, output and log lines, and `stop()`.
    public let service: ServiceProcess
    /// The bearer token `--dev` accepts (printed as `token: …`; throwaway, so tests may show it).
    public let token: String
    /// The path of the CA that signs the server's certificate (printed as `server CA: …`).
    public let serverCA: String

    /// The bound port.
    public var port: Int { service.port }
    /// `https://127.0.0.1:PORT`.
    public var base: String { "https://127.0.0.1:\(service.port)" }
    /// The request header that carries ``token``.
    public var authorization: String { "Authorization: Bearer \(token)" }

    /// Starts the server and waits until its welcome text is complete.
    ///
    /// - Parameters:
    ///   - arguments: more arguments after `--dev --listen 127.0.0.1:0`.
    ///   - environment: variables laid over the test process's environment.
    /// - Throws: ``ServiceProcessError`` with everything it printed if it never listens or never prints the
    ///   token and CA lines.
    public init(arguments: [String] = [], environment: [String: String] = [:]) throws {
        let service = try ServiceProcess(
            arguments: ["--dev", "--listen", "127.0.0.1:0"] + arguments, environment: environment)
        // The welcome is printed after the "listening" log line; its token and CA lines come before this one.
        service.waitForStandardOutput(containing: "\nOne file, or the metadata:")
        let lines = service.stdoutText.split(separator: "\n")
        func value(after prefix: String) throws -> String {
            guard let line = lines.first(where: { $0.hasPrefix(prefix) }) else {
                service.stop()
                throw ServiceProcessError(
                    message: "helm-cert-server --dev printed no `\(prefix)…` line", output: service.outputText)
            }
            return String(line.dropFirst(prefix.count))
        }
        token = try value(after: "token: ")
        serverCA = try value(after: "server CA: ")
        self.service = service
    }

    /// Stops the server (SIGTERM) and returns its exit status.
    @discardableResult
    public func stop() -> Int32 { service.stop() }
}
