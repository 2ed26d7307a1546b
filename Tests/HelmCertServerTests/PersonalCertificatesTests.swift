import Foundation
import HTTPServer
import HelmBundle
import Testing
@testable import HelmCertServer
import TestSupport

/// The issuing routes through the responder (no sockets), judged by the real `openssl` and `tar`.
@Suite("Personal certificates: issuing routes, TTLs, refusals, the ledger")
struct PersonalCertificatesTests {
    /// A bundle and the issuer Secret of its CA.
    struct PKI {
        let authority: PKIFixtures.Credential
        let files: BundleFiles

        init() throws {
            authority = try PKIFixtures.certificateAuthority()
            let client = try PKIFixtures.issue(by: authority)
            files = BundleFiles(ca: authority.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM)
        }

        var issuerData: [String: [UInt8]] { PKIFixtures.issuerSecretData(authority) }

        func fixture(
            lifetime: CertificateLifetime = CertificateLifetime(), queueLimits: IssuingQueue.Limits = .init(),
            ledgerCapacity: Int = CertificateLedger.defaultCapacity
        ) throws -> ResponderFixture {
            try ResponderFixture(
                files: files, issuer: issuerData, lifetime: lifetime, queueLimits: queueLimits, ledgerCapacity: ledgerCapacity)
        }
    }

    static let archivePath = "/v1/bundles/helm/personal.tar.gz"
    static let certificatesPath = "/v1/bundles/helm/certificates"
    static let pkcs10 = [("Content-Type", "application/pkcs10")]

    /// `openssl x509 -noout <options>` of `pem`.
    static func x509(_ pem: [UInt8], _ options: [String]) throws -> String {
        try PKIFixtures.openssl(["x509", "-noout"] + options, stdin: pem).stdoutText
    }

    /// `notAfter - notBefore` of `pem`, in seconds.
    static func validity(_ pem: [UInt8]) throws -> TimeInterval {
        let text = try x509(pem, ["-startdate", "-enddate"])
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        var dates: [Date] = []
        for line in text.split(separator: "\n") {
            let value = line.split(separator: "=", maxSplits: 1)[1].split(separator: " ").filter { !$0.isEmpty }.joined(separator: " ")
            dates.append(try #require(formatter.date(from: value), "\(value)"))
        }
        return dates[1].timeIntervalSince(dates[0])
    }

    @Test("personal.tar.gz holds ca.pem, a certificate for the caller that chains to it, and its fresh key (0600); no-store")
    func generatedArchive() throws {
        let pki = try PKI()
        let fixture = try pki.fixture()
        let response = fixture.send(Self.archivePath, method: .post)
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        #expect(response.headers["Content-Type"] == "application/gzip")
        #expect(response.headers["Cache-Control"] == "no-store")
        let directory = try TemporaryDirectory("personal")
        defer { directory.remove() }
        let listing = try runCommand(["tar", "-tvzf", "-"], stdin: response.body).stdoutText
        #expect(listing.split(separator: "\n").contains { $0.hasPrefix("-rw------- ") && $0.hasSuffix(" key.pem") }, "\(listing)")
        #expect(listing.split(separator: "\n").contains { $0.hasPrefix("-rw-r--r-- ") && $0.hasSuffix(" cert.pem") }, "\(listing)")
        try runCommand(["tar", "-xzf", "-", "-C", directory.path], stdin: response.body)
        #expect(try directory.read("ca.pem") == pki.files.ca)
        let certificate = try directory.read("cert.pem")
        #expect(try PKIFixtures.verifyClientCertificate(certificate, caPEM: pki.files.ca).status == 0)
        #expect(try Self.x509(certificate, ["-subject", "-nameopt", "RFC2253"]).contains("subject=CN=alice"))
        #expect(try Self.x509(certificate, ["-ext", "extendedKeyUsage"]).contains("TLS Web Client Authentication"))
        // The key is the certificate's.
        let keyPublic = try PKIFixtures.openssl(["pkey", "-pubout"], stdin: try directory.read("key.pem")).stdoutText
        let certificatePublic = try Self.x509(certificate, ["-pubkey"])
        #expect(keyPublic == certificatePublic)
        #expect(abs(try Self.validity(certificate) - (8 * 3600 + 60)) <= 2, "8h from a minute ago by default")
    }

    @Test("a CSR made by openssl req is signed: the key never leaves the client, the CN is the caller")
    func signingRequest() throws {
        let pki = try PKI()
        let fixture = try pki.fixture()
        let (csr, key) = try PKIFixtures.certificateSigningRequest(subject: "/CN=root")
        let response = fixture.send(Self.certificatesPath, method: .post, query: "ttl=30m", headers: Self.pkcs10, body: csr)
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        #expect(response.headers["Content-Type"] == "application/x-pem-file")
        #expect(response.headers["Cache-Control"] == "no-store")
        #expect(try PKIFixtures.verifyClientCertificate(response.body, caPEM: pki.files.ca).status == 0)
        #expect(try Self.x509(response.body, ["-subject", "-nameopt", "RFC2253"]) == "subject=CN=alice\n")
        let keyPublic = try PKIFixtures.openssl(["pkey", "-pubout"], stdin: key).stdoutText
        #expect(try Self.x509(response.body, ["-pubkey"]) == keyPublic)
        #expect(abs(try Self.validity(response.body) - (1800 + 60)) <= 2)
    }

    @Test("two certificates get different serials, both in the ledger with who holds them")
    func serialsAndLedger() throws {
        let pki = try PKI()
        let fixture = try pki.fixture()
        let first = fixture.send(Self.certificatesPath, method: .post, headers: Self.pkcs10, body: try PKIFixtures.certificateSigningRequest().csrPEM)
        let second = fixture.send(Self.archivePath, method: .post)
        #expect(first.status == 200 && second.status == 200)
        let serial = try Self.x509(first.body, ["-serial"]).dropFirst("serial=".count).trimmingCharacters(in: .whitespacesAndNewlines)
        let ledger = fixture.send(Self.certificatesPath, headers: [ResponderFixture.ledgerReader], authorized: false)
        #expect(ledger.status == 200)
        #expect(ledger.headers["Content-Type"] == "application/json")
        struct Listing: Decodable {
            struct Entry: Decodable { var user, serial, subject, sha256: String; var notBefore, notAfter: String }
            var certificates: [Entry]
            var dropped: Int
            var capacity: Int
        }
        let listing = try JSONDecoder().decode(Listing.self, from: Data(ledger.body))
        #expect(listing.certificates.count == 2)
        #expect(Set(listing.certificates.map(\.serial)).count == 2, "serials differ")
        #expect(listing.certificates.contains { $0.serial == serial && $0.user == "alice" && $0.subject == "CN=alice" })
        #expect(listing.dropped == 0 && listing.capacity == CertificateLedger.defaultCapacity)
        let metrics = String(decoding: fixture.metrics.exposition(store: fixture.store, openConnections: 0), as: UTF8.self)
        #expect(metrics.contains(#"helm_cert_server_certificates_issued_total{how="csr"} 1"#))
        #expect(metrics.contains(#"helm_cert_server_certificates_issued_total{how="generated"} 1"#))
    }

    @Test("the ledger answer is compact JSON of at most ?limit= entries (default 100, at most 1,000), saying total and truncated; a bad limit is 400")
    func ledgerLimit() throws {
        let fixture = try PKI().fixture()
        for _ in 0..<3 { #expect(fixture.send(Self.archivePath, method: .post).status == 200) }
        struct Listing: Decodable {
            var certificates: [[String: String]]
            var total: Int
            var truncated: Bool
        }
        func list(_ query: String?) throws -> (HTTPResponse, Listing?) {
            let response = fixture.send(Self.certificatesPath, query: query, headers: [ResponderFixture.ledgerReader], authorized: false)
            return (response, try? JSONDecoder().decode(Listing.self, from: Data(response.body)))
        }
        let (all, listing) = try list(nil)
        #expect(all.status == 200 && listing?.certificates.count == 3 && listing?.total == 3 && listing?.truncated == false)
        #expect(!all.bodyText.contains("\n  ") && !all.bodyText.contains("\" : "), "compact: \(all.bodyText)")
        let (two, cut) = try list("limit=2")
        #expect(two.status == 200 && cut?.certificates.count == 2 && cut?.total == 3 && cut?.truncated == true)
        for bad in ["limit=0", "limit=1001", "limit=x", "limit=", "limit=1&limit=2", "limit=-1"] {
            let (refused, _) = try list(bad)
            #expect(refused.status == 400, "\(bad)")
            #expect(refused.bodyText.contains(ProblemType.invalidLimit.uri), "\(bad)")
        }
        #expect(try list("limit=1000").0.status == 200)
        #expect(PersonalCertificates.defaultLedgerLimit == 100)
    }

    @Test("the encoded ledger answer is reused until the ledger changes, then made again")
    func ledgerAnswerCached() throws {
        let pki = try PKI()
        let fixture = try pki.fixture()
        let personal = try #require(fixture.personal)
        #expect(fixture.send(Self.archivePath, method: .post).status == 200)
        let first = try personal.ledgerResponse()
        let again = try personal.ledgerResponse()
        let firstAddress = first.body.withUnsafeBufferPointer { $0.baseAddress }
        #expect(again.body.withUnsafeBufferPointer { $0.baseAddress } == firstAddress, "the same bytes, not encoded again")
        #expect(fixture.send(Self.archivePath, method: .post).status == 200)
        let changed = try personal.ledgerResponse()
        #expect(changed.body != first.body && changed.bodyText.contains(#""total":2"#))
    }

    @Test("an entry the full ledger drops is counted in helm_cert_server_ledger_dropped_total by reason")
    func ledgerDropsCounted() throws {
        let fixture = try PKI().fixture(ledgerCapacity: 1)
        #expect(fixture.send(Self.archivePath, method: .post).status == 200)
        #expect(fixture.send(Self.archivePath, method: .post).status == 200)
        let metrics = String(decoding: fixture.metrics.exposition(store: fixture.store, openConnections: 0), as: UTF8.self)
        #expect(metrics.contains(#"helm_cert_server_ledger_dropped_total{reason="full"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"helm_cert_server_ledger_dropped_total{reason="user_full"} 0"#))
    }

    @Test("each issued certificate is one audit line naming it; the key is never in an audit line")
    func audit() throws {
        let pki = try PKI()
        let fixture = try pki.fixture()
        let response = fixture.send(Self.archivePath, method: .post)
        #expect(response.status == 200)
        let directory = try TemporaryDirectory("personal-audit")
        defer { directory.remove() }
        try runCommand(["tar", "-xzf", "-", "-C", directory.path], stdin: response.body)
        let keyBody = String(decoding: try directory.read("key.pem"), as: UTF8.self)
            .split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        let serial = try Self.x509(try directory.read("cert.pem"), ["-serial"]).dropFirst("serial=".count)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let lines = try fixture.auditLines()
        let line = try #require(lines.last)
        #expect(line.contains(#""certificate":{"serial":"\#(serial)","subject":"CN=alice""#), "\(line)")
        #expect(line.contains(#""how":"generated""#))
        #expect(line.contains(#""user":"alice""#))
        for chunk in stride(from: 0, to: keyBody.count - 24, by: 24) {
            let piece = String(keyBody.dropFirst(chunk).prefix(24))
            #expect(!lines.joined().contains(piece), "a piece of the key is in the audit log")
        }
    }

    @Test("?ttl= up to --issue-max-ttl is taken; longer is 400 naming the limit; never past the CA's notAfter")
    func ttl() throws {
        let pki = try PKI()
        let fixture = try pki.fixture(lifetime: CertificateLifetime(maxTTL: .seconds(2 * 3600)))
        let ok = fixture.send(Self.archivePath, method: .post, query: "ttl=2h")
        #expect(ok.status == 200)
        let tooLong = fixture.send(Self.archivePath, method: .post, query: "ttl=3h")
        #expect(tooLong.status == 400)
        let detail = String(decoding: tooLong.body, as: UTF8.self)
        #expect(detail.contains(ProblemType.invalidTTL.uri) && detail.contains("at most 2h"))
        #expect(fixture.send(Self.archivePath, method: .post, query: "ttl=soon").status == 400)

        // The CA (10 years) ends long before a year's ttl only if it is short: a CA valid 30 days caps at 30 days.
        let shortCA = try PKIFixtures.selfSigned(extensions: ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign"])
        let client = try PKIFixtures.issue(by: shortCA)
        let capped = try ResponderFixture(
            files: BundleFiles(ca: shortCA.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM),
            issuer: PKIFixtures.issuerSecretData(shortCA), lifetime: CertificateLifetime(maxTTL: CertificateLifetime.longestMaxTTL))
        let long = capped.send(Self.archivePath, method: .post, query: "ttl=8000h")
        #expect(long.status == 200)
        let directory = try TemporaryDirectory("capped")
        defer { directory.remove() }
        try runCommand(["tar", "-xzf", "-", "-C", directory.path], stdin: long.body)
        let issuedEnd = try Self.x509(try directory.read("cert.pem"), ["-enddate"])
        #expect(issuedEnd == (try Self.x509(shortCA.certificatePEM, ["-enddate"])))
    }

    @Test("a malformed, foreign or CA-asking CSR is 400 with a detail saying what to send; a wrong media type 415",
          arguments: ["garbage", "private key", "CA"])
    func badSigningRequests(kind: String) throws {
        let pki = try PKI()
        let fixture = try pki.fixture()
        let body: [UInt8]
        switch kind {
        case "garbage": body = Array("not a request".utf8)
        case "private key": body = pki.authority.keyPEM
        default: body = try PKIFixtures.certificateSigningRequest(extensions: ["basicConstraints=critical,CA:TRUE"]).csrPEM
        }
        let response = fixture.send(Self.certificatesPath, method: .post, headers: Self.pkcs10, body: body)
        #expect(response.status == 400)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains(ProblemType.invalidCertificateRequest.uri))
        #expect(text.contains("openssl req"), "the detail says how to make a good one: \(text)")
        #expect(!text.contains("PRIVATE KEY-----"), "never echoed")
        #expect(fixture.personal?.ledger.count == 0, "nothing was issued")

        let wrongType = fixture.send(Self.certificatesPath, method: .post, headers: [("Content-Type", "text/plain")], body: body)
        #expect(wrongType.status == 415)
    }

    @Test("a caller authenticated by a client certificate is refused a personal certificate (403)")
    func mutualTLSCallersAreRefused() throws {
        let fixture = try PKI().fixture()
        let response = fixture.send(Self.archivePath, method: .post, authorized: false, clientCN: "alice")
        #expect(response.status == 403)
        #expect(response.bodyText.contains(ProblemType.personalCertificateForbidden.uri))
    }

    @Test("on the issuing routes a bearer token wins over a client certificate sent with it; elsewhere the certificate does")
    func tokenWinsOnIssuingRoutes() throws {
        let fixture = try PKI().fixture()
        let both = fixture.send(Self.archivePath, method: .post, authorized: true, clientCN: "shared-helm-client")
        #expect(both.status == 200)
        #expect(try fixture.auditLines().last?.contains(#""user":"alice","authMethod":"token""#) == true)
        #expect(fixture.send("/v1/bundles/helm/ca.pem", authorized: true, clientCN: "shared-helm-client").status == 200)
        #expect(try fixture.auditLines().last?.contains(#""user":"shared-helm-client","authMethod":"mtls""#) == true)
    }

    @Test("the ledger is for operators: a static-token user needs the ledger-readers group; an mTLS caller never reads it")
    func ledgerReaders() throws {
        let fixture = try PKI().fixture()
        let plain = fixture.send(Self.certificatesPath)
        #expect(plain.status == 403)
        #expect(plain.bodyText.contains(HelmCertResponder.ledgerReadersGroup) && plain.bodyText.contains("alice"))
        #expect(try fixture.auditLines().last?.contains(#""user":"alice","authMethod":"token""#) == true)
        #expect(fixture.send(Self.certificatesPath, method: .head).status == 403)
        let mtls = fixture.send(Self.certificatesPath, authorized: false, clientCN: "olga")
        #expect(mtls.status == 403 && mtls.bodyText.contains("client certificate"))
        #expect(fixture.send(Self.certificatesPath, headers: [ResponderFixture.ledgerReader], authorized: false).status == 200)
        #expect(fixture.send(Self.archivePath, method: .post).status == 200, "issuing needs no group")
    }

    @Test("each path answers other methods 405 with its own Allow", arguments: [
        (archivePath, HTTPMethod.get, "POST"), (certificatesPath, .put, "GET, HEAD, POST"),
        ("/v1/bundles/helm/ca.pem", .post, "GET, HEAD"), ("/v1/bundles/helm", .delete, "GET, HEAD"),
    ])
    func methods(path: String, method: HTTPMethod, allow: String) throws {
        let fixture = try PKI().fixture()
        let response = fixture.send(path, method: method)
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == allow)
    }

    @Test("without an issuer the issuing routes are 503 saying issuing is off; /readyz says so in a line")
    func off() throws {
        let fixture = try ResponderFixture()
        #expect(fixture.send("/readyz", authorized: false).bodyText.contains("\nissuing: off (no --issuer-secret)\n"))
        let listing = fixture.send(Self.certificatesPath, headers: [ResponderFixture.ledgerReader], authorized: false)
        for response in [fixture.send(Self.archivePath, method: .post), listing] {
            #expect(response.status == 503)
            #expect(response.bodyText.contains(ProblemType.issuingUnavailable.uri) && response.bodyText.contains("--issuer-secret"))
        }
    }

    @Test("an issuer that is not the bundle's CA is not ready: 503 naming the key, /readyz says so and stays 200")
    func foreignIssuer() throws {
        let pki = try PKI()
        let foreign = try PKIFixtures.certificateAuthority(commonName: "foreign-ca")
        let fixture = try ResponderFixture(files: pki.files, issuer: PKIFixtures.issuerSecretData(foreign))
        let response = fixture.send(Self.archivePath, method: .post)
        #expect(response.status == 503)
        #expect(response.headers["Retry-After"] != nil)
        #expect(response.bodyText.contains("ca.crt") && response.bodyText.contains("not the CA in the bundle"))
        let ready = fixture.send("/readyz", authorized: false)
        #expect(ready.status == 200)
        #expect(ready.bodyText.contains("issuing: not ready: the test issuer is not usable"), "\(ready.bodyText)")
    }

    @Test("beyond the queue's places a request is 503 issuing-busy with Retry-After, at once")
    func busy() throws {
        let fixture = try PKI().fixture(queueLimits: .init(concurrency: 1, maxPending: 1, maxPendingPerClient: 1))
        let queue = try #require(fixture.personal?.queue)
        let release = DispatchSemaphore(value: 0), started = DispatchSemaphore(value: 0)
        try queue.submit(from: "10.9.9.9:1", user: "filler", hasLeft: { false }) { _ in
            started.signal()
            release.wait()
        }
        started.wait()
        let response = fixture.send(Self.archivePath, method: .post)
        release.signal()
        #expect(response.status == 503)
        #expect(response.bodyText.contains(ProblemType.issuingBusy.uri))
        #expect(response.headers["Retry-After"] == "1")
    }
}

extension HTTPResponse {
    var bodyText: String { String(decoding: body, as: UTF8.self) }
}
