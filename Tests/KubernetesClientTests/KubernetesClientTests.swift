import CLibCurl
import Foundation
import Testing
import TestSupport
@testable import KubernetesClient

/// `KubernetesClient` against the Kubernetes API double over real TLS.
@Suite struct KubernetesClientTests {
    @Test func getsASecretWithItsDataAsTheAPIHoldsIt() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        let secret = try makeClient(for: api).secret(namespace: helmNamespace, name: helmSecretName)
        #expect(secret.metadata.name == helmSecretName)
        #expect(secret.metadata.namespace == helmNamespace)
        #expect(secret.metadata.resourceVersion?.isEmpty == false)
        #expect(secret.type == "Opaque")
        #expect(secret.data == base64(helmData))
    }

    @Test func listsTheOneSecretByFieldSelectorWithTheListsResourceVersion() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.setSecret(namespace: helmNamespace, name: "other", data: ["x": [1]])
        let (secret, version) = try makeClient(for: api).listSecret(namespace: helmNamespace, name: helmSecretName)
        #expect(secret?.metadata.name == helmSecretName)
        #expect(Int(version)! >= Int(secret!.metadata.resourceVersion!)!)
        let request = try #require(try api.requestLog().last)
        #expect(request.verb == "list")
        #expect(request.query == "fieldSelector=metadata.name%3Dhelm-secret")
    }

    @Test func listingAnAbsentSecretGivesNilAndAResourceVersion() throws {
        let api = try KubernetesAPIDouble.start()
        defer { api.stop() }
        let (secret, version) = try makeClient(for: api).listSecret(namespace: helmNamespace, name: helmSecretName)
        #expect(secret == nil)
        #expect(!version.isEmpty)
    }

    @Test func anAbsentSecretIsAStatus404() throws {
        let api = try KubernetesAPIDouble.start()
        defer { api.stop() }
        #expect {
            try makeClient(for: api).secret(namespace: helmNamespace, name: "nope")
        } throws: { error in
            error as? KubernetesError == .status(Status(status: "Failure", message: #"secrets "nope" not found"#,
                                                        reason: "NotFound", code: 404))
        }
    }

    @Test func aRotatedTokenIsReReadAfterA401AndTheRequestRetriedOnce() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        let client = makeClient(for: api)
        _ = try client.secret(namespace: helmNamespace, name: helmSecretName)   // caches the first token
        try api.rotateToken(to: "test-token-2")
        try api.clearRequestLog()
        let secret = try client.secret(namespace: helmNamespace, name: helmSecretName)
        #expect(secret.data == base64(helmData))
        #expect(try api.requestLog().map(\.code) == [401, 200])
    }

    @Test func aTokenTheAPIKeepsRefusingIsA401AfterExactlyOneRetry() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        let tokens = try TemporaryDirectory("wrong-token")
        defer { tokens.remove() }
        try tokens.write("token", "not-the-token\n")
        var configuration = KubernetesConfiguration(apiServer: api.url, tokenFile: tokens.file("token"), caFile: api.caFile)
        configuration.tokenMaxAge = .seconds(60)
        let client = KubernetesClient(configuration: configuration, logger: .init(label: "test"))
        var thrown: KubernetesError?
        do { _ = try client.secret(namespace: helmNamespace, name: helmSecretName) } catch { thrown = error }
        #expect(thrown?.statusCode == 401)
        #expect(try api.requestLog().map(\.code) == [401, 401])
        #expect(!String(describing: thrown).contains("not-the-token"), "an error must never show the token")
    }

    @Test func theTokenFileIsReReadOnceItIsOlderThanTheMaximumAgeWithoutWaitingForA401() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        let client = makeClient(for: api) { $0.tokenMaxAge = .zero }
        _ = try client.secret(namespace: helmNamespace, name: helmSecretName)
        try api.rotateToken(to: "test-token-2")
        _ = try client.secret(namespace: helmNamespace, name: helmSecretName)
        #expect(try api.requestLog().map(\.code) == [200, 200])
    }

    @Test func aForbiddenSecretIsA403WithTheAPIsMessage() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.deny(namespace: helmNamespace, name: helmSecretName)
        var thrown: KubernetesError?
        do { _ = try makeClient(for: api).secret(namespace: helmNamespace, name: helmSecretName) } catch { thrown = error }
        guard case .status(let status) = thrown else {
            Issue.record("expected a Status, got \(String(describing: thrown))")
            return
        }
        #expect(status.code == 403)
        #expect(status.reason == "Forbidden")
        #expect(status.message == #"secrets "helm-secret" is forbidden: User "system:serviceaccount:kyma-installer:helm-cert-server" cannot get resource "secrets" in API group "" in the namespace "kyma-installer""#)
    }

    @Test func anUnavailableAPIIsAStatus503() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.injectStatus(503, count: 1)
        var thrown: KubernetesError?
        do { _ = try makeClient(for: api).secret(namespace: helmNamespace, name: helmSecretName) } catch { thrown = error }
        #expect(thrown?.statusCode == 503)
    }

    @Test func anAnswerWithoutAStatusBodyIsAStatusMadeFromTheHTTPCode() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.injectStatus(502, count: 1, emptyBody: true)
        #expect(throws: KubernetesError.status(Status(status: "Failure", message: "HTTP 502", code: 502))) {
            try makeClient(for: api).secret(namespace: helmNamespace, name: helmSecretName)
        }
    }

    @Test func aWatchAnswered401WithoutABodyIsRetriedOnceWithAReReadToken() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.injectStatus(401, count: 1, emptyBody: true)
        nonisolated(unsafe) var events: [WatchEvent] = []
        let end = try makeClient(for: api).watchSecret(
            namespace: helmNamespace, name: helmSecretName, resourceVersion: "", shouldAbort: { false }
        ) { event in
            events.append(event)
            return false
        }
        #expect(end == .stoppedByReceiver)
        guard case .added(let secret) = events.first else {
            Issue.record("expected the synthetic ADDED of a watch without resourceVersion, got \(events)")
            return
        }
        #expect(secret.data == base64(helmData))
        #expect(try api.requestLog().map(\.code) == [401, 200])
    }

    @Test func aForbiddenWatchThrowsTheAPIsStatus() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.deny(namespace: helmNamespace, name: helmSecretName)
        #expect {
            try makeClient(for: api).watchSecret(namespace: helmNamespace, name: helmSecretName, resourceVersion: "1",
                                                 shouldAbort: { false }) { _ in true }
        } throws: { error in
            (error as? KubernetesError)?.statusCode == 403
        }
    }

    @Test func anAPIThatAcceptsAndNeverAnswersTimesOutAfterTheRequestTimeout() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.injectHang(count: 1, seconds: 10)
        let client = makeClient(for: api) { $0.requestTimeout = .milliseconds(700) }
        let started = ContinuousClock.now
        var thrown: KubernetesError?
        do { _ = try client.secret(namespace: helmNamespace, name: helmSecretName) } catch { thrown = error }
        let elapsed = ContinuousClock.now - started
        guard case .transport(let message) = thrown else {
            Issue.record("expected a transport error, got \(String(describing: thrown))")
            return
        }
        #expect(message.code == CURLE_OPERATION_TIMEDOUT)
        #expect(message.description.lowercased().contains("timed out") || message.description.lowercased().contains("timeout"))
        #expect(elapsed >= .milliseconds(650) && elapsed < .seconds(3))
    }

    @Test func aServerThatAcceptsTCPButNeverShakesHandsTimesOutAfterTheConnectTimeout() throws {
        // A listening socket nobody accepts from: the kernel completes the TCP handshake, TLS never starts.
        let listener = try LoopbackSocket(listening: true)
        let tokens = try TemporaryDirectory("token")
        defer { tokens.remove() }
        try tokens.write("token", "t")
        var configuration = KubernetesConfiguration(apiServer: "https://127.0.0.1:\(listener.port)",
                                                    tokenFile: tokens.file("token"), caFile: nil)
        configuration.connectTimeout = .milliseconds(400)
        let started = ContinuousClock.now
        var thrown: KubernetesError?
        do {
            _ = try KubernetesClient(configuration: configuration, logger: .init(label: "test"))
                .secret(namespace: helmNamespace, name: helmSecretName)
        } catch { thrown = error }
        let elapsed = ContinuousClock.now - started
        guard case .transport(let message) = thrown else {
            Issue.record("expected a transport error, got \(String(describing: thrown))")
            return
        }
        #expect(message.description.contains("SSL connection timeout"))
        #expect(elapsed >= .milliseconds(350) && elapsed < .seconds(2))
    }

    @Test func theAPIsCertificateIsVerifiedAgainstTheConfiguredCA() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        let client = makeClient(for: api) { $0.caFile = nil }   // system CAs did not sign the double's certificate
        var thrown: KubernetesError?
        do { _ = try client.secret(namespace: helmNamespace, name: helmSecretName) } catch { thrown = error }
        guard case .transport(let message) = thrown else {
            Issue.record("expected a TLS verification failure, got \(String(describing: thrown))")
            return
        }
        #expect(message.code == CURLE_PEER_FAILED_VERIFICATION, "\(message)")
        #expect(message.description.contains("certificate"))
        #expect(try api.requestLog().isEmpty, "no request may reach an unverified server")
    }

    @Test func anAPIThatIsNotThereIsATransportErrorThatNamesTheRequest() throws {
        let api = try KubernetesAPIDouble.start()
        let url = api.url, caFile = api.caFile, tokens = try TemporaryDirectory("token")
        defer { tokens.remove() }
        try tokens.write("token", "t")
        api.stop()
        let client = KubernetesClient(
            configuration: KubernetesConfiguration(apiServer: url, tokenFile: tokens.file("token"), caFile: caFile),
            logger: .init(label: "test"))
        var thrown: KubernetesError?
        do { _ = try client.secret(namespace: helmNamespace, name: helmSecretName) } catch { thrown = error }
        guard case .transport(let message) = thrown else {
            Issue.record("expected a transport error, got \(String(describing: thrown))")
            return
        }
        #expect(message.code == CURLE_COULDNT_CONNECT)
        #expect(message.request == "GET /api/v1/namespaces/kyma-installer/secrets/helm-secret")
        // libcurl's own detail from CURLOPT_ERRORBUFFER, not only curl_easy_strerror's "Couldn't connect to server".
        #expect(message.description.contains("port \(url.split(separator: ":").last!)"), "\(message)")
        #expect(String(describing: thrown!).contains("check --kube-api"))
    }

    @Test func aPlainHTTPURLNeverGetsTheTokenUnlessInsecureHTTPIsAllowed() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        let plain = "http://127.0.0.1:\(api.port)"
        #expect {
            try makeClient(for: api) { $0.apiServer = plain }.secret(namespace: helmNamespace, name: helmSecretName)
        } throws: { error in
            guard case .configuration(let text) = error as? KubernetesError else { return false }
            return text.description.contains("--kube-api-insecure-http")
        }
        #expect {
            try makeClient(for: api) { $0.apiServer = plain }.watchSecret(
                namespace: helmNamespace, name: helmSecretName, resourceVersion: "", shouldAbort: { false }) { _ in true }
        } throws: { error in
            guard case .configuration = error as? KubernetesError else { return false }
            return true
        }
        #expect(try api.requestLog().isEmpty, "nothing was sent")
        // Allowed, the request goes out (and the TLS server refuses plain HTTP: a transport error or HTTP 400).
        #expect {
            try makeClient(for: api) { $0.apiServer = plain; $0.allowsInsecureHTTP = true }
                .secret(namespace: helmNamespace, name: helmSecretName)
        } throws: { error in
            guard let error = error as? KubernetesError else { return false }
            if case .configuration = error { return false }
            return true
        }
    }

    @Test func aMissingTokenFileIsAConfigurationErrorNamingTheFile() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        let client = KubernetesClient(
            configuration: KubernetesConfiguration(apiServer: api.url, tokenFile: "/nonexistent/token", caFile: api.caFile),
            logger: .init(label: "test"))
        #expect(throws: KubernetesError.configuration(.unreadableTokenFile(
            path: "/nonexistent/token", call: "open", reason: "No such file or directory"))) {
            try client.secret(namespace: helmNamespace, name: helmSecretName)
        }
    }
}
