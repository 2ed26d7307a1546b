import Foundation
import HTTPServer
import HelmBundle
import Logging
import Synchronization
import Testing
@testable import HelmCertServer
import TestSupport
import TillerCheck

/// How a Tiller check's outcome reaches the answers (metadata, warnings, /readyz, metrics), and the flags' durations.
@Suite("Tiller check results in the served answers (no sockets)")
struct TillerMonitorTests {
    static let address = "tiller-deploy.kube-system:44134"

    func certificate(notAfter: Date) -> ServerCertificate {
        ServerCertificate(
            info: CertificateInfo(
                subject: "CN=tiller-server,O=kyma", issuer: "CN=tiller-ca,O=kyma", serial: "0A", notBefore: notAfter - 86_400 * 365,
                notAfter: notAfter, sha256: "AB"),
            signedByCA: true, nameMatches: false)
    }

    func metadata(_ fixture: ResponderFixture) throws -> [String: Any] {
        let body = fixture.send("/v1/bundles/helm").body
        return try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] ?? [:]
    }

    @Test("durations: seconds, minutes, hours; nothing else, nothing below a second or above a week", arguments: [
        ("300", 300), ("300s", 300), ("5m", 300), ("1h", 3600), ("7d", nil), ("0", nil), ("-5s", nil), ("m", nil),
        ("1.5m", nil), ("", nil), ("169h", nil), ("168h", 604_800), ("٣s", nil),
    ] as [(String, Int?)])
    func durations(text: String, seconds: Int?) {
        #expect(TillerCheckConfiguration.parseDuration(text) == seconds.map { .seconds($0) })
    }

    @Test("a successful check shows in the metadata and /readyz, with no warning")
    func success() throws {
        let fixture = try ResponderFixture()
        fixture.store.recordTillerCheck(TillerCheckResult(
            address: Self.address, checkedAt: Date(), version: "v2.16.12",
            serverCertificate: certificate(notAfter: Date() + 200 * 86_400)))
        let tiller = try #require(try metadata(fixture)["tiller"] as? [String: Any])
        #expect(tiller["ok"] as? Bool == true)
        #expect(tiller["version"] as? String == "v2.16.12")
        #expect((tiller["serverCertificate"] as? [String: Any])?["nameMatches"] as? Bool == false)
        #expect(fixture.send("/v1/bundles/helm/ca.pem").headers["Warning"] == nil)
        let ready = fixture.send("/readyz", authorized: false)
        #expect(ready.status == 200)
        #expect(String(decoding: ready.body, as: UTF8.self).contains("tiller: ok, \(Self.address) answers version v2.16.12"))
    }

    @Test("a failing check: every answer warns, /readyz stays 200 and names it, the metric says 0")
    func failure() throws {
        let fixture = try ResponderFixture()
        let result = TillerCheckResult(
            address: Self.address, checkedAt: Date(), failure: .unreachable(address: Self.address, detail: "refused"))
        fixture.store.recordTillerCheck(result)
        fixture.metrics.recordTillerCheck(result, bundle: "helm")
        let warning = fixture.send("/v1/bundles/helm/key.pem").headers["Warning"] ?? ""
        #expect(warning.hasPrefix("299 - \"the live check against Tiller at \(Self.address) failed: Tiller is unreachable"))
        let ready = fixture.send("/readyz", authorized: false)
        #expect(ready.status == 200)
        #expect(String(decoding: ready.body, as: UTF8.self).contains("tiller: check failing (the bundle is still served): Tiller is unreachable"))
        let metrics = String(decoding: fixture.send("/metrics", authorized: false).body, as: UTF8.self)
        #expect(metrics.contains("helm_cert_server_tiller_check_success 0"))
        #expect(!metrics.contains("file=\"tiller-server\""), "no certificate was seen")
    }

    @Test("Tiller's certificate within 30 days warns; past its end too; a year away does not", arguments: [
        (10.5, "expires in 10 day(s)"), (-3.5, "expired 3 day(s) ago"), (365, nil),
    ] as [(Double, String?)])
    func tillerCertificateExpiry(days: Double, expected: String?) throws {
        let now = Date()
        let result = TillerCheckResult(
            address: Self.address, checkedAt: now, version: "v2.16.12",
            serverCertificate: certificate(notAfter: now + days * 86_400))
        let warnings = RenderedBundle.tillerWarnings(result, now: now)
        if let expected {
            #expect(warnings.count == 1)
            #expect(warnings.first?.contains("Tiller's server certificate \(expected)") == true, "\(warnings)")
        } else {
            #expect(warnings.isEmpty)
        }
    }

    @Test("the metric for Tiller's certificate is its notAfter, labelled tiller-server")
    func notAfterMetric() throws {
        let fixture = try ResponderFixture()
        let end = Date(timeIntervalSince1970: 1_900_000_000)
        fixture.metrics.recordTillerCheck(
            TillerCheckResult(address: Self.address, checkedAt: Date(), version: "v", serverCertificate: certificate(notAfter: end)),
            bundle: "helm")
        let metrics = String(decoding: fixture.send("/metrics", authorized: false).body, as: UTF8.self)
        #expect(metrics.contains("helm_cert_server_certificate_not_after_seconds{bundle=\"helm\",file=\"tiller-server\"} 1900000000"))
        #expect(metrics.contains("helm_cert_server_tiller_check_success 1"))
    }

    @Test("a new bundle tells the observer; the same bundle again does not")
    func newBundleObserver() throws {
        let fixture = try ResponderFixture(serve: false)
        let calls = Atomic<Int>(0)
        fixture.store.onNewBundle { calls.add(1, ordering: .relaxed) }
        fixture.store.offer(fixture.files, origin: "first")
        fixture.store.offer(fixture.files, origin: "same again")
        #expect(calls.load(ordering: .relaxed) == 1)
        fixture.store.offer(try PKIFixtures.goodBundle(), origin: "renewed")
        #expect(calls.load(ordering: .relaxed) == 2)
    }
}
