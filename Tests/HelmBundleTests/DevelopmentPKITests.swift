import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("DevelopmentPKI.generate makes a CA, a Helm client certificate and a server certificate")
struct DevelopmentPKITests {
    /// The PKI's PEM files written out for the `openssl` CLI.
    private func written(_ pki: DevelopmentPKI) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("development-pki")
        try directory.write("ca.pem", pki.bundle.ca)
        try directory.write("cert.pem", pki.bundle.certificate)
        try directory.write("key.pem", pki.bundle.key)
        try directory.write("server-chain.pem", pki.serverCertificateChainPEM)
        try directory.write("server-key.pem", pki.serverKeyPEM)
        try PKIFixtures.openssl(["x509", "-in", directory.file("server-chain.pem"), "-out", directory.file("server.pem")])
        return directory
    }

    private func text(_ arguments: [String]) throws -> String { try PKIFixtures.openssl(arguments).stdoutText }

    @Test("client and server certificates verify against the CA for their purposes (openssl verify)")
    func verifies() throws {
        let pki = try DevelopmentPKI.generate()
        let directory = try written(pki)
        defer { directory.remove() }
        let ca = directory.file("ca.pem")
        #expect(try text(["verify", "-CAfile", ca, directory.file("cert.pem")]).contains("cert.pem: OK"))
        #expect(try text(["verify", "-CAfile", ca, "-purpose", "sslclient", directory.file("cert.pem")]).contains(": OK"))
        #expect(try text(["verify", "-CAfile", ca, "-purpose", "sslserver", directory.file("server.pem")]).contains(": OK"))
        let wrongPurpose = try runCommand(["openssl", "verify", "-CAfile", ca, "-purpose", "sslserver", directory.file("cert.pem")])
        #expect(wrongPurpose.status != 0, "the client certificate is not a server certificate")
    }

    @Test("the server certificate carries the requested names as DNS and IP SANs")
    func subjectAlternativeNames() throws {
        let pki = try DevelopmentPKI.generate(serverNames: ["helm-certs.kyma.local", "localhost", "10.1.2.3", "::1"])
        let directory = try written(pki)
        defer { directory.remove() }
        let san = try text(["x509", "-in", directory.file("server.pem"), "-noout", "-ext", "subjectAltName"])
        #expect(san.contains("DNS:helm-certs.kyma.local, DNS:localhost, IP Address:10.1.2.3, IP Address:0:0:0:0:0:0:0:1"))
        let subject = try text(["x509", "-in", directory.file("server.pem"), "-noout", "-subject", "-nameopt", "RFC2253"])
        #expect(subject == "subject=CN=helm-certs.kyma.local,O=kyma\n")
        let chain = try OpenSSLCertificateList(file: directory.file("server-chain.pem"))
        #expect(chain.count == 2, "server certificate followed by the CA")
    }

    @Test("keys are PKCS#8 ECDSA P-256 and match their certificates")
    func keys() throws {
        let pki = try DevelopmentPKI.generate()
        let directory = try written(pki)
        defer { directory.remove() }
        for (key, certificate) in [("key.pem", "cert.pem"), ("server-key.pem", "server.pem")] {
            let pem = String(decoding: try directory.read(key), as: UTF8.self)
            #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            #expect(try text(["pkey", "-in", directory.file(key), "-noout", "-text"]).contains("NIST CURVE: P-256"))
            let publicFromKey = try text(["pkey", "-in", directory.file(key), "-pubout"])
            let publicFromCertificate = try text(["x509", "-in", directory.file(certificate), "-noout", "-pubkey"])
            #expect(publicFromKey == publicFromCertificate, "\(key) belongs to \(certificate)")
        }
        let bundle = try ValidatedBundle(validating: pki.bundle)
        #expect(bundle.metadata.chainVerified)
        #expect(bundle.metadata.key == KeyInfo(algorithm: "EC", bits: 256, matchesCertificate: true))
    }

    @Test("the CA and the client certificate have the X509v3 extensions helm and Tiller expect")
    func extensions() throws {
        let pki = try DevelopmentPKI.generate()
        let directory = try written(pki)
        defer { directory.remove() }
        let ca = try text(["x509", "-in", directory.file("ca.pem"), "-noout", "-text"])
        #expect(ca.contains("Basic Constraints: critical\n                CA:TRUE"))
        #expect(ca.contains("Key Usage: critical\n                Certificate Sign, CRL Sign"))
        #expect(ca.contains("X509v3 Subject Key Identifier"))
        #expect(ca.contains("Signature Algorithm: ecdsa-with-SHA256"))

        let client = try text(["x509", "-in", directory.file("cert.pem"), "-noout", "-text", "-nameopt", "RFC2253"])
        #expect(client.contains("Subject: CN=helm-client,O=kyma"))
        #expect(client.contains("Extended Key Usage: \n                TLS Web Client Authentication")
            || client.contains("Extended Key Usage:\n                TLS Web Client Authentication"))
        #expect(client.contains("X509v3 Authority Key Identifier"))
        #expect(client.contains("CA:FALSE"))
        #expect(client.contains("Signature Algorithm: ecdsa-with-SHA256"))
        #expect(client.contains("Version: 3 (0x2)"))

        let server = try text(["x509", "-in", directory.file("server.pem"), "-noout", "-ext", "extendedKeyUsage"])
        #expect(server.contains("TLS Web Server Authentication"))
    }

    @Test("valid from an hour ago for 365 days, with random 128-bit serials")
    func validityAndSerials() throws {
        let before = Date()
        let first = try ValidatedBundle(validating: DevelopmentPKI.generate().bundle)
        let second = try ValidatedBundle(validating: DevelopmentPKI.generate().bundle)
        for bundle in [first, second] {
            for info in bundle.metadata.certificates.values {
                #expect(abs(info.notBefore.timeIntervalSince(before) + 3600) < 60)
                #expect(abs(info.notAfter.timeIntervalSince(before) - 365 * 86_400) < 60)
                #expect(info.serial.count == 32, "16 bytes of hex: \(info.serial)")
            }
        }
        let serials = [first, second].flatMap { $0.metadata.certificates.values.map(\.serial) }
        #expect(Set(serials).count == 4)
    }

    @Test("issuerSecretData holds the bundle's CA and its key, which issue personal certificates that chain to ca.pem")
    func issuerSecretData() throws {
        let pki = try DevelopmentPKI.generate()
        #expect(pki.issuerSecretData["ca.crt"] == pki.bundle.ca)
        let ca = try CertificateAuthority(secretData: pki.issuerSecretData, bundleCA: pki.bundle.ca)
        #expect(ca.secretKeys == .certificateAuthority)
        #expect(ca.info.subject == "CN=\(DevelopmentPKI.caCommonName),O=\(DevelopmentPKI.organization)")
        let issued = try ca.issueClientCertificate(
            commonName: "developer", publicKey: try PersonalKey.generate().publicKey, ttl: .seconds(3600))
        #expect(try PKIFixtures.verifyClientCertificate(issued.pem, caPEM: pki.bundle.ca).stdoutText.hasSuffix(": OK\n"))
        #expect(!pki.description.contains("BEGIN") && pki.description.contains("ca.key: "))
    }

    @Test("rejects server names that are not names", arguments: [[], [""], ["a,b"], ["localhost", "x y"], ["DNS:evil"]] as [[String]])
    func rejectsBadServerNames(names: [String]) throws {
        #expect(throws: BundleError.self) { try DevelopmentPKI.generate(serverNames: names) }
    }
}

/// The certificates in a PEM file, counted by the real `openssl crl2pkcs7 | openssl pkcs7 -print_certs`.
struct OpenSSLCertificateList {
    var count: Int
    init(file: String) throws {
        let pkcs7 = try PKIFixtures.openssl(["crl2pkcs7", "-nocrl", "-certfile", file]).stdout
        let printed = try PKIFixtures.openssl(["pkcs7", "-print_certs"], stdin: pkcs7).stdoutText
        count = printed.components(separatedBy: "subject=").count - 1
    }
}
