import Logging
public struct KubernetesConfiguration: Sendable {
    public var apiServer: String; public var tokenFile: String; public var caFile: String?
    public init(apiServer: String, tokenFile: String, caFile: String?) { fatalError() }
    public static func inCluster(environment: [String: String]) throws(KubernetesError) -> KubernetesConfiguration { fatalError() }
}
public struct ObjectMeta: Codable, Sendable { public var name: String?; public var namespace: String?; public var resourceVersion: String?; public var uid: String? }
public struct Secret: Codable, Sendable { public var metadata: ObjectMeta; public var data: [String: String]?; public var type: String? }
public struct Status: Codable, Sendable, Error { public var status: String?; public var message: String?; public var reason: String?; public var code: Int? }
public enum KubernetesError: Error, Sendable, CustomStringConvertible {
    case configuration(String), transport(String), status(Status), decoding(String)
    public var description: String { "" }
}
public final class KubernetesClient: Sendable {
    public init(configuration: KubernetesConfiguration, logger: Logger) { fatalError() }
}
public final class SecretWatcher: Sendable {
    public enum Event: Sendable { case updated(Secret); case deleted; case failed(KubernetesError) }
    public init(client: KubernetesClient, namespace: String, name: String, logger: Logger, onEvent: @escaping @Sendable (Event) -> Void) { fatalError() }
    public func start() {}
    public func stop() {}
}
