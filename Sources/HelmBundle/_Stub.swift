import FoundationEssentials
public struct BundleFiles: Sendable, Equatable {
    public var ca: [UInt8]; public var certificate: [UInt8]; public var key: [UInt8]
    public init(ca: [UInt8], certificate: [UInt8], key: [UInt8]) { fatalError() }
    public init(secretData: [String: String]) throws(BundleError) { fatalError() }
    public init(directory: String) throws(BundleError) { fatalError() }
}
public struct BundleError: Error, Sendable, CustomStringConvertible { public var key: String?; public var reason: String; public var description: String { reason } }
public struct ValidatedBundle: Sendable {
    public let files: BundleFiles; public let metadata: BundleMetadata; public let fingerprint: String
    public init(validating files: BundleFiles) throws(BundleError) { fatalError() }
    public func archive() -> [UInt8] { [] }
    public func metadataJSON() -> [UInt8] { [] }
}
public struct BundleMetadata: Codable, Sendable, Equatable {
    public var certificates: [String: CertificateInfo]; public var key: KeyInfo; public var chainVerified: Bool; public var notAfter: Date
}
public struct CertificateInfo: Codable, Sendable, Equatable { public var subject: String; public var issuer: String; public var serial: String; public var notBefore: Date; public var notAfter: Date; public var sha256: String }
public struct KeyInfo: Codable, Sendable, Equatable { public var algorithm: String; public var bits: Int; public var matchesCertificate: Bool }
public struct DevelopmentPKI: Sendable {
    public let bundle: BundleFiles; public let serverCertificateChainPEM: [UInt8]; public let serverKeyPEM: [UInt8]
    public static func generate(serverNames: [String] = ["localhost", "127.0.0.1", "::1"]) throws -> DevelopmentPKI { fatalError() }
}
