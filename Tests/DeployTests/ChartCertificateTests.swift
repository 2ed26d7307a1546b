import Foundation
import Testing
import TestSupport

/// The serving certificate the chart generates (checked with the real `openssl`): signed by its own CA, valid
/// for the Service's DNS names, ECDSA P-256 where Helm offers it (>= 3.5), RSA-2048 otherwise.
@Suite struct ChartCertificateTests {
    @Test(arguments: [(ChartValues.defaults, "id-ecPublicKey", "prime256v1"), (.rsaCertificate, "rsaEncryption", "(2048 bit)")])
    func generatedCertificateHasTheChosenKeyAndVerifiesAgainstItsCA(values: ChartValues, algorithm: String, size: String) throws {
        let files = try writeServingCertificate(try values.render(kubeVersion: "1.30.0"))
        defer { files.remove() }
        let text = try openssl(["x509", "-in", files.file("tls.crt"), "-noout", "-text"])
        #expect(text.contains("Public Key Algorithm: \(algorithm)"))
        #expect(text.contains(size))
        let verify = try openssl(["verify", "-CAfile", files.file("ca.crt"), files.file("tls.crt")])
        #expect(verify.contains(": OK"))
        let certificateKey = try openssl(["x509", "-in", files.file("tls.crt"), "-noout", "-pubkey"])
        let privateKey = try openssl(["pkey", "-in", files.file("tls.key"), "-pubout"])
        #expect(certificateKey == privateKey, "tls.key belongs to tls.crt")
    }

    @Test func generatedCertificateNamesTheServiceAndIngressHost() throws {
        let files = try writeServingCertificate(try ChartValues.allOptions.render(kubeVersion: "1.30.0"))
        defer { files.remove() }
        let names = try openssl(["x509", "-in", files.file("tls.crt"), "-noout", "-ext", "subjectAltName"])
        let service = RenderedChart.fullname, namespace = RenderedChart.namespace
        for name in [service, "\(service).\(namespace)", "\(service).\(namespace).svc",
                     "\(service).\(namespace).svc.cluster.local", "helm-certs.example.com", "helm-certs.internal.example.com"] {
            #expect(names.contains("DNS:\(name),") || names.hasSuffix("DNS:\(name)\n"), "SAN \(name) in \(names)")
        }
        let dates = try openssl(["x509", "-in", files.file("tls.crt"), "-noout", "-checkend", "\(89 * 24 * 3600)"])
        #expect(dates.contains("will not expire"), "validityDays 90 in all-options values")
    }

    /// Writes the generated Secret's ca.crt, tls.crt and tls.key into a temporary directory.
    private func writeServingCertificate(_ rendered: RenderedChart) throws -> TemporaryDirectory {
        let secret = try #require(rendered.object("Secret", named: "\(RenderedChart.fullname)-tls"))
        #expect(secret["type"].string == "kubernetes.io/tls")
        let directory = try TemporaryDirectory("deploy-cert")
        for key in ["ca.crt", "tls.crt", "tls.key"] {
            let bytes = try #require(Data(base64Encoded: secret["data"][key].string ?? ""), "\(key) is base64")
            try directory.write(key, [UInt8](bytes))
        }
        return directory
    }

    private func openssl(_ arguments: [String]) throws -> String {
        try runCommand(["openssl"] + arguments).succeeded("openssl \(arguments.joined(separator: " "))").stdoutText
    }
}
