import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("ValidatedBundle(validating:) checks a bundle with OpenSSL and describes it")
struct ValidatedBundleTests {
    @Test(
        "reports what openssl x509 prints for a good bundle",
        arguments: PKIFixtures.Algorithm.allCases, PKIFixtures.KeyFormat.allCases)
    func goodBundleMetadata(algorithm: PKIFixtures.Algorithm, format: PKIFixtures.KeyFormat) throws {
        let files = try PKIFixtures.goodBundle(algorithm, keyFormat: format)
        let bundle = try ValidatedBundle(validating: files)
        let ca = try OpenSSLCertificateFacts(certificatePEM: files.ca)
        let certificate = try OpenSSLCertificateFacts(certificatePEM: files.certificate)

        #expect(bundle.metadata.certificates == ["ca.pem": ca.info, "cert.pem": certificate.info])
        #expect(certificate.subject == "CN=helm-client,O=kyma")
        #expect(certificate.issuer == "CN=tiller-ca,O=kyma")
        #expect(bundle.metadata.chainVerified)
        #expect(bundle.metadata.notAfter == min(ca.notAfter, certificate.notAfter))
        let expectedKey = switch algorithm {
        case .rsa: KeyInfo(algorithm: "RSA", bits: 2048, matchesCertificate: true)
        case .ecdsa: KeyInfo(algorithm: "EC", bits: 256, matchesCertificate: true)
        case .ed25519: KeyInfo(algorithm: "Ed25519", bits: 256, matchesCertificate: true)
        }
        #expect(bundle.metadata.key == expectedKey)
        #expect(bundle.files == files)
    }

    @Test("fingerprints the three files like sha256sum of their concatenation")
    func fingerprint() throws {
        let files = try PKIFixtures.goodBundle()
        let bundle = try ValidatedBundle(validating: files)
        let sum = try runCommand(["sha256sum"], stdin: files.ca + files.certificate + files.key).stdoutText
        #expect(bundle.fingerprint == String(sum.prefix(64)))
        #expect(bundle.fingerprint.allSatisfy { "0123456789abcdef".contains($0) })

        var changed = files
        changed.ca += Array("\n".utf8)
        #expect(try ValidatedBundle(validating: changed).fingerprint != bundle.fingerprint)
    }

    @Test("throws, naming the key, when the key does not belong to the certificate", arguments: PKIFixtures.Algorithm.allCases)
    func mismatchedKey(algorithm: PKIFixtures.Algorithm) throws {
        let files = try BundleFiles(secretData: PKIFixtures.secretData(PKIFixtures.mismatchedKeyBundle(algorithm)))
        let error = try #require(throws: BundleError.self) { try ValidatedBundle(validating: files) }
        #expect(error.key == "global.helm.tls.key")
        #expect(error.reason.contains("does not match the certificate in global.helm.tls.crt"))
    }

    @Test("throws when the key is of another algorithm than the certificate")
    func keyOfOtherAlgorithm() throws {
        let ecdsa = try PKIFixtures.goodBundle(.ecdsa)
        let rsa = try PKIFixtures.goodBundle(.rsa)
        let files = BundleFiles(ca: ecdsa.ca, certificate: ecdsa.certificate, key: rsa.key)
        let error = try #require(throws: BundleError.self) { try ValidatedBundle(validating: files) }
        #expect(error.key == "key.pem")
    }

    @Test("reports chainVerified false, without throwing, for a certificate from another CA")
    func foreignCA() throws {
        let bundle = try ValidatedBundle(validating: PKIFixtures.foreignCABundle())
        #expect(bundle.metadata.chainVerified == false)
        #expect(bundle.metadata.certificates["cert.pem"]?.issuer == "CN=foreign-ca,O=kyma")
        #expect(bundle.metadata.key.matchesCertificate)
    }

    @Test("accepts an expired certificate and reports its notAfter")
    func expiredCertificate() throws {
        let files = try PKIFixtures.expiredBundle()
        let bundle = try ValidatedBundle(validating: files)
        let expiry = Date(timeIntervalSince1970: 1_609_459_200)  // 2021-01-01T00:00:00Z
        #expect(bundle.metadata.certificates["cert.pem"]?.notAfter == expiry)
        #expect(bundle.metadata.certificates["cert.pem"]?.notBefore == Date(timeIntervalSince1970: 1_577_836_800))
        #expect(bundle.metadata.notAfter == expiry)
        #expect(bundle.metadata.chainVerified, "dates are not part of the chain check")
    }

    @Test("throws, naming the key, for a PEM block OpenSSL cannot parse")
    func corruptCertificate() throws {
        let good = try PKIFixtures.goodBundle()
        let corrupt = Array("-----BEGIN CERTIFICATE-----\nMIIBnotreallyacertificate\n-----END CERTIFICATE-----\n".utf8)
        var data = PKIFixtures.secretData(good)
        data["global.helm.tls.crt"] = Data(corrupt).base64EncodedString()
        let files = try BundleFiles(secretData: data)  // passes the textual check …
        let error = try #require(throws: BundleError.self) { try ValidatedBundle(validating: files) }  // … not OpenSSL's
        #expect(error.key == "global.helm.tls.crt")
        #expect(error.reason.contains("no certificate OpenSSL can parse"))
    }

    @Test("throws, naming the key, for a key OpenSSL cannot parse")
    func corruptKey() throws {
        let good = try PKIFixtures.goodBundle()
        let corrupt = Array("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".utf8)
        let error = try #require(throws: BundleError.self) {
            try ValidatedBundle(validating: BundleFiles(ca: good.ca, certificate: good.certificate, key: corrupt))
        }
        #expect(error.key == "key.pem")
        #expect(error.reason.contains("no private key OpenSSL can parse"))
    }

    @Test("verifies a chain whose intermediate follows the client certificate in cert.pem")
    func intermediateInCertificateFile() throws {
        let root = try PKIFixtures.certificateAuthority(commonName: "root-ca")
        let intermediate = try PKIFixtures.issue(by: root, commonName: "intermediate-ca", certificateAuthority: true)
        let client = try PKIFixtures.issue(by: intermediate)
        let chained = try ValidatedBundle(validating: BundleFiles(
            ca: root.certificatePEM, certificate: client.certificatePEM + intermediate.certificatePEM, key: client.keyPEM))
        #expect(chained.metadata.chainVerified)
        let alone = try ValidatedBundle(validating: BundleFiles(
            ca: root.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM))
        #expect(alone.metadata.chainVerified == false, "without the intermediate there is no path to the root")
    }
}
