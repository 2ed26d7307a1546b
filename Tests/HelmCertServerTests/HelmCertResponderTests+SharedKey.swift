import HTTPServer
import Testing
@testable import HelmCertServer

extension HelmCertResponderTests {
    @Test("with the shared key closed, key.pem and bundle.tar.gz are 403 pointing at personal.tar.gz, and audited", arguments: [
        "/v1/bundles/helm/key.pem", "/v1/bundles/helm/bundle.tar.gz",
    ])
    func sharedKeyClosed(path: String) throws {
        let fixture = try ResponderFixture(sharesKey: false)
        let response = fixture.send(path)
        #expect(response.status == 403)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(body.contains(ProblemType.sharedKeyDisabled.uri))
        #expect(body.contains("/v1/bundles/helm/personal.tar.gz"))
        #expect(!body.contains("PRIVATE KEY"))
        #expect(try fixture.auditLines().last?.contains(#""status":403"#) == true)
    }

    @Test("with the shared key closed, ca.pem, cert.pem and the metadata are still served", arguments: [
        "/v1/bundles/helm/ca.pem", "/v1/bundles/helm/cert.pem", "/v1/bundles/helm",
    ])
    func sharedKeyClosedKeepsTheRest(path: String) throws {
        let fixture = try ResponderFixture(sharesKey: false)
        #expect(fixture.send(path).status == 200)
    }
}
