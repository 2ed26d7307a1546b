import Foundation
import HelmBundle
import Logging
import Testing
@testable import HelmCertServer
import TestSupport

@Suite("The issuing CA: checked against ca.pem, kept when a new Secret is bad, dropped when deleted")
struct IssuerStoreTests {
    let authority: PKIFixtures.Credential
    let store: BundleStore
    let issuer: IssuerStore
    let logs: LogCapture

    init() throws {
        authority = try PKIFixtures.certificateAuthority()
        let client = try PKIFixtures.issue(by: authority)
        logs = LogCapture()
        let logger = logs.logger()
        store = BundleStore(name: "helm", source: "secret kyma-installer/helm-secret", logger: logger)
        store.offer(BundleFiles(ca: authority.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM), origin: "test")
        issuer = IssuerStore(source: "secret ns/issuer", bundle: store, logger: logger)
    }

    static func base64(_ data: [String: [UInt8]]) -> [String: String] {
        data.mapValues { Data($0).base64EncodedString() }
    }

    var isReady: Bool { if case .ready = issuer.availability() { true } else { false } }
    var reason: String { if case .unavailable(let reason) = issuer.availability() { reason } else { "" } }

    @Test("before the first read, not ready, saying it waits")
    func waiting() {
        #expect(reason.contains("waiting for the first read of secret ns/issuer"))
    }

    @Test("a Secret with ca.crt + ca.key of ca.pem's CA is ready; so is tls.crt + tls.key")
    func ready() {
        issuer.secretChanged(Self.base64(PKIFixtures.issuerSecretData(authority)), origin: "secret ns/issuer (resourceVersion 1)")
        #expect(isReady)
        issuer.secretChanged(
            Self.base64(PKIFixtures.issuerSecretData(authority, keys: .kubernetesTLS)), origin: "secret ns/issuer (resourceVersion 2)")
        #expect(isReady)
        #expect(issuer.readinessLine().hasPrefix("issuing: ready, signing with CN=tiller-ca,O=kyma"))
    }

    @Test("a wrong Secret (not ca.pem's CA, not a CA, key mismatch) is refused naming the key; the last good CA keeps issuing",
          arguments: ["foreign", "leaf", "mismatch"])
    func wrongKeepsLastGood(kind: String) throws {
        issuer.secretChanged(Self.base64(PKIFixtures.issuerSecretData(authority)), origin: "secret ns/issuer (resourceVersion 1)")
        let bad: [String: [UInt8]]
        switch kind {
        case "foreign": bad = PKIFixtures.issuerSecretData(try PKIFixtures.certificateAuthority(commonName: "foreign-ca"))
        case "leaf": bad = PKIFixtures.issuerSecretData(try PKIFixtures.issue(by: authority))
        default: bad = ["ca.crt": authority.certificatePEM, "ca.key": try PKIFixtures.certificateAuthority().keyPEM]
        }
        issuer.secretChanged(Self.base64(bad), origin: "secret ns/issuer (resourceVersion 2)")
        #expect(isReady, "the last good CA still issues")
        #expect(issuer.readinessLine().contains("source problem (issuing with the last good CA): secret ns/issuer (resourceVersion 2) was refused"))
        let refusal = try #require(logs.all.first { $0.contains("refused issuer") })
        #expect(refusal.contains(#""key": ca.crt"#) || refusal.contains(#""key": ca.key"#), "\(refusal)")
        let keyBody = String(decoding: authority.keyPEM, as: UTF8.self).split(separator: "\n")[1]
        #expect(!logs.all.joined().contains(keyBody), "never key bytes in a log")

        // Without a good one before it, the same Secret leaves issuing off.
        let fresh = IssuerStore(source: "secret ns/other", bundle: store, logger: logs.logger())
        fresh.secretChanged(Self.base64(bad), origin: "secret ns/other (resourceVersion 1)")
        if case .ready = fresh.availability() { Issue.record("a wrong CA must not be ready") }
    }

    @Test("a deleted Secret stops issuing; a recreated one starts it again")
    func deleted() {
        issuer.secretChanged(Self.base64(PKIFixtures.issuerSecretData(authority)), origin: "secret ns/issuer (resourceVersion 1)")
        issuer.secretDeleted("secret ns/issuer")
        #expect(reason.contains("secret ns/issuer does not exist"))
        issuer.secretChanged(Self.base64(PKIFixtures.issuerSecretData(authority)), origin: "secret ns/issuer (resourceVersion 3)")
        #expect(isReady)
    }

    @Test("when the bundle rotates to another CA, issuing stops until the issuer Secret follows")
    func bundleRotation() throws {
        issuer.secretChanged(Self.base64(PKIFixtures.issuerSecretData(authority)), origin: "secret ns/issuer (resourceVersion 1)")
        #expect(isReady)
        let next = try PKIFixtures.certificateAuthority(commonName: "tiller-ca-2")
        let client = try PKIFixtures.issue(by: next)
        store.offer(BundleFiles(ca: next.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM), origin: "rotated")
        #expect(reason.contains("is not the CA in the bundle's ca.pem"), "\(reason)")
        issuer.secretChanged(Self.base64(PKIFixtures.issuerSecretData(next)), origin: "secret ns/issuer (resourceVersion 2)")
        #expect(isReady)
    }

    @Test("availability(against:) checks the CA against the bundle read by the caller, not one rotated in meanwhile")
    func checkedAgainstTheCallersBundle() throws {
        issuer.secretChanged(Self.base64(PKIFixtures.issuerSecretData(authority)), origin: "secret ns/issuer (resourceVersion 1)")
        guard case .serving(let before) = store.availability else { Issue.record("no bundle"); return }
        let next = try PKIFixtures.certificateAuthority(commonName: "tiller-ca-2")
        let client = try PKIFixtures.issue(by: next)
        store.offer(BundleFiles(ca: next.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM), origin: "rotated")
        guard case .serving(let after) = store.availability else { Issue.record("no bundle"); return }
        // The issuer signs for the bundle whose ca.pem goes out with the certificate, and refuses the other.
        if case .ready = issuer.availability(against: before) {} else { Issue.record("not ready for the bundle read first") }
        if case .unavailable(let reason) = issuer.availability(against: after) {
            #expect(reason.contains("is not the CA in the bundle's ca.pem"))
        } else {
            Issue.record("ready for a bundle of another CA")
        }
    }

    @Test("a value that is not base64 is refused naming its key")
    func notBase64() {
        issuer.secretChanged(["ca.crt": "%%%", "ca.key": "AAAA"], origin: "secret ns/issuer (resourceVersion 1)")
        #expect(!isReady)
        #expect(logs.all.contains { $0.contains(#""key": ca.crt"#) && $0.contains("not valid base64") })
    }
}
