import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("ValidatedBundle.metadataJSON() follows the API contract")
struct MetadataJSONTests {
    @Test("has the contract's shape, RFC 3339 dates and sorted keys")
    func shape() throws {
        let files = try PKIFixtures.goodBundle()
        let bundle = try ValidatedBundle(validating: files)
        let json = bundle.metadataJSON()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(Set(object.keys) == ["certificates", "key", "chainVerified", "notAfter"])
        #expect(object["chainVerified"] as? Bool == true)

        let certificates = try #require(object["certificates"] as? [String: [String: String]])
        #expect(Set(certificates.keys) == ["ca.pem", "cert.pem"])
        let caFacts = try OpenSSLCertificateFacts(certificatePEM: files.ca)
        let certificateFacts = try OpenSSLCertificateFacts(certificatePEM: files.certificate)
        #expect(certificates["cert.pem"] == [
            "subject": "CN=helm-client,O=kyma", "issuer": "CN=tiller-ca,O=kyma", "serial": certificateFacts.serial,
            "sha256": certificateFacts.sha256, "notBefore": try #require(certificates["cert.pem"]?["notBefore"]),
            "notAfter": certificateFacts.notAfterISO8601,
        ])
        #expect(certificates["ca.pem"]?["notAfter"] == caFacts.notAfterISO8601)
        #expect(object["notAfter"] as? String == certificateFacts.notAfterISO8601, "the client cert expires before the CA")

        let key = try #require(object["key"] as? [String: Any])
        #expect(key["algorithm"] as? String == "EC")
        #expect(key["bits"] as? Int == 256)
        #expect(key["matchesCertificate"] as? Bool == true)

        let text = String(decoding: json, as: UTF8.self)
        let order = ["\"certificates\"", "\"chainVerified\"", "\"key\"", "\"notAfter\""].map { text.range(of: $0, options: .backwards)!.lowerBound }
        #expect(order == order.sorted(), "keys are sorted")
        #expect(text.contains("\n"), "pretty-printed")
    }

    @Test("contains no key material")
    func noKeyMaterial() throws {
        for algorithm in PKIFixtures.Algorithm.allCases {
            let files = try PKIFixtures.goodBundle(algorithm)
            let text = String(decoding: try ValidatedBundle(validating: files).metadataJSON(), as: UTF8.self)
            for line in String(decoding: files.key, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("-----") {
                #expect(!text.contains(line))
            }
            #expect(!text.contains("PRIVATE KEY"))
        }
    }

    @Test("decodes back to the same metadata, whatever the encoder's date strategy")
    func roundTrip() throws {
        let bundle = try ValidatedBundle(validating: PKIFixtures.expiredBundle())
        #expect(try JSONDecoder().decode(BundleMetadata.self, from: Data(bundle.metadataJSON())) == bundle.metadata)
        let plain = String(decoding: try JSONEncoder().encode(bundle.metadata), as: UTF8.self)
        #expect(plain.contains("\"notAfter\":\"2021-01-01T00:00:00Z\""))
        #expect(plain.contains("\"notBefore\":\"2020-01-01T00:00:00Z\""))
    }
}
