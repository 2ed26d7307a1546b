import HelmBundle
import Testing
import TestSupport

/// What the check says about Tiller's certificate: signed by ca.pem or not, and whether it names the host.
@Suite("Tiller's certificate as a client trusting ca.pem sees it")
struct ServerCertificateTests {
    @Test("signature and name are judged apart; DNS names and IP addresses both count")
    func signatureAndName() throws {
        let ca = try PKIFixtures.certificateAuthority()
        let other = try PKIFixtures.certificateAuthority(commonName: "other")
        let leaf = try PKIFixtures.issue(
            by: ca, commonName: "tiller-server", extendedKeyUsage: "serverAuth",
            subjectAlternativeNames: "DNS:tiller-deploy.kube-system,IP:10.0.0.7")
        let byName = try ServerCertificate(pem: leaf.certificatePEM, caPEM: ca.certificatePEM, host: "tiller-deploy.kube-system")
        #expect(byName.signedByCA && byName.nameMatches)
        #expect(byName.info.subject == "CN=tiller-server,O=kyma")
        #expect(try ServerCertificate(pem: leaf.certificatePEM, caPEM: ca.certificatePEM, host: "10.0.0.7").nameMatches)
        #expect(try !ServerCertificate(pem: leaf.certificatePEM, caPEM: ca.certificatePEM, host: "10.0.0.8").nameMatches)
        #expect(try !ServerCertificate(pem: leaf.certificatePEM, caPEM: ca.certificatePEM, host: "tiller-deploy").nameMatches)
        let foreign = try ServerCertificate(pem: leaf.certificatePEM, caPEM: other.certificatePEM, host: "10.0.0.7")
        #expect(!foreign.signedByCA && foreign.nameMatches)
    }

    @Test("no certificate in the PEM is an error, not a verified nothing")
    func noCertificate() {
        #expect(throws: BundleError.self) {
            try ServerCertificate(pem: Array("nothing".utf8), caPEM: [], host: "x")
        }
    }
}
