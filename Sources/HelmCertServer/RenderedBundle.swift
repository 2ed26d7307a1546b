import FoundationEssentials
import HTTPServer
import HelmBundle
import TillerCheck

/// One file a bundle is served as, and the path segment naming it.
public enum BundleRepresentation: String, Sendable, CaseIterable {
    case ca = "ca.pem"
    case certificate = "cert.pem"
    case key = "key.pem"
    case archive = "bundle.tar.gz"
    /// `GET /v1/bundles/NAME` itself: JSON metadata, never key material.
    case metadata = ""

    /// Whether the answer holds the private key (`key.pem`, the archive). Their ETags (a digest of the bytes) stay
    /// out of audit lines: a log reader could confirm a guessed key against one.
    var holdsKey: Bool { self == .key || self == .archive }
}

/// Every answer for one version of one bundle, built once when the bundle changes (and when its expiry
/// warning's day count changes), so that serving a request is a lookup, not work. A class, immutable: handing
/// the current one to a request is one reference count, not a copy of every field.
public final class RenderedBundle: Sendable {
    /// The bundle's name in URLs (`helm`).
    public let name: String
    public let bundle: ValidatedBundle
    /// When these answers were rendered (expiry days are counted from here).
    public let renderedAt: Date
    /// Lines for `Warning` headers and the metadata's `warnings` (expiry within 30 days, or past it; a failing
    /// Tiller check; Tiller's certificate expiring).
    public let warnings: [String]
    /// The last live check against Tiller rendered into the metadata, if any.
    public let tiller: TillerCheckResult?
    private let ok: [BundleRepresentation: HTTPResponse]
    private let notModified: [BundleRepresentation: HTTPResponse]
    private let etags: [BundleRepresentation: String]

    /// How close to expiry a certificate must be before answers carry a `Warning`.
    public static let expiryWarningWindow: TimeInterval = 30 * 86_400

    /// Renders every representation of `bundle`.
    public init(name: String, bundle: ValidatedBundle, now: Date = Date(), tiller: TillerCheckResult? = nil) {
        self.name = name
        self.bundle = bundle
        self.renderedAt = now
        self.tiller = tiller
        let warnings = Self.expiryWarnings(bundle.metadata, now: now) + Self.tillerWarnings(tiller, now: now)
        self.warnings = warnings

        var ok: [BundleRepresentation: HTTPResponse] = [:]
        var notModified: [BundleRepresentation: HTTPResponse] = [:]
        var etags: [BundleRepresentation: String] = [:]
        for representation in BundleRepresentation.allCases {
            let body: [UInt8]
            var headers: [(String, String)] = []
            switch representation {
            case .ca: body = bundle.files.ca
            case .certificate: body = bundle.files.certificate
            case .key: body = bundle.files.key
            case .archive: body = bundle.archive()
            case .metadata:
                body = Self.metadataDocument(name: name, bundle: bundle, warnings: warnings, now: now, tiller: tiller)
            }
            switch representation {
            case .ca, .certificate, .key:
                headers.append(("Content-Type", "application/x-pem-file"))
                headers.append(("Content-Disposition", "attachment; filename=\"\(representation.rawValue)\""))
            case .archive:
                headers.append(("Content-Type", "application/gzip"))
                headers.append(("Content-Disposition", "attachment; filename=\"\(name)-bundle.tar.gz\""))
            case .metadata:
                headers.append(("Content-Type", "application/json"))
            }
            // The key (alone or inside the archive) must never rest in a cache; the rest may, revalidated.
            let cacheControl = representation == .key || representation == .archive ? "no-store" : "private, no-cache"
            let etag = "\"" + SHA256.hex(body).prefix(32) + "\""
            var common: [(String, String)] = [("ETag", etag), ("Cache-Control", cacheControl)]
            for warning in warnings { common.append(("Warning", "299 - " + jsonQuoted(warning))) }
            common.append(("X-Content-Type-Options", "nosniff"))

            var full = HTTPHeaders()
            for (n, v) in headers + common { full.add(n, v) }
            var short = HTTPHeaders()
            for (n, v) in common { short.add(n, v) }
            // Prepared: each request then copies the head instead of serialising it.
            ok[representation] = HTTPResponse(status: 200, headers: full, body: body).prepared()
            notModified[representation] = HTTPResponse(status: 304, headers: short, body: []).prepared()
            etags[representation] = etag
        }
        self.ok = ok
        self.notModified = notModified
        self.etags = etags
    }

    /// The answer for `representation`: 304 when `ifNoneMatch` names its current ETag, else 200.
    public func response(for representation: BundleRepresentation, ifNoneMatch: String?) -> HTTPResponse {
        if let ifNoneMatch, let etag = etags[representation], Self.matches(ifNoneMatch, etag: etag) {
            return notModified[representation]!
        }
        return ok[representation]!
    }

    /// The strong ETag of a representation (recorded in audit lines).
    public func etag(for representation: BundleRepresentation) -> String { etags[representation]! }

    /// RFC 9110 §13.1.2: `*`, or a comma-separated list of entity tags compared weakly (a `W/` prefix ignored).
    static func matches(_ header: String, etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var tag = candidate.drop { $0 == " " || $0 == "\t" }
            while let last = tag.last, last == " " || last == "\t" { tag = tag.dropLast() }
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag == etag[...] { return true }
        }
        return false
    }

    /// Sentences naming each certificate that expires within the warning window, or has expired.
    static func expiryWarnings(_ metadata: BundleMetadata, now: Date) -> [String] {
        ["ca.pem", "cert.pem"].compactMap { file in
            metadata.certificates[file].flatMap {
                expirySentence(file, notAfter: $0.notAfter, now: now, advice: "renew the Helm TLS certificates")
            }
        }
    }

    /// Sentences for a failing Tiller check, and for Tiller's certificate within the warning window or past it
    /// (Kyma issues it for a year and never rotates it; when it expires every Helm client fails).
    static func tillerWarnings(_ tiller: TillerCheckResult?, now: Date) -> [String] {
        guard let tiller else { return [] }
        var out: [String] = []
        if let failure = tiller.failure {
            out.append("the live check against Tiller at \(tiller.address) failed: \(failure)")
        }
        if let notAfter = tiller.serverCertificate?.info.notAfter,
           let sentence = expirySentence(
               "Tiller's server certificate", notAfter: notAfter, now: now,
               advice: "renew Tiller's certificate (Kyma does not rotate it)") {
            out.append(sentence)
        }
        return out
    }

    /// "`what` expires in N day(s) …" within the warning window, "`what` expired N day(s) ago …" past it, else nil.
    private static func expirySentence(_ what: String, notAfter: Date, now: Date, advice: String) -> String? {
        let remaining = notAfter.timeIntervalSince(now)
        let stamp = notAfter.formatted(.iso8601)
        if remaining <= 0 {
            return "\(what) expired \(Int((-remaining / 86_400).rounded(.down))) day(s) ago (notAfter \(stamp)); \(advice)"
        }
        guard remaining <= expiryWarningWindow else { return nil }
        return "\(what) expires in \(Int((remaining / 86_400).rounded(.down))) day(s) (notAfter \(stamp)); \(advice)"
    }

    /// The metadata's `tiller` object.
    struct TillerDocument: Encodable {
        struct ServerCertificateDocument: Encodable {
            var subject, issuer, serial, sha256: String
            var notBefore, notAfter: Date
            var verified, nameMatches: Bool
        }
        var address: String
        var checkedAt: Date
        var ok: Bool
        var version: String?
        var error: String?
        var serverCertificate: ServerCertificateDocument?

        init(_ result: TillerCheckResult) {
            address = result.address
            checkedAt = result.checkedAt
            ok = result.ok
            version = result.version
            error = result.failure?.description
            serverCertificate = result.serverCertificate.map {
                ServerCertificateDocument(
                    subject: $0.info.subject, issuer: $0.info.issuer, serial: $0.info.serial, sha256: $0.info.sha256,
                    notBefore: $0.info.notBefore, notAfter: $0.info.notAfter, verified: $0.signedByCA,
                    nameMatches: $0.nameMatches)
            }
        }
    }

    /// The JSON metadata document (sorted keys, RFC 3339 dates). Never key material.
    static func metadataDocument(
        name: String, bundle: ValidatedBundle, warnings: [String], now: Date, tiller: TillerCheckResult? = nil
    ) -> [UInt8] {
        struct Document: Encodable {
            var name: String
            var certificates: [String: CertificateInfo]
            var key: KeyInfo
            var chainVerified: Bool
            var notAfter: Date
            var expiresInDays: Int
            var warnings: [String]
            var tiller: TillerDocument?
        }
        let metadata = bundle.metadata
        let days = Int((metadata.notAfter.timeIntervalSince(now) / 86_400).rounded(.down))
        let document = Document(
            name: name, certificates: metadata.certificates, key: metadata.key,
            chainVerified: metadata.chainVerified, notAfter: metadata.notAfter, expiresInDays: days,
            warnings: warnings, tiller: tiller.map(TillerDocument.init))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Encoding plain strings, numbers and dates cannot fail.
        return Array(try! encoder.encode(document)) + [UInt8(ascii: "\n")]
    }
}
