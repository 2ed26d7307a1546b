import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("CertificateAuthority.issueClientCertificate signs personal client certificates that openssl verifies for sslclient")
struct CertificateAuthorityClientCertificateTests {
    /// An issuing CA of `algorithm` and its certificate PEM (the bundle's `ca.pem`).
    private func authority(_ algorithm: PKIFixtures.Algorithm = .ecdsa) throws -> (CertificateAuthority, [UInt8]) {
        let credential = try PKIFixtures.certificateAuthority(algorithm: algorithm)
        let ca = try CertificateAuthority(
            secretData: PKIFixtures.issuerSecretData(credential), bundleCA: credential.certificatePEM)
        return (ca, credential.certificatePEM)
    }

    /// A whole second, so that certificate times (whole seconds) compare exactly.
    private let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))

    private func text(_ certificate: IssuedCertificate) throws -> String {
        try PKIFixtures.openssl(["x509", "-noout", "-text", "-nameopt", "RFC2253,-esc_msb"], stdin: certificate.pem).stdoutText
    }

    private func verify(_ certificate: IssuedCertificate, caPEM: [UInt8]) throws -> CommandResult {
        try PKIFixtures.verifyClientCertificate(certificate.pem, caPEM: caPEM)
    }

    @Test(
        "a certificate for a CSR made by openssl req verifies against ca.pem for sslclient, with the specified fields",
        arguments: [PKIFixtures.Algorithm.ecdsa, .rsa], [["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], ["rsa:2048"]])
    func fromCSR(caAlgorithm: PKIFixtures.Algorithm, newKey: [String]) throws {
        let (ca, caPEM) = try authority(caAlgorithm)
        let csr = try PKIFixtures.certificateSigningRequest(newKey: newKey, subject: "/O=system:masters/CN=admin",
            extensions: ["subjectAltName=DNS:evil.example", "extendedKeyUsage=serverAuth"])
        let request = try CertificateSigningRequest(pem: csr.csrPEM)
        let issued = try ca.issueClientCertificate(commonName: "jane@example.com", publicKey: request.publicKey, ttl: .seconds(8 * 3600), now: now)

        let verified = try verify(issued, caPEM: caPEM)
        #expect(verified.status == 0, "\(verified.stdoutText)\(verified.stderrText)")
        #expect(verified.stdoutText.hasSuffix(": OK\n"))

        let fields = try text(issued)
        #expect(fields.contains("Subject: CN=jane@example.com\n"), "CN only: no O, nothing from the CSR")
        #expect(fields.contains("Issuer: CN=tiller-ca,O=kyma\n"))
        #expect(fields.contains("X509v3 Extended Key Usage: \n                TLS Web Client Authentication\n"), "clientAuth only")
        #expect(fields.contains("X509v3 Basic Constraints: critical\n                CA:FALSE\n"))
        let rsa = newKey == ["rsa:2048"]
        #expect(fields.contains("X509v3 Key Usage: critical\n                Digital Signature\(rsa ? ", Key Encipherment" : "")\n"))
        #expect(fields.contains("X509v3 Subject Key Identifier"))
        #expect(fields.contains("X509v3 Authority Key Identifier"))
        #expect(
            fields.contains("X509v3 Certificate Policies: \n                Policy: \(CertificateAuthority.personalCertificatePolicy)\n"),
            "the marker that keeps it from authenticating to helm-cert-server, not critical")
        #expect(!fields.contains("Subject Alternative Name") && !fields.contains("evil.example"))
        #expect(fields.contains("Signature Algorithm: \(caAlgorithm == .rsa ? "sha256WithRSAEncryption" : "ecdsa-with-SHA256")"))
        #expect(fields.contains("Version: 3 (0x2)"))
        // The public key is the CSR's.
        let fromCSR = try PKIFixtures.openssl(["req", "-noout", "-pubkey"], stdin: csr.csrPEM).stdoutText
        #expect(try PKIFixtures.openssl(["x509", "-noout", "-pubkey"], stdin: issued.pem).stdoutText == fromCSR)
    }

    @Test("serial, subject, dates and fingerprint are what openssl x509 reads from the PEM")
    func reportedFields() throws {
        let (ca, _) = try authority()
        let issued = try ca.issueClientCertificate(
            commonName: "jane", publicKey: try PersonalKey.generate().publicKey, ttl: .seconds(3600), now: now)
        #expect(issued.info == (try OpenSSLCertificateFacts(certificatePEM: issued.pem)).info)
        #expect(issued.subject == "CN=jane")
        #expect(issued.info.issuer == "CN=tiller-ca,O=kyma")
    }

    @Test("valid from a minute before now (clock skew) for the TTL asked for")
    func validity() throws {
        let (ca, _) = try authority()
        let issued = try ca.issueClientCertificate(
            commonName: "jane", publicKey: try PersonalKey.generate().publicKey, ttl: .seconds(8 * 3600), now: now)
        let facts = try OpenSSLCertificateFacts(certificatePEM: issued.pem)
        #expect(facts.notBefore == now.addingTimeInterval(-60))
        #expect(facts.notAfter == now.addingTimeInterval(8 * 3600))
        #expect(CertificateAuthority.clockSkewAllowance == .seconds(60))
    }

    @Test("never valid past the CA's own notAfter")
    func cappedAtAuthorityNotAfter() throws {
        let (ca, caPEM) = try authority()
        let caNotAfter = try OpenSSLCertificateFacts(certificatePEM: caPEM).notAfter
        let key = try PersonalKey.generate().publicKey
        let issued = try ca.issueClientCertificate(commonName: "jane", publicKey: key, ttl: .seconds(20 * 366 * 86_400), now: now)
        #expect(try OpenSSLCertificateFacts(certificatePEM: issued.pem).notAfter == caNotAfter)
        let lastSecond = try ca.issueClientCertificate(
            commonName: "jane", publicKey: key, ttl: .seconds(3600), now: caNotAfter.addingTimeInterval(-1))
        #expect(lastSecond.notAfter == caNotAfter)
        #expect(throws: ClientCertificateError.authorityExpired(notAfter: caNotAfter)) {
            try ca.issueClientCertificate(commonName: "jane", publicKey: key, ttl: .seconds(3600), now: caNotAfter)
        }
    }

    @Test("1,000 certificates issued from 4 threads have 1,000 distinct random 128-bit serials")
    func serials() async throws {
        let (ca, _) = try authority()
        let key = try PersonalKey.generate().publicKey
        let serials = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try (0..<250).map { _ in try ca.issueClientCertificate(commonName: "jane", publicKey: key, ttl: .seconds(60)).serial }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(serials.count == 1000)
        #expect(Set(serials).count == 1000)
        for serial in serials {
            // 32 hex digits, the top one 4…F: between 2^126 and 2^128, a 128-bit number.
            #expect(serial.count == 32 && serial.allSatisfy(\.isHexDigit) && "456789ABCDEF".contains(serial.first!), "\(serial)")
        }
        // Every bit position below the fixed one varies: the serials are random, not counted.
        let values = serials.map { Array($0.utf8) }
        for position in 1..<32 {
            #expect(Set(values.map { $0[position] }).count > 8, "hex digit \(position) hardly varies")
        }
    }

    @Test(
        "the common name is the caller's identity as given: any UTF-8, unescaped, as a UTF8String",
        arguments: ["jane@example.com", "system:serviceaccount:ci:deployer", "Zoë Ørsted 🚀", "a,b+c=\"d\"<e>;f\\g",
                    String(repeating: "é", count: 64)])
    func commonNames(commonName: String) throws {
        let (ca, caPEM) = try authority()
        let issued = try ca.issueClientCertificate(commonName: commonName, publicKey: try PersonalKey.generate().publicKey, ttl: .seconds(60))
        let subject = try PKIFixtures.openssl(["x509", "-noout", "-subject", "-nameopt", "sep_multiline,lname,utf8,-esc_msb"], stdin: issued.pem).stdoutText
        #expect(subject == "subject=\n    commonName=\(commonName)\n", "no escapes: the bytes are the name's")
        let asn1 = try PKIFixtures.openssl(["asn1parse", "-i"], stdin: issued.pem).stdoutText
        #expect(asn1.contains("UTF8STRING"))
        #expect(try verify(issued, caPEM: caPEM).status == 0)
    }

    /// Why a certificate naming a given identity is refused by a fresh CA, or nil when it is issued.
    private func commonNameRefusal() throws -> (String) -> ClientCertificateError? {
        let (ca, _) = try authority()
        let key = try PersonalKey.generate().publicKey
        return { name in
            do throws(ClientCertificateError) {
                _ = try ca.issueClientCertificate(commonName: name, publicKey: key, ttl: .seconds(60))
                return nil
            } catch {
                return error
            }
        }
    }

    @Test("an empty identity, one over 64 characters, or one with control characters is refused")
    func badCommonNames() throws {
        let refusal = try commonNameRefusal()
        #expect(CertificateAuthority.maximumCommonNameLength == 64)
        #expect(refusal("") == .emptyCommonName)
        #expect(refusal(String(repeating: "a", count: 65)) == .commonNameTooLong(characters: 65))
        #expect(refusal(String(repeating: "é", count: 65)) == .commonNameTooLong(characters: 65))
        #expect(refusal(String(repeating: "a", count: 64)) == nil)
        for name in ["a\nb", "a\0b", "tab\there", "del\u{7F}", "c1\u{85}"] {
            #expect(refusal(name) == .commonNameHasControlCharacters, "\(name.debugDescription)")
        }
    }

    @Test("an identity with an invisible character (Cf, Zl, Zp) is refused, naming it; visible non-ASCII is fine")
    func invisibleCharacters() throws {
        let refusal = try commonNameRefusal()
        let cases: [(String, String)] = [
            ("al\u{200B}ice", "U+200B"), ("\u{202E}ecila", "U+202E"), ("a\u{2028}b", "U+2028"), ("a\u{2029}b", "U+2029"),
            ("bob\u{FEFF}", "U+FEFF"), ("a\u{200D}b", "U+200D"), ("tag\u{E0041}", "U+E0041"),
        ]
        for (name, scalar) in cases {
            let error = refusal(name)
            #expect(error == .commonNameHasInvisibleCharacters(scalar), "\(name.debugDescription)")
            #expect(error?.description.contains(scalar) == true)
        }
        #expect(refusal("Zoë Ørsted 🚀") == nil)
        #expect(refusal("jane doe") == nil, "a space is visible enough")
    }

    @Test("a TTL under one second is refused")
    func badTTL() throws {
        let (ca, _) = try authority()
        let key = try PersonalKey.generate().publicKey
        for ttl: Duration in [.zero, .seconds(-5), .milliseconds(999)] {
            #expect(throws: ClientCertificateError.nonPositiveTTL) {
                try ca.issueClientCertificate(commonName: "jane", publicKey: key, ttl: ttl)
            }
        }
    }
}
