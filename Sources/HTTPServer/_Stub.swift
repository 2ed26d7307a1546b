import Logging
public struct HTTPRequest: Sendable {
    public var method: String; public var path: String; public var query: String?; public var version: String
    public var headers: HTTPHeaders; public var remoteAddress: String; public var clientCertificateSubjectCN: String?
}
public struct HTTPHeaders: Sendable, Sequence {
    var storage: [(String, String)] = []
    public init() {}
    public subscript(name: String) -> String? { storage.first { $0.0.lowercased() == name.lowercased() }?.1 }
    public func values(_ name: String) -> [String] { [] }
    public mutating func add(_ name: String, _ value: String) { storage.append((name, value)) }
    public func makeIterator() -> IndexingIterator<[(String, String)]> { storage.makeIterator() }
}
public struct HTTPResponse: Sendable {
    public var status: Int; public var headers: HTTPHeaders; public var body: [UInt8]
    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) { self.status = status; self.headers = headers; self.body = body }
}
public protocol HTTPResponder: Sendable { func respond(to request: HTTPRequest) -> HTTPResponse }
public struct HTTPServerConfiguration: Sendable {
    public var host: String; public var port: Int; public var eventLoopCount: Int; public var tls: TLSConfiguration?; public var limits: HTTPServerLimits
    public init(host: String, port: Int, eventLoopCount: Int, tls: TLSConfiguration?, limits: HTTPServerLimits) { fatalError() }
}
public struct TLSConfiguration: Sendable {
    public var certificateChainFile: String; public var privateKeyFile: String; public var clientCAFile: String?
    public init(certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil) { fatalError() }
}
public struct HTTPServerLimits: Sendable { public init() {} }
public final class HTTPServer: Sendable {
    public init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger) throws { fatalError() }
    public func start() throws {}
    public var localPort: Int { 0 }
    public func reloadTLS() throws {}
    public var openConnectionCount: Int { 0 }
    public func shutdown(gracePeriod: Duration) {}
    public func waitUntilStopped() {}
}
