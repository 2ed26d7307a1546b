import Foundation

/// One HTTP exchange made by the real `curl` binary.
public struct CurlResponse: Sendable {
    public var status: Int
    /// Header names lowercased; repeated headers keep every value.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    /// The first value of `name` (case-insensitive).
    public func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
    public func headerValues(_ name: String) -> [String] { headers.filter { $0.name == name.lowercased() }.map(\.value) }
}

/// Makes a request with `curl` (the client CI pipelines and developers actually use).
///
/// - Parameters:
///   - url: the full URL.
///   - method: sent with `-X` (HEAD uses `-I`).
///   - headers: extra request headers (`"Authorization: Bearer …"`).
///   - caFile: the CA that signs the server's certificate; nil with plain HTTP.
public func curl(
    _ url: String, method: String = "GET", headers: [String] = [], caFile: String? = nil, extra: [String] = []
) throws -> CurlResponse {
    let dir = try TemporaryDirectory("curl")
    defer { dir.remove() }
    var args = ["curl", "-sS", "--max-time", "20", "-o", dir.file("body"), "-D", dir.file("head"), "-w", "%{http_code}"]
    if method == "HEAD" { args.append("-I") } else if method != "GET" { args += ["-X", method] }
    if let caFile { args += ["--cacert", caFile] }
    for h in headers { args += ["-H", h] }
    args += extra
    args.append(url)
    let result = try runCommand(args)
    guard result.status == 0 else {
        throw CurlError(description: "curl \(url) exited \(result.status): \(result.stderrText)")
    }
    let head = (try? dir.read("head")) ?? []
    var parsed: [(String, String)] = []
    for line in String(decoding: head, as: UTF8.self).split(separator: "\r\n") {
        guard let colon = line.firstIndex(of: ":") else { continue }
        parsed.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
    let body = method == "HEAD" ? [] : ((try? dir.read("body")) ?? [])
    return CurlResponse(status: Int(result.stdoutText) ?? -1, headers: parsed.map { (name: $0.0, value: $0.1) }, body: body)
}

/// curl itself failed (connection refused, TLS failure, timeout).
public struct CurlError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}
