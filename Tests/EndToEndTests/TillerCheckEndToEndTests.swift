import Foundation
import Testing
import TestSupport

/// `--tiller-address`: the real binary checks its bundle against a real gRPC Tiller stand-in (grpcio, TLS client
/// authentication) and says what it found in the metadata, `/readyz`, `/metrics` and `Warning` headers.
@Suite("Tiller check, end to end", .serialized)
struct TillerCheckEndToEndTests {
    static let token = "tiller-token"
    let ca: PKIFixtures.Credential
    let volume: TemporaryDirectory

    init() throws {
        ca = try PKIFixtures.certificateAuthority()
        volume = try TemporaryDirectory("tiller-volume")
        try volume.write("tokens.csv", "\(Self.token),erin,9\n")
    }

    /// Tiller's certificate as Kyma makes it: server auth, named for the service and for 127.0.0.1 here.
    func tillerCertificate(by authority: PKIFixtures.Credential? = nil, endDate: String? = nil) throws -> PKIFixtures.Credential {
        try PKIFixtures.issue(
            by: authority ?? ca, commonName: "tiller-server", extendedKeyUsage: "serverAuth",
            subjectAlternativeNames: "DNS:tiller-deploy.kube-system,IP:127.0.0.1", endDate: endDate)
    }

    /// Serves `client` (issued by ``ca`` unless given) from a mounted-volume directory with the Tiller check on.
    func startService(
        tiller address: String, client: PKIFixtures.Credential? = nil, extra: [String] = []
    ) throws -> ServiceProcess {
        let client = try client ?? PKIFixtures.issue(by: ca)
        try DirectorySourceTests.writeVolume(volume, ca: ca.certificatePEM, cert: client.certificatePEM, key: client.keyPEM)
        return try ServiceProcess(arguments: [
            "--listen", "127.0.0.1:0", "--insecure-http", "--source", "directory", "--source-dir", volume.path,
            "--token-file", volume.file("tokens.csv"), "--tiller-address", address,
        ] + extra)
    }

    /// `GET /v1/bundles/helm`, parsed, with its `Warning` headers.
    func metadata(_ service: ServiceProcess) throws -> (json: [String: Any], warnings: [String]) {
        let response = try curl(
            "http://127.0.0.1:\(service.port)/v1/bundles/helm", headers: ["Authorization: Bearer \(Self.token)"])
        #expect(response.status == 200)
        let json = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        return (json, response.headerValues("warning"))
    }

    /// Waits (up to `seconds`) for the metadata's `tiller` object to satisfy `predicate`, and returns it.
    func waitForTiller(
        _ service: ServiceProcess, seconds: Double = 15, _ predicate: ([String: Any]) -> Bool = { _ in true }
    ) throws -> [String: Any] {
        var last: [String: Any] = [:]
        let matched = try eventually(within: .seconds(seconds), every: .milliseconds(100)) {
            guard let tiller = try metadata(service).json["tiller"] as? [String: Any] else { return false }
            last = tiller
            return predicate(tiller)
        }
        if matched { return last }
        Issue.record("the metadata's tiller never matched; last: \(last)")
        return last
    }

    /// Checks the metadata document against openapi.yaml's `BundleMetadata` schema (jsonschema, draft 2020-12,
    /// from `.tools/venv-api`), so the `tiller` object cannot drift from what the document promises.
    func expectMatchesOpenAPI(_ service: ServiceProcess) throws {
        let body = try curl(
            "http://127.0.0.1:\(service.port)/v1/bundles/helm", headers: ["Authorization: Bearer \(Self.token)"]).body
        let script = """
            import json, sys, yaml, jsonschema
            document = yaml.safe_load(open(sys.argv[1]))
            schema = {"$ref": "#/components/schemas/BundleMetadata", "components": document["components"]}
            jsonschema.Draft202012Validator(schema).validate(json.load(sys.stdin))
            """
        let result = try runCommand(
            ["\(packageRoot)/.tools/venv-api/bin/python", "-c", script, "\(packageRoot)/openapi.yaml"], stdin: body)
        #expect(result.status == 0, "the metadata does not match openapi.yaml: \(result.stderrText)")
    }

    func text(_ service: ServiceProcess, _ path: String) throws -> CurlResponse {
        try curl("http://127.0.0.1:\(service.port)\(path)")
    }

    @Test("a malformed --tiller-address, interval or timeout is a usage error naming the flag", arguments: [
        (["--tiller-address", "tiller-deploy.kube-system"], "--tiller-address tiller-deploy.kube-system must be HOST:PORT"),
        (["--tiller-address", "tiller:0"], "must be HOST:PORT"),
        (["--tiller-address", "t:1", "--tiller-check-interval", "5 minutes"], "--tiller-check-interval 5 minutes must be"),
        (["--tiller-address", "t:1", "--tiller-check-timeout", "0s"], "--tiller-check-timeout 0s must be"),
        (["--tiller-address", "t:1", "--tiller-check-timeout", "1h"], "--tiller-check-timeout 1h must be"),
    ])
    func usage(arguments: [String], message: String) throws {
        defer { volume.remove() }
        let result = try runCommand(["timeout", "20", ServiceProcess.binaryPath, "--listen", "127.0.0.1:0",
                                     "--insecure-http", "--token-file", volume.file("tokens.csv")] + arguments)
        #expect(result.status == 64, "\(result.stderrText)")
        #expect(result.stderrText.contains(message), "\(result.stderrText)")
    }

    @Test("all good: Tiller's version, its verified certificate and name, success in /metrics and /readyz")
    func allGood() throws {
        defer { volume.remove() }
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: try tillerCertificate()))
        let service = try startService(tiller: tiller.address)
        defer { service.stop() }
        let result = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(result["ok"] as? Bool == true)
        #expect(result["version"] as? String == TillerStandIn.version)
        #expect(result["address"] as? String == tiller.address)
        #expect(result["error"] == nil)
        let certificate = result["serverCertificate"] as? [String: Any] ?? [:]
        #expect(certificate["subject"] as? String == "CN=tiller-server,O=kyma")
        #expect(certificate["verified"] as? Bool == true)
        #expect(certificate["nameMatches"] as? Bool == true)
        #expect((certificate["sha256"] as? String)?.count == 95)
        let (json, warnings) = try metadata(service)
        #expect((json["warnings"] as? [String])?.isEmpty == true)
        #expect(warnings.isEmpty)
        let readyz = try text(service, "/readyz")
        #expect(readyz.status == 200)
        #expect(readyz.bodyText.contains("tiller: ok, \(tiller.address) answers version \(TillerStandIn.version)"))
        let metrics = try text(service, "/metrics").bodyText
        #expect(metrics.contains("helm_cert_server_tiller_check_success 1"))
        #expect(metrics.contains("helm_cert_server_tiller_check_timestamp_seconds 1"))
        #expect(metrics.contains("helm_cert_server_certificate_not_after_seconds{bundle=\"helm\",file=\"tiller-server\"} 1"))
        try expectMatchesOpenAPI(service)
    }

    @Test("Tiller's certificate is not signed by ca.pem: said, with Tiller's issuer; serving and /readyz unaffected")
    func foreignTillerCA() throws {
        defer { volume.remove() }
        let otherCA = try PKIFixtures.certificateAuthority(commonName: "rotated-tiller-ca")
        // Tiller still trusts our client certificates (its client CA is ours) but shows a certificate of another CA.
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: try tillerCertificate(by: otherCA)))
        let service = try startService(tiller: tiller.address)
        defer { service.stop() }
        let result = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(result["ok"] as? Bool == false)
        #expect(result["version"] == nil)
        let error = result["error"] as? String ?? ""
        #expect(error.contains("not signed by the bundle's ca.pem"), "\(error)")
        #expect(error.contains("rotated-tiller-ca"), "\(error)")
        let certificate = result["serverCertificate"] as? [String: Any] ?? [:]
        #expect(certificate["verified"] as? Bool == false)
        #expect(certificate["issuer"] as? String == "CN=rotated-tiller-ca,O=kyma")
        let (_, warnings) = try metadata(service)
        #expect(warnings.contains { $0.contains("live check against Tiller") && $0.contains("not signed by") }, "\(warnings)")
        let readyz = try text(service, "/readyz")
        #expect(readyz.status == 200)
        #expect(readyz.bodyText.contains("tiller: check failing"))
        #expect(try text(service, "/metrics").bodyText.contains("helm_cert_server_tiller_check_success 0"))
        try expectMatchesOpenAPI(service)
        #expect(try curl("http://127.0.0.1:\(service.port)/v1/bundles/helm/ca.pem", headers: ["Authorization: Bearer \(Self.token)"]).body == ca.certificatePEM)
    }

    @Test("an expired client certificate: Tiller refuses it, and the error names cert.pem and its end")
    func expiredClientCertificate() throws {
        defer { volume.remove() }
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: try tillerCertificate()))
        let expired = try PKIFixtures.issue(
            by: ca, startDate: PKIFixtures.expiredNotBefore, endDate: PKIFixtures.expiredNotAfter)
        let service = try startService(tiller: tiller.address, client: expired)
        defer { service.stop() }
        let result = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(result["ok"] as? Bool == false)
        let error = result["error"] as? String ?? ""
        #expect(error.contains("Tiller refused our client certificate: cert.pem expired at 2021-01-01T00:00:00Z"), "\(error)")
        // The handshake got as far as Tiller's certificate, which is fine.
        #expect((result["serverCertificate"] as? [String: Any])?["verified"] as? Bool == true)
    }

    @Test("Tiller's own certificate expired: said with its end, and warned about")
    func tillerCertificateExpired() throws {
        defer { volume.remove() }
        let expired = try PKIFixtures.issue(
            by: ca, commonName: "tiller-server", extendedKeyUsage: "serverAuth", subjectAlternativeNames: "IP:127.0.0.1",
            startDate: PKIFixtures.expiredNotBefore, endDate: PKIFixtures.expiredNotAfter)
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: expired))
        let service = try startService(tiller: tiller.address)
        defer { service.stop() }
        let result = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(result["ok"] as? Bool == false)
        let error = result["error"] as? String ?? ""
        #expect(error.hasPrefix("Tiller's own certificate expired at 2021-01-01T00:00:00Z"), "\(error)")
        #expect((result["serverCertificate"] as? [String: Any])?["notAfter"] as? String == "2021-01-01T00:00:00Z")
        let (_, warnings) = try metadata(service)
        #expect(warnings.contains { $0.contains("Tiller's server certificate expired") }, "\(warnings)")
    }

    @Test("Tiller's certificate expires in 10 days: the check succeeds and every answer warns")
    func tillerCertificateExpiresSoon() throws {
        defer { volume.remove() }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        let inTenDays = formatter.string(from: Date().addingTimeInterval(10 * 86_400 + 3_600))
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: try tillerCertificate(endDate: inTenDays)))
        let service = try startService(tiller: tiller.address)
        defer { service.stop() }
        let result = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(result["ok"] as? Bool == true)
        let (json, warnings) = try metadata(service)
        let expected = "Tiller's server certificate expires in 10 day(s)"
        #expect((json["warnings"] as? [String] ?? []).contains { $0.hasPrefix(expected) }, "\(json["warnings"] ?? "")")
        #expect(warnings.contains { $0.contains(expected) }, "\(warnings)")
        let cert = try curl("http://127.0.0.1:\(service.port)/v1/bundles/helm/cert.pem", headers: ["Authorization: Bearer \(Self.token)"])
        #expect(cert.headerValues("warning").contains { $0.contains(expected) })
        #expect(try text(service, "/readyz").bodyText.contains("warning: \(expected)"))
    }

    @Test("Tiller down: unreachable, said in the metadata and /readyz, which stays 200")
    func tillerDown() throws {
        defer { volume.remove() }
        let closed = try LoopbackSocket()  // bound, not listening: refuses connections
        let service = try startService(tiller: "127.0.0.1:\(closed.port)")
        defer { service.stop() }
        let result = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(result["ok"] as? Bool == false)
        #expect((result["error"] as? String ?? "").hasPrefix("Tiller is unreachable at 127.0.0.1:\(closed.port)"), "\(result)")
        #expect(result["serverCertificate"] == nil)
        let readyz = try text(service, "/readyz")
        #expect(readyz.status == 200)
        #expect(readyz.bodyText.contains("tiller: check failing (the bundle is still served): Tiller is unreachable"))
        try expectMatchesOpenAPI(service)
    }

    @Test("after a failure the check retries within seconds, not at the next interval")
    func retriesAfterFailure() throws {
        defer { volume.remove() }
        let closed = try LoopbackSocket()  // bound, not listening: refuses connections
        let port = closed.port
        let service = try startService(tiller: "127.0.0.1:\(port)", extra: ["--tiller-check-interval", "1h"])
        defer { service.stop() }
        let down = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(down["ok"] as? Bool == false)
        // Tiller comes up on that port; the first retry is due 5 s (±20 %) after the failure, the next 10 s later.
        closed.close()
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: try tillerCertificate()), port: port)
        let up = try waitForTiller(service, seconds: 20) { $0["ok"] as? Bool == true }
        #expect(up["version"] as? String == TillerStandIn.version)
        #expect(tiller.port == port)
    }

    @Test("Tiller accepts TCP and hangs: bundle requests are answered meanwhile; the check times out")
    func tillerHangs() throws {
        defer { volume.remove() }
        let tiller = try TillerStandIn(.hang)
        let service = try startService(tiller: tiller.address, extra: ["--tiller-check-timeout", "3s"])
        defer { service.stop() }
        // The first check started with the bundle and hangs for 3 s. Before it ends (no result in the metadata
        // before and after), bundle requests and /readyz are answered.
        #expect(try metadata(service).json["tiller"] == nil, "the check should still be hanging")
        for _ in 0..<3 {
            let archive = try curl(
                "http://127.0.0.1:\(service.port)/v1/bundles/helm/bundle.tar.gz", headers: ["Authorization: Bearer \(Self.token)"])
            #expect(archive.status == 200)
            #expect(try text(service, "/readyz").status == 200)
        }
        #expect(try metadata(service).json["tiller"] == nil, "the check should still be hanging")
        let result = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(result["ok"] as? Bool == false)
        #expect((result["error"] as? String ?? "").contains("accepted the connection but did not answer within 3s"), "\(result)")
    }

    @Test("a new bundle is checked at once, not at the next interval")
    func newBundleCheckedAtOnce() throws {
        defer { volume.remove() }
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: try tillerCertificate()))
        // First a client certificate Tiller does not trust (another CA, the same ca.pem): refused.
        let foreignCA = try PKIFixtures.certificateAuthority(commonName: "foreign-ca")
        let foreign = try PKIFixtures.issue(by: foreignCA, commonName: "intruder")
        let service = try startService(tiller: tiller.address, client: foreign, extra: ["--tiller-check-interval", "1h"])
        defer { service.stop() }
        let refused = try waitForTiller(service) { $0["checkedAt"] != nil }
        #expect(refused["ok"] as? Bool == false)
        #expect((refused["error"] as? String ?? "").hasPrefix("Tiller refused our client certificate ("), "\(refused)")
        // The renewed secret arrives: checked within seconds although the interval is an hour (failures retry
        // after 5 s at the earliest, so a check within 4 s of the new bundle was triggered by it).
        let renewed = try PKIFixtures.issue(by: ca, commonName: "renewed")
        try DirectorySourceTests.writeVolume(volume, ca: ca.certificatePEM, cert: renewed.certificatePEM, key: renewed.keyPEM)
        let ok = try waitForTiller(service, seconds: 4) { $0["ok"] as? Bool == true }
        #expect(ok["version"] as? String == TillerStandIn.version)
    }
}
