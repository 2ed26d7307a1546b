import FoundationEssentials
import HTTPServer
import HelmBundle
import Synchronization

/// Issues personal, short-lived client certificates (`--issuer-secret`, `--dev`): signs a caller's CSR
/// (`POST …/certificates`) or a key generated for them (`POST …/personal.tar.gz`) with the issuing CA
/// (``IssuerStore``), and keeps the ledger of what it issued (``CertificateLedger``).
///
/// ``issue(_:for:ttl:)`` is slow (RSA key generation takes tens of milliseconds): the responder calls it only
/// from the bounded ``IssuingQueue``, never on an event loop. A generated key exists only in the answer it
/// returns: never stored, logged, cached, nor put in an audit line.
public final class PersonalCertificates: Sendable {
    /// What a caller asks for.
    public enum Request: Sendable {
        /// A PEM certificate signing request: the key stays with the caller.
        case signingRequest([UInt8])
        /// A key generated here, handed out once in a tarball.
        case generatedKey

        var how: IssuingMethod {
            switch self {
            case .signingRequest: .csr
            case .generatedKey: .generated
            }
        }
    }

    /// An issued certificate's answer, and what is recorded about it once it is handed out.
    public struct Issued: Sendable {
        public let response: HTTPResponse
        public let audit: IssuedCertificateAudit
        public let entry: CertificateLedger.Entry
    }

    public let issuer: IssuerStore
    public let lifetime: CertificateLifetime
    public let keyAlgorithm: PersonalKeyAlgorithm
    public let ledger: CertificateLedger
    public let queue: IssuingQueue
    private let bundle: BundleStore
    /// The last ledger answer's body, for its ledger generation and limit: one, so at most one answer's size
    /// (``maximumLedgerLimit`` entries) is kept; re-encoded only when the ledger or the limit asked for changed.
    private let ledgerAnswer = Mutex<(generation: UInt64, limit: Int, body: [UInt8])?>(nil)

    /// Entries one ledger answer holds unless `?limit=` says otherwise: 100, about 30 KB of JSON.
    public static let defaultLedgerLimit = 100
    /// The most entries one ledger answer holds (`?limit=`): 1,000, about 300 KB of JSON, well under what a
    /// connection may be sent at once; the rest is counted (`total`) and the answer says `truncated`.
    public static let maximumLedgerLimit = 1_000

    /// - Parameters:
    ///   - issuer: the CA.
    ///   - bundle: whose `ca.pem` goes into `personal.tar.gz`.
    ///   - lifetime: the `?ttl=` rules (`--issue-max-ttl`).
    ///   - keyAlgorithm: the key generated for `personal.tar.gz` (`--personal-key-algorithm`).
    ///   - ledger: where issued certificates are listed.
    ///   - queue: where issuing runs, bounded.
    public init(
        issuer: IssuerStore, bundle: BundleStore, lifetime: CertificateLifetime = CertificateLifetime(),
        keyAlgorithm: PersonalKeyAlgorithm = .ecdsaP256, ledger: CertificateLedger = CertificateLedger(),
        queue: IssuingQueue = IssuingQueue()
    ) {
        self.issuer = issuer
        self.bundle = bundle
        self.lifetime = lifetime
        self.keyAlgorithm = keyAlgorithm
        self.ledger = ledger
        self.queue = queue
    }

    /// Signs a certificate naming `user` (its CN), valid for `ttl` from a minute ago (never past the CA's notAfter).
    /// - Throws: the problem to answer: 400 for a bad CSR, 403 for an identity no certificate can name, 503 when
    ///   the CA is not usable.
    public func issue(_ request: Request, for user: String, ttl: Duration, now: Date = Date()) throws(ProblemDetails) -> Issued {
        guard case .serving(let rendered) = bundle.availability else {
            throw Self.unavailable("no bundle is served, so nothing can be issued")
        }
        let authority: CertificateAuthority
        // The same read of the bundle for the CA check and for personal.tar.gz's ca.pem.
        switch issuer.availability(against: rendered, now: now) {
        case .ready(let ready): authority = ready
        case .unavailable(let reason): throw Self.unavailable(reason)
        }
        let publicKey: PublicKey
        var generated: PersonalKey? = nil
        switch request {
        case .signingRequest(let pem):
            do {
                publicKey = try CertificateSigningRequest(pem: pem).publicKey
            } catch {
                throw ProblemDetails(.invalidCertificateRequest, status: 400, title: "Bad Request", detail: error.description)
            }
        case .generatedKey:
            do {
                let key = try PersonalKey.generate(keyAlgorithm)
                generated = key
                publicKey = key.publicKey
            } catch {
                throw Self.unavailable("generating a key failed: \(error)")
            }
        }
        let certificate: IssuedCertificate
        do {
            certificate = try authority.issueClientCertificate(commonName: user, publicKey: publicKey, ttl: ttl, now: now)
        } catch {
            switch error {
            case .emptyCommonName, .commonNameTooLong, .commonNameHasControlCharacters, .commonNameHasInvisibleCharacters:
                throw ProblemDetails(.personalCertificateForbidden, status: 403, title: "Forbidden", detail: error.description)
            case .nonPositiveTTL, .authorityExpired, .openSSL:
                throw Self.unavailable(error.description)
            }
        }
        var headers = HTTPHeaders()
        let body: [UInt8]
        if let generated {
            do {
                var keyPEM = try generated.pkcs8PEM()
                defer { PersonalKey.clear(&keyPEM) }
                body = try ValidatedBundle.archive(
                    ca: rendered.bundle.files.ca, certificate: certificate.pem, key: keyPEM,
                    modificationTime: certificate.notBefore)
            } catch {
                throw Self.unavailable("packing the personal bundle failed: \(error)")
            }
            headers.add("Content-Type", "application/gzip")
            headers.add("Content-Disposition", "attachment; filename=\"\(rendered.name)-personal.tar.gz\"")
        } else {
            body = certificate.pem
            headers.add("Content-Type", "application/x-pem-file")
            headers.add("Content-Disposition", "attachment; filename=\"cert.pem\"")
        }
        // Personal, and for the key, secret: never in a cache.
        headers.add("Cache-Control", "no-store")
        headers.add("X-Content-Type-Options", "nosniff")
        return Issued(
            response: HTTPResponse(status: 200, headers: headers, body: body),
            audit: IssuedCertificateAudit(
                serial: certificate.serial, subject: certificate.subject, notAfter: certificate.notAfter,
                sha256: certificate.sha256, how: request.how),
            entry: CertificateLedger.Entry(
                user: user, serial: certificate.serial, subject: certificate.subject, notBefore: certificate.notBefore,
                notAfter: certificate.notAfter, sha256: certificate.sha256))
    }

    /// The ledger as `GET …/certificates` answers it: compact JSON (RFC 3339 dates, sorted keys) of at most
    /// `?limit=` entries (default ``defaultLedgerLimit``, at most ``maximumLedgerLimit``), the ones expiring first,
    /// with `total` and `truncated` saying whether there were more. The body is encoded once per ledger change
    /// and limit, not for every GET.
    /// - Throws: a 400 for a `limit` that is not a whole number from 1 to ``maximumLedgerLimit``, or repeated.
    public func ledgerResponse(query: String? = nil, now: Date = Date()) throws(ProblemDetails) -> HTTPResponse {
        let limit = try Self.ledgerLimit(query: query)
        let listing = ledger.listing(now: now)
        let cached = ledgerAnswer.withLock { answer in
            answer.flatMap { $0.generation == listing.generation && $0.limit == limit ? $0.body : nil }
        }
        let body = cached ?? Self.encodeLedger(listing, limit: limit)
        if cached == nil { ledgerAnswer.withLock { $0 = (listing.generation, limit, body) } }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("Cache-Control", "no-store")
        return HTTPResponse(status: 200, headers: headers, body: body)
    }

    private static func encodeLedger(_ listing: CertificateLedger.Listing, limit: Int) -> [UInt8] {
        struct Document: Encodable {
            var certificates: [CertificateLedger.Entry]
            var dropped: Int
            var capacity: Int
            var total: Int
            var truncated: Bool
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Strings, numbers and dates always encode.
        return Array(try! encoder.encode(Document(
            certificates: Array(listing.certificates.prefix(limit)), dropped: listing.dropped, capacity: listing.capacity,
            total: listing.certificates.count, truncated: listing.certificates.count > limit))) + [0x0A]
    }

    /// `?limit=` of a ledger GET, else ``defaultLedgerLimit``.
    static func ledgerLimit(query: String?) throws(ProblemDetails) -> Int {
        var asked: Substring? = nil
        for parameter in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == "limit" else { continue }
            guard asked == nil else { throw badLimit("limit is given more than once; give it once") }
            asked = parts.count == 2 ? parts[1] : ""
        }
        guard let asked else { return defaultLedgerLimit }
        guard asked.utf8.count <= 7, asked.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let limit = Int(asked),
            (1...maximumLedgerLimit).contains(limit)
        else {
            throw badLimit("limit must be a whole number from 1 to \(maximumLedgerLimit) (entries in one answer)")
        }
        return limit
    }

    private static func badLimit(_ detail: String) -> ProblemDetails {
        ProblemDetails(.invalidLimit, status: 400, title: "Bad Request", detail: detail)
    }

    /// The 503 for an issuer that cannot sign now.
    static func unavailable(_ reason: String) -> ProblemDetails {
        ProblemDetails(
            .issuingUnavailable, status: 503, title: "Service Unavailable",
            detail: "personal certificates cannot be issued now: \(reason)")
    }
}

extension ProblemDetails: Error {}
