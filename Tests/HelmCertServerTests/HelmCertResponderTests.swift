import FoundationEssentials
import Glibc
import HTTPServer
import HelmBundle
import Synchronization
import Testing
@testable import HelmCertServer
import TestSupport

@Suite("Routes, authentication and answers (no sockets)")
struct HelmCertResponderTests {
    @Test("each PEM file is served byte for byte with its content type and caching rule", arguments: [
        ("/v1/bundles/helm/ca.pem", "private, no-cache"), ("/v1/bundles/helm/cert.pem", "private, no-cache"),
        ("/v1/bundles/helm/key.pem", "no-store"),
    ])
    func pemFiles(path: String, cacheControl: String) throws {
        let fixture = try ResponderFixture()
        let response = fixture.send(path)
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "application/x-pem-file")
        #expect(response.headers["Cache-Control"] == cacheControl)
        let expected = path.hasSuffix("ca.pem") ? fixture.files.ca : path.hasSuffix("cert.pem") ? fixture.files.certificate : fixture.files.key
        #expect(response.body == expected)
    }

    @Test("the archive is no-store gzip; metadata is JSON without key material")
    func archiveAndMetadata() throws {
        let fixture = try ResponderFixture()
        let archive = fixture.send("/v1/bundles/helm/bundle.tar.gz")
        #expect(archive.status == 200)
        #expect(archive.headers["Content-Type"] == "application/gzip")
        #expect(archive.headers["Cache-Control"] == "no-store")
        #expect(archive.body.starts(with: [0x1f, 0x8b]))
        let metadata = fixture.send("/v1/bundles/helm")
        #expect(metadata.headers["Content-Type"] == "application/json")
        let text = String(decoding: metadata.body, as: UTF8.self)
        #expect(text.contains("\"chainVerified\" : true"))
        #expect(text.contains("\"matchesCertificate\" : true"))
        #expect(!text.contains("PRIVATE"))
    }

    @Test("missing, malformed and unknown tokens get 401 with a Bearer challenge and count as auth failures")
    func unauthorized() throws {
        let fixture = try ResponderFixture()
        let missing = fixture.send("/v1/bundles/helm/key.pem", authorized: false)
        #expect(missing.status == 401)
        #expect(missing.headers["WWW-Authenticate"] == "Bearer realm=\"helm-cert-server\"")
        #expect(missing.headers["Content-Type"] == "application/problem+json")
        let wrong = fixture.send("/v1/bundles/helm/key.pem", headers: [("Authorization", "Bearer nope")], authorized: false)
        #expect(wrong.headers["WWW-Authenticate"] == "Bearer realm=\"helm-cert-server\", error=\"invalid_token\"")
        let basic = fixture.send("/v1/bundles/helm/key.pem", headers: [("Authorization", "Basic YTpi")], authorized: false)
        #expect(basic.status == 401)
        // Without a token nothing is learned about what exists.
        #expect(fixture.send("/v1/bundles/nope", authorized: false).status == 401)
        let exposition = String(decoding: fixture.metrics.registry.emitToBuffer(), as: UTF8.self)
        #expect(exposition.contains("helm_cert_server_auth_failures_total{reason=\"missing\"} 2"))
        #expect(exposition.contains("helm_cert_server_auth_failures_total{reason=\"invalid_token\"} 1"))
        #expect(exposition.contains("helm_cert_server_auth_failures_total{reason=\"malformed\"} 1"))
    }

    @Test("two Authorization headers get 400 with a problem detail, even when the first holds a good token; audited")
    func twoAuthorizationHeaders() throws {
        let fixture = try ResponderFixture()
        let response = fixture.send(
            "/v1/bundles/helm/key.pem", headers: [("authorization", "Bearer someone-else")], authorized: true)
        #expect(response.status == 400)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        #expect(String(decoding: response.body, as: UTF8.self).contains("more than one Authorization header"))
        #expect(!String(decoding: response.body, as: UTF8.self).contains("PRIVATE"))
        #expect(try fixture.auditLines().last?.contains("\"authMethod\":\"none\",") == true)
        #expect(try fixture.auditLines().last?.contains("\"status\":400") == true)
        #expect(fixture.send("/v1/bundles/helm/key.pem").status == 200, "one header still works")
    }

    @Test("a verified client certificate authenticates as its CN")
    func mutualTLS() throws {
        let fixture = try ResponderFixture()
        let response = fixture.send("/v1/bundles/helm/ca.pem", authorized: false, clientCN: "ci-runner")
        #expect(response.status == 200)
        #expect(try fixture.auditLines().last?.contains("\"user\":\"ci-runner\",\"authMethod\":\"mtls\"") == true)
    }

    @Test("a personal certificate (its policy marks it) authenticates nobody, on any route: the request needs a token")
    func personalCertificateIsNoIdentity() throws {
        let fixture = try ResponderFixture()
        let marked = [CertificateAuthority.personalCertificatePolicy]
        for path in ["/v1/bundles/helm/key.pem", "/v1/bundles/helm/bundle.tar.gz", "/v1/bundles/helm/ca.pem", "/v1/bundles/helm"] {
            let response = fixture.send(path, authorized: false, clientCN: "bob", clientPolicies: marked)
            #expect(response.status == 401, "\(path)")
            #expect(try fixture.auditLines().last?.contains("\"authMethod\":\"none\"") == true)
        }
        #expect(fixture.send("/v1/bundles/helm/key.pem", authorized: true, clientCN: "bob", clientPolicies: marked).status == 200)
        #expect(try fixture.auditLines().last?.contains("\"user\":\"alice\",\"authMethod\":\"token\"") == true)
        let other = fixture.send("/v1/bundles/helm/key.pem", authorized: false, clientCN: "bob", clientPolicies: ["2.25.1"])
        #expect(other.status == 200, "another policy is not the marker")
    }

    @Test("while the client CA files fail to load, a verified client certificate authenticates nobody; tokens still do")
    func mutualTLSFailsClosed() throws {
        let accepts = Atomic<Bool>(false)
        let fixture = try ResponderFixture(acceptsClientCertificates: { accepts.load(ordering: .relaxed) })
        #expect(fixture.send("/v1/bundles/helm/ca.pem", authorized: false, clientCN: "ci-runner").status == 401)
        #expect(fixture.send("/v1/bundles/helm/ca.pem", authorized: true, clientCN: "ci-runner").status == 200)
        #expect(try fixture.auditLines().last?.contains("\"user\":\"alice\",\"authMethod\":\"token\"") == true)
        accepts.store(true, ordering: .relaxed)
        #expect(fixture.send("/v1/bundles/helm/ca.pem", authorized: false, clientCN: "ci-runner").status == 200)
    }

    @Test("unknown bundles and files are 404; other methods 405 with Allow")
    func notFoundAndMethods() throws {
        let fixture = try ResponderFixture()
        #expect(fixture.send("/v1/bundles/other").status == 404)
        #expect(fixture.send("/v1/bundles/helm/tiller.pem").status == 404)
        #expect(fixture.send("/v1/bundles/helm/").status == 404)
        #expect(fixture.send("/elsewhere", authorized: false).status == 404)
        for method in [HTTPMethod.post, .put, .delete, .patch, .options, HTTPMethod(rawValue: "BREW")] {
            let response = fixture.send("/v1/bundles/helm/key.pem", method: method)
            #expect(response.status == 405)
            #expect(response.headers["Allow"] == "GET, HEAD")
            #expect(response.body.count > 0)
        }
        #expect(fixture.send("/healthz", method: .post, authorized: false).status == 405)
    }

    @Test("If-None-Match with the current ETag gives 304 with no body; another tag gives 200")
    func conditional() throws {
        let fixture = try ResponderFixture()
        for path in ["/v1/bundles/helm/ca.pem", "/v1/bundles/helm/bundle.tar.gz", "/v1/bundles/helm"] {
            let first = fixture.send(path)
            let etag = try #require(first.headers["ETag"])
            let again = fixture.send(path, headers: [("If-None-Match", etag)])
            #expect(again.status == 304)
            #expect(again.body.isEmpty)
            #expect(again.headers["ETag"] == etag)
            #expect(fixture.send(path, headers: [("If-None-Match", "\"other\"")]).status == 200)
        }
    }

    @Test("with no bundle yet: bundle answers and /readyz are 503 with Retry-After and the reason; /healthz is 200")
    func notReady() throws {
        let fixture = try ResponderFixture(serve: false)
        let bundle = fixture.send("/v1/bundles/helm/ca.pem")
        #expect(bundle.status == 503)
        #expect(bundle.headers["Retry-After"] == "5")
        #expect(String(decoding: bundle.body, as: UTF8.self).contains("waiting for the first read of the test"))
        #expect(fixture.send("/readyz", authorized: false).status == 503)
        #expect(fixture.send("/healthz", authorized: false).status == 200)
    }

    @Test("every /v1 request is audited, refused ones too; never the token or key bytes, nor a digest of the key")
    func audit() throws {
        let fixture = try ResponderFixture()
        _ = fixture.send("/v1/bundles/helm/key.pem")
        _ = fixture.send("/v1/bundles/helm/key.pem", headers: [("Authorization", "Bearer guess")], authorized: false)
        _ = fixture.send("/healthz", authorized: false)
        let keyETag = fixture.send("/v1/bundles/helm/key.pem").headers["ETag"]
        let archiveETag = fixture.send("/v1/bundles/helm/bundle.tar.gz").headers["ETag"]
        let caETag = fixture.send("/v1/bundles/helm/ca.pem").headers["ETag"]
        let lines = try fixture.auditLines()
        #expect(lines.count == 5)
        #expect(lines[0].contains("\"user\":\"alice\",\"authMethod\":\"token\",\"groups\":[\"devs\"]"))
        #expect(lines[0].contains("\"file\":\"key.pem\",\"status\":200"))
        #expect(keyETag != nil && archiveETag != nil && caETag != nil, "the answers carry their ETags")
        for (line, file) in [(lines[0], "key.pem"), (lines[2], "key.pem"), (lines[3], "bundle.tar.gz")] {
            #expect(line.contains("\"file\":\"\(file)\"") && !line.contains("\"etag\""), "a key's digest in the audit: \(line)")
        }
        #expect(lines[4].contains("\"file\":\"ca.pem\"") && lines[4].contains("\"etag\":\"\(caETag?.replacingOccurrences(of: "\"", with: "\\\"") ?? "-")"),
                "other files keep their ETag: \(lines[4])")
        #expect(lines[1].contains("\"user\":\"-\",\"authMethod\":\"none\""))
        #expect(lines[1].contains("\"status\":401"))
        let all = lines.joined()
        #expect(!all.contains(ResponderFixture.token) && !all.contains("guess") && !all.contains("PRIVATE"))
    }

    @Test("a Kubernetes review that ends after the client left is audited as 499 with 0 bytes, not as handed out")
    func reviewAfterClientLeft() throws {
        let reviewer = HeldReviewer()
        let fixture = try ResponderFixture(reviewer: reviewer)
        let answered = Mutex<[Int]>([])
        let gone = Atomic<Bool>(false)
        let promise = HTTPResponsePromise(isCancelled: { gone.load(ordering: .relaxed) }) { response in
            answered.withLock { $0.append(response.status) }
        }
        #expect(fixture.send("/v1/bundles/helm/key.pem", token: "kubernetes-token", promise: promise) == nil)
        #expect(reviewer.oldestHasLeft == false)
        gone.store(true, ordering: .relaxed)  // the client closed the connection meanwhile
        #expect(reviewer.oldestHasLeft == true, "the reviewer can see the client left, to give its place back")
        reviewer.finish(.allowed(Caller(user: "system:serviceaccount:ci:helm", method: .kubernetes, groups: [])))
        let stayed = HTTPResponsePromise { response in answered.withLock { $0.append(response.status) } }
        #expect(fixture.send("/v1/bundles/helm/key.pem", token: "kubernetes-token", promise: stayed) == nil)
        reviewer.finish(.allowed(Caller(user: "system:serviceaccount:ci:helm", method: .kubernetes, groups: [])))
        // Lines are written in order by the audit writer, each before its answer is released: once the second
        // answer is out, both lines are in the file. The first answer is dropped (its client left).
        let deadline = ContinuousClock.now + .seconds(10)
        while answered.withLock({ $0.isEmpty }) && ContinuousClock.now < deadline { usleep(10_000) }
        #expect(answered.withLock { $0 } == [200])
        let lines = try fixture.auditLines()
        #expect(lines.count == 2)
        #expect(lines[0].contains("\"status\":499"), "\(lines[0])")
        #expect(lines[0].contains("\"bytes\":0"), "\(lines[0])")
        #expect(!lines[0].contains("\"etag\":\""))
        #expect(lines[1].contains("\"status\":200"), "\(lines[1])")
        #expect(!lines[1].contains("\"bytes\":0"))
    }

    @Test("a line written while the client was still there, whose answer is then dropped, is followed by a 499 line for the same request")
    func answerDroppedAfterItsLine() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        let fixture = try ResponderFixture(auditPath: fifo.path)
        // Lines of ~1.2 KB fill the one-page pipe nobody reads: the writer blocks on the fourth.
        let ignored = HTTPResponsePromise { _ in }
        for n in 0..<4 {
            _ = fixture.send("/v1/" + String(repeating: "a", count: 1000) + "\(n)", token: "unknown", promise: ignored)
        }
        let answered = Mutex<[Int]>([])
        let gone = Atomic<Bool>(false)
        let promise = HTTPResponsePromise(isCancelled: { gone.load(ordering: .relaxed) }) { response in
            answered.withLock { $0.append(response.status) }
        }
        #expect(fixture.send("/v1/bundles/helm/key.pem", token: ResponderFixture.token, promise: promise) == nil)
        gone.store(true, ordering: .relaxed)  // the client got 503 for lateness, or left, while the line waited
        var text = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while !text.contains("answerDropped") && ContinuousClock.now < deadline {
            text += String(decoding: fifo.drain(), as: UTF8.self)
            usleep(10_000)
        }
        let keyLines = text.split(separator: "\n").filter { $0.contains("key.pem") }
        #expect(keyLines.count == 2, "\(keyLines)")
        guard keyLines.count == 2 else { return }
        #expect(keyLines[0].contains("\"status\":200") && !keyLines[0].contains("answerDropped"))
        #expect(keyLines[1].contains("\"status\":499,") && keyLines[1].contains("\"bytes\":0,"))
        #expect(keyLines[1].contains("\"answerDropped\":true") && !keyLines[1].contains("\"etag\""))
        let number = { (line: Substring) in line.firstRange(of: "\"request\":").map { line[$0.upperBound...].prefix { $0.isNumber } } }
        #expect(number(keyLines[0]) != nil && number(keyLines[0]) == number(keyLines[1]), "the second line names the same request")
        #expect(answered.withLock { $0 }.isEmpty, "the answer was dropped")
        let metrics = String(decoding: fixture.send("/metrics", authorized: false).body, as: UTF8.self)
        #expect(metrics.contains("helm_cert_server_requests_total{route=\"bundle_file\",status=\"499\"} 1"))
    }

    @Test("when the audit line cannot be written the key is not handed out")
    func auditFailureRefuses() throws {
        let fixture = try ResponderFixture(auditPath: "/dev/full")
        let response = fixture.send("/v1/bundles/helm/key.pem")
        #expect(response.status == 503)
        #expect(!response.body.isEmpty)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("PRIVATE"))
    }

    @Test("/metrics counts requests by route and status and shows certificate expiry")
    func metrics() throws {
        let fixture = try ResponderFixture()
        _ = fixture.send("/v1/bundles/helm/key.pem")
        _ = fixture.send("/v1/bundles/helm/key.pem")
        _ = fixture.send("/v1/bundles/helm/nope")
        let response = fixture.send("/metrics", authorized: false)
        #expect(response.status == 200)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text.contains("helm_cert_server_requests_total{route=\"bundle_file\",status=\"200\"} 2"))
        #expect(text.contains("helm_cert_server_requests_total{route=\"unknown\",status=\"404\"} 1"))
        #expect(text.contains("helm_cert_server_bundle_ready 1"))
        #expect(text.contains("helm_cert_server_certificate_not_after_seconds{bundle=\"helm\",file=\"cert.pem\"}"))
        #expect(text.contains("helm_cert_server_certificate_not_after_seconds{bundle=\"helm\",file=\"ca.pem\"}"))
    }

    @Test("the OpenAPI document is served without a token")
    func openAPI() throws {
        let fixture = try ResponderFixture()
        let response = fixture.send("/openapi.yaml", authorized: false)
        #expect(response.status == 200)
        #expect(response.headers["Content-Type"] == "application/yaml")
        #expect(String(decoding: response.body, as: UTF8.self).hasPrefix("openapi: 3.1"))
    }
}

/// A reviewer that keeps the completion of each review until the test finishes it (never caching).
final class HeldReviewer: TokenReviewer {
    private let pending = Mutex<[@Sendable (TokenDecision) -> Void]>([])
    private let leaving = Mutex<[@Sendable () -> Bool]>([])

    /// What the oldest pending review's `hasLeft` says now.
    var oldestHasLeft: Bool? { leaving.withLock { $0.first?() } }

    func cachedDecision(forToken token: Substring) -> TokenDecision? { nil }

    func review(
        token: String, from client: String, hasLeft: @escaping @Sendable () -> Bool,
        completion: @escaping @Sendable (TokenDecision) -> Void
    ) {
        pending.withLock { $0.append(completion) }
        leaving.withLock { $0.append(hasLeft) }
    }

    /// Completes the oldest pending review with `decision`.
    func finish(_ decision: TokenDecision) {
        leaving.withLock { if !$0.isEmpty { $0.removeFirst() } }
        let completion = pending.withLock { $0.isEmpty ? nil : $0.removeFirst() }
        completion?(decision)
    }
}
