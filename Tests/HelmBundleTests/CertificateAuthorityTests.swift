import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("CertificateAuthority reads the issuer Secret and accepts only ca.pem's CA, with its own key, unexpired")
struct CertificateAuthorityTests {
    private func refusal(_ data: [String: [UInt8]], bundleCA: [UInt8], now: Date = Date()) -> CertificateAuthorityError? {
        do {
            _ = try CertificateAuthority(secretData: data, bundleCA: bundleCA, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "ca.crt + ca.key of an RSA or ECDSA CA, key in PKCS#8 or traditional form, is accepted",
        arguments: [PKIFixtures.Algorithm.ecdsa, .rsa], PKIFixtures.KeyFormat.allCases)
    func acceptsCAPair(algorithm: PKIFixtures.Algorithm, keyFormat: PKIFixtures.KeyFormat) throws {
        var authority = try PKIFixtures.certificateAuthority(algorithm: algorithm)
        if keyFormat == .traditional {
            authority.keyPEM = try PKIFixtures.openssl(["pkey", "-traditional"], stdin: authority.keyPEM).stdout
        }
        let ca = try CertificateAuthority(secretData: PKIFixtures.issuerSecretData(authority), bundleCA: authority.certificatePEM)
        #expect(ca.secretKeys == .certificateAuthority)
        #expect(ca.info.subject == "CN=tiller-ca,O=kyma")
        #expect(ca.info == (try OpenSSLCertificateFacts(certificatePEM: authority.certificatePEM)).info)
    }

    @Test("cert-manager's self-signed CA Secret (tls.crt, tls.key, and ca.crt = itself) is read from tls.*")
    func acceptsCertManagerSelfSignedCA() throws {
        let authority = try PKIFixtures.certificateAuthority()
        var data = PKIFixtures.issuerSecretData(authority, keys: .kubernetesTLS)
        data["ca.crt"] = authority.certificatePEM
        let ca = try CertificateAuthority(secretData: data, bundleCA: authority.certificatePEM)
        #expect(ca.secretKeys == .kubernetesTLS)
    }

    @Test("cert-manager's intermediate CA Secret (tls.crt = the intermediate and its root, ca.crt = the root) issues as the intermediate")
    func acceptsCertManagerIntermediateCA() throws {
        let root = try PKIFixtures.certificateAuthority(commonName: "root-ca")
        let intermediate = try PKIFixtures.issue(by: root, commonName: "tiller-ca", certificateAuthority: true)
        let data: [String: [UInt8]] = [
            "tls.crt": intermediate.certificatePEM + root.certificatePEM, "tls.key": intermediate.keyPEM,
            "ca.crt": root.certificatePEM,
        ]
        let ca = try CertificateAuthority(secretData: data, bundleCA: root.certificatePEM + intermediate.certificatePEM)
        #expect(ca.secretKeys == .kubernetesTLS)
        #expect(ca.info.subject == "CN=tiller-ca,O=kyma")
        // ca.crt (the root) is not what signs: with only the root in ca.pem, the intermediate is refused.
        #expect(refusal(data, bundleCA: root.certificatePEM)
            == .notBundleCA(key: "tls.crt", subject: "CN=tiller-ca,O=kyma", bundleSubjects: ["CN=root-ca,O=kyma"]))
    }

    @Test("with both pairs present, ca.crt + ca.key wins")
    func caPairWins() throws {
        let authority = try PKIFixtures.certificateAuthority()
        let serving = try PKIFixtures.issue(by: authority, commonName: "server", extendedKeyUsage: "serverAuth")
        let data = PKIFixtures.issuerSecretData(authority).merging(PKIFixtures.issuerSecretData(serving, keys: .kubernetesTLS)) { a, _ in a }
        #expect(data.count == 4)
        #expect(try CertificateAuthority(secretData: data, bundleCA: authority.certificatePEM).secretKeys == .certificateAuthority)
    }

    @Test("a renewed CA certificate (same subject and key, new serial and dates) is ca.pem's CA; its signatures verify against the old copy")
    func acceptsRenewedCA() throws {
        let authority = try PKIFixtures.certificateAuthority()
        let renewed = try PKIFixtures.renewed(authority)
        #expect(renewed.certificatePEM != authority.certificatePEM)
        let ca = try CertificateAuthority(secretData: PKIFixtures.issuerSecretData(renewed), bundleCA: authority.certificatePEM)
        let issued = try ca.issueClientCertificate(
            commonName: "renewal", publicKey: try PersonalKey.generate().publicKey, ttl: .seconds(3600))
        let verify = try PKIFixtures.verifyClientCertificate(issued.pem, caPEM: authority.certificatePEM)
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")
    }

    @Test("a Secret with neither ca.key nor tls.key, or a key without its certificate, names what is missing")
    func missingKeys() throws {
        let authority = try PKIFixtures.certificateAuthority()
        let bundleCA = authority.certificatePEM
        #expect(refusal([:], bundleCA: bundleCA) == .noKeyPair)
        #expect(refusal(["ca.crt": authority.certificatePEM, "tls.crt": authority.certificatePEM], bundleCA: bundleCA) == .noKeyPair)
        #expect(refusal(["ca.key": authority.keyPEM], bundleCA: bundleCA) == .missing(key: "ca.crt", pairedWith: "ca.key"))
        // No guessing across pairs: tls.key with only ca.crt beside it is not a pair.
        #expect(refusal(["ca.crt": authority.certificatePEM, "tls.key": authority.keyPEM], bundleCA: bundleCA)
            == .missing(key: "tls.crt", pairedWith: "tls.key"))
    }

    @Test("a certificate or key that is not PEM, is encrypted, or does not parse is refused, naming its key")
    func unreadable() throws {
        let authority = try PKIFixtures.certificateAuthority()
        let bundleCA = authority.certificatePEM
        func with(_ key: String, _ bytes: [UInt8]) -> [String: [UInt8]] {
            var data = PKIFixtures.issuerSecretData(authority)
            data[key] = bytes
            return data
        }
        let der = try PKIFixtures.openssl(["x509", "-outform", "DER"], stdin: authority.certificatePEM).stdout
        #expect(refusal(with("ca.crt", der), bundleCA: bundleCA) == .notPEM(key: "ca.crt", expected: "CERTIFICATE"))
        #expect(refusal(with("ca.crt", authority.keyPEM), bundleCA: bundleCA) == .notPEM(key: "ca.crt", expected: "CERTIFICATE"))
        #expect(refusal(with("ca.key", authority.certificatePEM), bundleCA: bundleCA)?.secretKey == "ca.key")
        #expect(refusal(with("ca.key", []), bundleCA: bundleCA)?.secretKey == "ca.key")

        let encrypted = try PKIFixtures.openssl(["pkey", "-aes256", "-passout", "pass:secret"], stdin: authority.keyPEM).stdout
        #expect(refusal(with("ca.key", encrypted), bundleCA: bundleCA) == .encryptedKey(key: "ca.key"))

        let corrupt = Array("-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOC\n-----END CERTIFICATE-----\n".utf8)
        guard case .unreadable(key: "ca.crt", _) = refusal(with("ca.crt", corrupt), bundleCA: bundleCA) else {
            Issue.record("expected .unreadable for ca.crt, got \(String(describing: refusal(with("ca.crt", corrupt), bundleCA: bundleCA)))")
            return
        }
        let corruptKey = Array("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n".utf8)
        guard case .unreadable(key: "ca.key", _) = refusal(with("ca.key", corruptKey), bundleCA: bundleCA) else {
            Issue.record("expected .unreadable for ca.key")
            return
        }
    }

    @Test("a leaf certificate, or a CA certificate without basicConstraints, is not a CA")
    func notACertificateAuthority() throws {
        let authority = try PKIFixtures.certificateAuthority()
        let leaf = try PKIFixtures.issue(by: authority)
        #expect(refusal(PKIFixtures.issuerSecretData(leaf), bundleCA: authority.certificatePEM + leaf.certificatePEM)
            == .notCertificateAuthority(key: "ca.crt"))
        let noConstraints = try PKIFixtures.selfSigned(extensions: ["keyUsage=critical,keyCertSign"])
        #expect(refusal(PKIFixtures.issuerSecretData(noConstraints), bundleCA: noConstraints.certificatePEM)
            == .notCertificateAuthority(key: "ca.crt"))
        let caFalse = try PKIFixtures.selfSigned(extensions: ["basicConstraints=critical,CA:FALSE"])
        #expect(refusal(PKIFixtures.issuerSecretData(caFalse), bundleCA: caFalse.certificatePEM)
            == .notCertificateAuthority(key: "ca.crt"))
    }

    @Test("a CA whose keyUsage lacks keyCertSign cannot sign; one with no keyUsage at all can")
    func keyUsage() throws {
        let noCertSign = try PKIFixtures.selfSigned(
            extensions: ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,digitalSignature,cRLSign"])
        #expect(refusal(PKIFixtures.issuerSecretData(noCertSign), bundleCA: noCertSign.certificatePEM)
            == .cannotSignCertificates(key: "ca.crt"))
        let noKeyUsage = try PKIFixtures.selfSigned(extensions: ["basicConstraints=critical,CA:TRUE"])
        #expect(refusal(PKIFixtures.issuerSecretData(noKeyUsage), bundleCA: noKeyUsage.certificatePEM) == nil)
    }

    @Test("a CA without subjectKeyIdentifier is refused at load, saying how to fix it: every issue would fail")
    func noSubjectKeyIdentifier() throws {
        let noSKI = try PKIFixtures.selfSigned(extensions: [
            "basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign", "subjectKeyIdentifier=none",
            "authorityKeyIdentifier=none",
        ])
        let text = try PKIFixtures.openssl(["x509", "-noout", "-text"], stdin: noSKI.certificatePEM).stdoutText
        #expect(!text.contains("Subject Key Identifier"), "the fixture has none")
        let error = refusal(PKIFixtures.issuerSecretData(noSKI), bundleCA: noSKI.certificatePEM)
        #expect(error == .noSubjectKeyIdentifier(key: "ca.crt"))
        #expect(error?.description.contains("subjectKeyIdentifier=hash") == true)
    }

    @Test("an Ed25519 CA is refused: certificates are signed with SHA-256")
    func unsupportedKeyType() throws {
        let authority = try PKIFixtures.certificateAuthority(algorithm: .ed25519)
        #expect(refusal(PKIFixtures.issuerSecretData(authority), bundleCA: authority.certificatePEM)
            == .unsupportedKeyType(key: "ca.key", type: "Ed25519"))
    }

    @Test("a key that is not the certificate's is refused")
    func keyMismatch() throws {
        let authority = try PKIFixtures.certificateAuthority()
        let other = try PKIFixtures.certificateAuthority()
        let data = ["ca.crt": authority.certificatePEM, "ca.key": other.keyPEM]
        #expect(refusal(data, bundleCA: authority.certificatePEM) == .keyMismatch(certificate: "ca.crt", privateKey: "ca.key"))
    }

    @Test("a CA that is not ca.pem's, even with the same subject, is refused: Tiller would not accept what it signs")
    func notBundleCA() throws {
        let authority = try PKIFixtures.certificateAuthority()
        let impostor = try PKIFixtures.certificateAuthority()  // same subject, other key
        #expect(refusal(PKIFixtures.issuerSecretData(impostor), bundleCA: authority.certificatePEM)
            == .notBundleCA(key: "ca.crt", subject: "CN=tiller-ca,O=kyma", bundleSubjects: ["CN=tiller-ca,O=kyma"]))
        let foreign = try PKIFixtures.certificateAuthority(commonName: "foreign-ca")
        #expect(refusal(PKIFixtures.issuerSecretData(foreign), bundleCA: authority.certificatePEM)
            == .notBundleCA(key: "ca.crt", subject: "CN=foreign-ca,O=kyma", bundleSubjects: ["CN=tiller-ca,O=kyma"]))
        // Among several certificates in ca.pem, any one will do.
        #expect(refusal(PKIFixtures.issuerSecretData(foreign), bundleCA: authority.certificatePEM + foreign.certificatePEM) == nil)
        #expect(refusal(PKIFixtures.issuerSecretData(foreign), bundleCA: Array("not a certificate".utf8))
            == .notBundleCA(key: "ca.crt", subject: "CN=foreign-ca,O=kyma", bundleSubjects: []))
    }

    @Test("an expired CA is refused, as is a current one checked after its notAfter")
    func expired() throws {
        let root = try PKIFixtures.certificateAuthority(commonName: "root-ca")
        let old = try PKIFixtures.issue(
            by: root, commonName: "tiller-ca", startDate: PKIFixtures.expiredNotBefore, endDate: PKIFixtures.expiredNotAfter,
            certificateAuthority: true)
        #expect(refusal(PKIFixtures.issuerSecretData(old), bundleCA: old.certificatePEM)
            == .expired(key: "ca.crt", notAfter: Date(timeIntervalSince1970: 1_609_459_200)))

        let authority = try PKIFixtures.certificateAuthority()
        let notAfter = try OpenSSLCertificateFacts(certificatePEM: authority.certificatePEM).notAfter
        let data = PKIFixtures.issuerSecretData(authority)
        #expect(refusal(data, bundleCA: authority.certificatePEM, now: notAfter) == .expired(key: "ca.crt", notAfter: notAfter))
        #expect(refusal(data, bundleCA: authority.certificatePEM, now: notAfter.addingTimeInterval(-1)) == nil)
    }

    @Test("no error or description shows the CA's key bytes")
    func neverShowsKeyBytes() throws {
        let authority = try PKIFixtures.certificateAuthority(algorithm: .rsa)
        let other = try PKIFixtures.certificateAuthority(algorithm: .rsa)
        let keyLines = Set(String(decoding: authority.keyPEM + other.keyPEM, as: UTF8.self)
            .split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init))
        #expect(keyLines.count > 20)
        let leaf = try PKIFixtures.issue(by: authority)
        let cases: [[String: [UInt8]]] = [
            ["ca.key": authority.keyPEM],
            ["ca.crt": authority.keyPEM, "ca.key": authority.keyPEM],
            ["ca.crt": authority.certificatePEM, "ca.key": Array(authority.keyPEM.dropLast(200))],
            ["ca.crt": authority.certificatePEM, "ca.key": other.keyPEM],
            ["tls.crt": leaf.certificatePEM, "tls.key": leaf.keyPEM],
            PKIFixtures.issuerSecretData(other),
        ]
        var texts: [String] = []
        for (index, data) in cases.enumerated() {
            // Not #require(refusal(data, …)): its failure message would print `data`, key bytes and all.
            let error = refusal(data, bundleCA: authority.certificatePEM)
            guard let error else {
                Issue.record("case \(index) was accepted")
                continue
            }
            texts += [error.description, String(reflecting: error), "\(error)"]
        }
        let ca = try CertificateAuthority(secretData: PKIFixtures.issuerSecretData(authority), bundleCA: authority.certificatePEM)
        var dumped = ""
        dump(ca, to: &dumped)
        texts += [ca.description, String(reflecting: ca), dumped]
        for text in texts {
            for line in keyLines {
                #expect(!text.contains(line.prefix(24)), "key bytes in: \(text.prefix(200))")
            }
        }
    }
}
