import FoundationEssentials
import HTTPServer
import HelmBundle

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
        switch issuer.availability(now: now) {
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
            case .emptyCommonName, .commonNameTooLong, .commonNameHasControlCharacters:
                throw ProblemDetails(.personalCertificateForbidden, status: 403, title: "Forbidden", detail: error.description)
            case .nonPositiveTTL, .authorityExpired, .openSSL:
                throw Self.unavailable(error.description)
            }
        }
        var headers = HTTPHeaders()
        let body: [UInt8]
        if let generated {
            do {
                body = try ValidatedBundle.archive(
                    ca: rendered.bundle.files.ca, certificate: certificate.pem, key: try generated.pkcs8PEM(),
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

    /// The ledger as `GET …/certificates` answers it (JSON, RFC 3339 dates, sorted keys).
    public func ledgerResponse(now: Date = Date()) -> HTTPResponse {
        struct Document: Encodable {
            var certificates: [CertificateLedger.Entry]
            var dropped: Int
            var capacity: Int
        }
        let listing = ledger.listing(now: now)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        // Strings, numbers and dates always encode.
        let body = Array(try! encoder.encode(Document(
            certificates: listing.certificates, dropped: listing.dropped, capacity: listing.capacity))) + [0x0A]
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/json")
        headers.add("Cache-Control", "no-store")
        return HTTPResponse(status: 200, headers: headers, body: body)
    }

    /// The 503 for an issuer that cannot sign now.
    static func unavailable(_ reason: String) -> ProblemDetails {
        ProblemDetails(
            .issuingUnavailable, status: 503, title: "Service Unavailable",
            detail: "personal certificates cannot be issued now: \(reason)")
    }
}

extension ProblemDetails: Error {}
