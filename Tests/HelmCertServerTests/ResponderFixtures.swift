import FoundationEssentials
import HTTPServer
import HelmBundle
import Logging
@testable import HelmCertServer
import TestSupport

/// A responder over a real validated bundle, with a known token, for route-level tests without sockets.
struct ResponderFixture {
    let store: BundleStore
    let responder: HelmCertResponder
    let metrics: ServiceMetrics
    let files: BundleFiles
    let auditDirectory: TemporaryDirectory
    /// Personal certificates, when the fixture issues them.
    let personal: PersonalCertificates?
    static let token = "fixture-token"
    /// olga's: the group that reads the ledger of personal certificates.
    static let ledgerReaderToken = "fixture-ledger-reader-token"
    static let ledgerReader = ("Authorization", "Bearer \(ledgerReaderToken)")

    init(files: BundleFiles? = nil, serve: Bool = true, auditPath: String? = nil,
         auditQueueCapacity: Int = AuditLog.defaultQueueCapacity, reviewer: (any TokenReviewer)? = nil,
         acceptsClientCertificates: @escaping @Sendable () -> Bool = { true }, sharesKey: Bool = true,
         issuer: [String: [UInt8]]? = nil, lifetime: CertificateLifetime = CertificateLifetime(),
         queueLimits: IssuingQueue.Limits = IssuingQueue.Limits(), ledgerCapacity: Int = CertificateLedger.defaultCapacity,
         issuingReviewer: (any TokenReviewer)? = nil) throws {
        let files = try files ?? PKIFixtures.goodBundle()
        self.files = files
        metrics = ServiceMetrics()
        store = BundleStore(name: "helm", source: "the test", logger: Logger(label: "test"), metrics: metrics)
        if serve { store.offer(files, origin: "fixture") }
        auditDirectory = try TemporaryDirectory("audit")
        let audit = try AuditLog(path: auditPath ?? auditDirectory.file("audit.log"), queueCapacity: auditQueueCapacity)
        let tokens = TokenFile(parsing: Array(
            "\(Self.token),alice,1001,\"devs\"\n\(Self.ledgerReaderToken),olga,1002,\"\(HelmCertResponder.ledgerReadersGroup)\"\n".utf8))
        let bundleStore = store
        personal = issuer.map { data in
            let issuerStore = IssuerStore(source: "the test issuer", bundle: bundleStore, logger: Logger(label: "test"))
            issuerStore.offer(decoded: data, origin: "the test issuer")
            return PersonalCertificates(
                issuer: issuerStore, bundle: bundleStore, lifetime: lifetime, ledger: CertificateLedger(capacity: ledgerCapacity),
                queue: IssuingQueue(limits: queueLimits))
        }
        responder = HelmCertResponder(
            store: store, authenticator: StaticTokenAuthenticator(tokenFile: tokens), metrics: metrics, audit: audit,
            reviewer: reviewer, acceptsClientCertificates: acceptsClientCertificates, sharesKey: sharesKey,
            personal: personal, issuingReviewer: issuingReviewer)
    }

    /// Sends a request through the responder as the server would hand it over.
    func send(
        _ path: String, method: HTTPMethod = .get, query: String? = nil, headers: [(String, String)] = [],
        body: [UInt8] = [], authorized: Bool = true, clientCN: String? = nil, clientPolicies: [String] = [],
        remoteAddress: String = "127.0.0.1:40000"
    ) -> HTTPResponse {
        var h = HTTPHeaders()
        if authorized { h.add("Authorization", "Bearer \(Self.token)") }
        for (n, v) in headers { h.add(n, v) }
        let request = HTTPRequest(
            method: method, path: path, query: query, version: .http1_1, headers: h, body: body,
            remoteAddress: remoteAddress, clientCertificateSubjectCN: clientCN,
            clientCertificatePolicies: clientPolicies)
        return responder.respond(to: request)
    }

    /// Sends a request through the responder with `promise`, as the server does; nil when it deferred.
    func send(_ path: String, token: String, promise: HTTPResponsePromise) -> HTTPResponse? {
        let request = HTTPRequest(
            method: .get, path: path, headers: HTTPHeaders([("Authorization", "Bearer \(token)")]),
            remoteAddress: "127.0.0.1:40000")
        return responder.respond(to: request, promise: promise)
    }

    /// The audit file's lines.
    func auditLines() throws -> [String] {
        String(decoding: try auditDirectory.read("audit.log"), as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
