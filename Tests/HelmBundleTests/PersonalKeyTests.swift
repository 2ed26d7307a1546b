import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("PersonalKey generates the one-liner's key: PKCS#8 PEM that openssl loads and that matches its certificate")
struct PersonalKeyTests {
    @Test("ECDSA P-256 is the default")
    func defaultAlgorithm() throws {
        let key = try PersonalKey.generate()
        #expect(key.algorithm == .ecdsaP256)
        #expect(key.publicKey.algorithm == .ecdsaP256)
    }

    @Test(
        "each algorithm's key loads with openssl pkey, is what it says, and belongs to the certificate issued for it",
        arguments: [(PersonalKeyAlgorithm.ecdsaP256, "NIST CURVE: P-256"), (.rsa2048, "Private-Key: (2048 bit, 2 primes)")])
    func loadsAndMatches(algorithm: PersonalKeyAlgorithm, expectedText: String) throws {
        let authority = try PKIFixtures.certificateAuthority()
        let ca = try CertificateAuthority(secretData: PKIFixtures.issuerSecretData(authority), bundleCA: authority.certificatePEM)
        let key = try PersonalKey.generate(algorithm)
        let issued = try ca.issueClientCertificate(commonName: "jane", publicKey: key.publicKey, ttl: .seconds(3600))

        let directory = try TemporaryDirectory("personal-key")
        defer { directory.remove() }
        try directory.write("ca.pem", authority.certificatePEM)
        try directory.write("cert.pem", issued.pem)
        try directory.write("key.pem", try key.pkcs8PEM())

        let pem = String(decoding: try directory.read("key.pem"), as: UTF8.self)
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n") && pem.hasSuffix("-----END PRIVATE KEY-----\n"))
        #expect(try PKIFixtures.openssl(["pkey", "-in", directory.file("key.pem"), "-noout", "-text"]).stdoutText.contains(expectedText))
        let fromKey = try PKIFixtures.openssl(["pkey", "-in", directory.file("key.pem"), "-pubout"]).stdoutText
        let fromCertificate = try PKIFixtures.openssl(["x509", "-in", directory.file("cert.pem"), "-noout", "-pubkey"]).stdoutText
        #expect(fromKey == fromCertificate)
        // The three files are a bundle the service itself accepts: key matches, chain verifies.
        let bundle = try ValidatedBundle(validating: BundleFiles(
            ca: authority.certificatePEM, certificate: issued.pem, key: try key.pkcs8PEM()))
        #expect(bundle.metadata.chainVerified)
    }

    @Test("two keys are different keys")
    func fresh() throws {
        #expect(try PersonalKey.generate().pkcs8PEM() != PersonalKey.generate().pkcs8PEM())
    }

    @Test("printing, dumping or reflecting a key never shows it")
    func neverShown() throws {
        for algorithm in PersonalKeyAlgorithm.allCases {
            let key = try PersonalKey.generate(algorithm)
            let lines = String(decoding: try key.pkcs8PEM(), as: UTF8.self).split(separator: "\n").filter { !$0.hasPrefix("-----") }
            var dumped = ""
            dump(key, to: &dumped)
            for text in [key.description, String(reflecting: key), "\(key)", dumped, "\(key.publicKey)"] {
                #expect(!lines.contains { text.contains($0.prefix(24)) }, "\(text)")
                #expect(!text.contains("BEGIN"))
            }
        }
    }

    @Test("the algorithm names are the values a flag would take")
    func algorithmNames() {
        #expect(PersonalKeyAlgorithm.allCases.map(\.rawValue) == ["ecdsa-p256", "rsa-2048"])
    }

    @Test("clear overwrites the key's PEM with zeros where it lies")
    func clearZeroes() throws {
        var pem = try PersonalKey.generate().pkcs8PEM()
        let count = pem.count
        let address = pem.withUnsafeBufferPointer { $0.baseAddress }
        PersonalKey.clear(&pem)
        #expect(pem.count == count && pem.allSatisfy { $0 == 0 })
        #expect(pem.withUnsafeBufferPointer { $0.baseAddress } == address, "in place, not a copy")
    }
}
