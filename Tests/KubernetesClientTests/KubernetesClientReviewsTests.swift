import CLibCurl
import Foundation
import Logging
import Testing
import TestSupport
@testable import KubernetesClient

/// `reviewToken` (TokenReview) and `reviewAccess` (SubjectAccessReview) against the Kubernetes API double over
/// real TLS.
@Suite struct KubernetesClientReviewsTests {
    static let runnerToken = "eyJhbGciOiJSUzI1NiJ9.runner-token-under-review"
    static let runner = UserInfo(username: "system:serviceaccount:ci:runner", uid: "8f6c2e1a-runner",
                                 groups: ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"])
    static let bundleAccess = ResourceAttributes(namespace: "kyma-installer", verb: "get",
                                                 group: "helm-cert-server.kyma-project.io", resource: "bundles",
                                                 name: "helm")

    static func startDoubleKnowingTheRunner() throws -> KubernetesAPIDouble {
        let api = try KubernetesAPIDouble.start()
        try api.addReviewToken(runnerToken, username: runner.username!, uid: runner.uid, groups: runner.groups!)
        return api
    }

    // MARK: reviewToken

    @Test func aKnownTokenIsAuthenticatedWithItsUserAndGroups() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        let result = try makeClient(for: api).reviewToken(Self.runnerToken)
        #expect(result.authenticated)
        #expect(result.user == Self.runner)
        #expect(result.error == nil)
        let request = try #require(try api.requestLog().last)
        #expect(request.verb == "create")
        #expect(request.path == "/apis/authentication.k8s.io/v1/tokenreviews")
        #expect(request.code == 201)
        let body = try #require(request.jsonBody)
        #expect(body["apiVersion"] as? String == "authentication.k8s.io/v1")
        #expect(body["kind"] as? String == "TokenReview")
        #expect((body["spec"] as? [String: Any])?["token"] as? String == Self.runnerToken)
        #expect((body["spec"] as? [String: Any])?["audiences"] == nil, "no audiences asked for: none sent")
    }

    @Test func theAudiencesAskedForAreSentAndTheOnesTheTokenHoldsAreReported() throws {
        let api = try KubernetesAPIDouble.start()
        defer { api.stop() }
        try api.addReviewToken("projected", username: Self.runner.username!, audiences: ["helm-cert-server", "vault"])
        let result = try makeClient(for: api).reviewToken("projected", audiences: ["other", "helm-cert-server"])
        #expect(result.authenticated)
        #expect(result.audiences == ["helm-cert-server"])
        #expect(try api.requestLog().last?.reviewAudiences == ["other", "helm-cert-server"])
    }

    @Test func aTokenMintedForAnotherAudienceIsNotAuthenticatedWithTheServersError() throws {
        let api = try Self.startDoubleKnowingTheRunner()   // the runner's token is the API server's own
        defer { api.stop() }
        let result = try makeClient(for: api).reviewToken(Self.runnerToken, audiences: ["helm-cert-server"])
        #expect(!result.authenticated)
        #expect(result.error == #"[invalid bearer token, token audiences ["https://kubernetes.default.svc.cluster.local"] is invalid for the target audiences ["helm-cert-server"]]"#)
    }

    @Test func withoutAudiencesOnlyATokenForTheAPIServerItselfIsAuthenticated() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.addReviewToken("projected", username: Self.runner.username!, audiences: ["helm-cert-server"])
        #expect(!(try makeClient(for: api).reviewToken("projected").authenticated))
        let own = try makeClient(for: api).reviewToken(Self.runnerToken)
        #expect(own.authenticated)
        #expect(own.audiences == [KubernetesAPIDouble.apiServerAudience])
    }

    @Test func anUnknownTokenIsNotAuthenticatedAndCarriesTheServersError() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        let result = try makeClient(for: api).reviewToken("some-other-token")
        #expect(!result.authenticated)
        #expect(result.user == UserInfo(), "the API sends an empty user")
        #expect(result.error?.contains("invalid bearer token") == true)
    }

    @Test func aServiceThatMayNotCreateTokenReviewsGetsA403WithTheRBACMessage() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.denyReviews(true)
        let thrown = #expect(throws: KubernetesError.self) { try makeClient(for: api).reviewToken(Self.runnerToken) }
        guard case .status(let status) = thrown else {
            Issue.record("expected a Status, got \(String(describing: thrown))")
            return
        }
        #expect(status.code == 403)
        #expect(status.reason == "Forbidden")
        #expect(status.message == #"tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:kyma-installer:helm-cert-server" cannot create resource "tokenreviews" in API group "authentication.k8s.io" at the cluster scope"#)
    }

    @Test func reviewsAllowedAgainAfterADenialAreAnswered() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        let client = makeClient(for: api)
        try api.denyReviews(true)
        #expect(throws: KubernetesError.self) { try client.reviewToken(Self.runnerToken) }
        try api.denyReviews(false)
        #expect(try client.reviewToken(Self.runnerToken).authenticated)
    }

    @Test func aRotatedServiceTokenIsReReadAfterA401AndTheReviewRetriedOnce() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        let client = makeClient(for: api)
        _ = try client.reviewToken(Self.runnerToken)   // caches the first service token
        try api.rotateToken(to: "test-token-2")
        try api.clearRequestLog()
        #expect(try client.reviewToken(Self.runnerToken).authenticated)
        let log = try api.requestLog()
        #expect(log.map(\.code) == [401, 201])
        #expect(log.allSatisfy { $0.jsonBody?["kind"] as? String == "TokenReview" }, "the retry sends the same body")
    }

    @Test func injectedFaultsApplyToReviews() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.injectStatus(503, count: 1)
        #expect(throws: KubernetesError.self) { try makeClient(for: api).reviewToken(Self.runnerToken) }
        #expect(try api.requestLog().map(\.code) == [503])
        #expect(try makeClient(for: api).reviewAccess(user: Self.runner, resource: Self.bundleAccess).allowed == false)
    }

    @Test func aHangingReviewTimesOutAfterTheRequestTimeout() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.injectHang(count: 1, seconds: 10)
        let client = makeClient(for: api) { $0.requestTimeout = .milliseconds(500) }
        let started = ContinuousClock.now
        let thrown = #expect(throws: KubernetesError.self) { try client.reviewToken(Self.runnerToken) }
        guard case .transport(let message) = thrown else {
            Issue.record("expected a transport error, got \(String(describing: thrown))")
            return
        }
        #expect(message.description.contains("imed out"))
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func theTokenUnderReviewNeverAppearsInLogsOrErrors() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        let logs = LogCapture()
        let configuration = KubernetesConfiguration(apiServer: api.url, tokenFile: api.tokenFile, caFile: api.caFile)
        let client = KubernetesClient(configuration: configuration, logger: logs.logger())
        var errors: [String] = []
        _ = try client.reviewToken(Self.runnerToken)                 // success
        try api.rotateToken(to: "test-token-2")
        _ = try client.reviewToken(Self.runnerToken)                 // 401, re-read, retry
        try api.injectStatus(503, count: 1)
        do { _ = try client.reviewToken(Self.runnerToken) } catch { errors.append("\(error)") }
        try api.denyReviews(true)
        do { _ = try client.reviewToken(Self.runnerToken) } catch { errors.append("\(error)") }
        try api.injectHang(count: 1, seconds: 5)
        let impatient = KubernetesClient(configuration: { var c = configuration; c.requestTimeout = .milliseconds(300); return c }(),
                                         logger: logs.logger())
        do { _ = try impatient.reviewToken(Self.runnerToken) } catch { errors.append("\(error)") }

        #expect(errors.count == 3, "503, 403 and the timeout are errors")
        #expect(logs.all.count >= 4, "the requests were logged (debug) and the 401 (info)")
        #expect(logs.all.contains { $0.contains("tokenreviews") })
        for text in logs.all + errors {
            #expect(!text.description.contains(Self.runnerToken), "leaked: \(text)")
            #expect(!text.description.contains("test-token"), "the service's own token leaked: \(text)")
        }
    }

    @Test func anErrorThatQuotesTheTokenIsRedacted() {
        let error = KubernetesError.status(Status(message: "bad token \(Self.runnerToken)!", code: 400))
        #expect(error.redacting(Self.runnerToken) == .status(Status(message: "bad token <redacted>!", code: 400)))
        let cut = KubernetesError.transport(.init(request: "POST /x", code: CURLE_RECV_ERROR, message: "x\(Self.runnerToken)y"))
        #expect(cut.redacting(Self.runnerToken) == .transport(.init(request: "POST /x", code: CURLE_RECV_ERROR, message: "x<redacted>y")))
        let odd = KubernetesError.decoding(.init(object: "TokenReview answer", field: "status", problem: "\(Self.runnerToken) is not an object"))
        #expect(!odd.redacting(Self.runnerToken).description.contains(Self.runnerToken))
    }

    // MARK: reviewAccess

    @Test func accessGrantedToTheUserIsAllowedWithTheRBACReason() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.grant(user: Self.runner.username, verb: "get", apiGroup: "helm-cert-server.kyma-project.io",
                      resource: "bundles", name: "helm", namespace: "kyma-installer")
        let result = try makeClient(for: api).reviewAccess(user: Self.runner, resource: Self.bundleAccess)
        #expect(result.allowed)
        #expect(result.reason?.hasPrefix("RBAC: allowed by RoleBinding") == true)
        #expect(result.reason?.hasSuffix(#"to User "system:serviceaccount:ci:runner""#) == true)
    }

    @Test func accessGrantedToOneOfTheUsersGroupsIsAllowed() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.grant(group: "system:serviceaccounts:ci", verb: "get", apiGroup: "helm-cert-server.kyma-project.io",
                      resource: "bundles")
        let result = try makeClient(for: api).reviewAccess(user: Self.runner, resource: Self.bundleAccess)
        #expect(result.allowed)
        #expect(result.reason?.hasSuffix(#"to Group "system:serviceaccounts:ci""#) == true)
    }

    @Test(arguments: [
        ("someone else", ResourceAttributes(namespace: "kyma-installer", verb: "get",
                                            group: "helm-cert-server.kyma-project.io", resource: "bundles", name: "helm")),
        ("another verb", ResourceAttributes(namespace: "kyma-installer", verb: "delete",
                                            group: "helm-cert-server.kyma-project.io", resource: "bundles", name: "helm")),
        ("another bundle", ResourceAttributes(namespace: "kyma-installer", verb: "get",
                                              group: "helm-cert-server.kyma-project.io", resource: "bundles", name: "other")),
        ("another namespace", ResourceAttributes(namespace: "default", verb: "get",
                                                 group: "helm-cert-server.kyma-project.io", resource: "bundles", name: "helm")),
        ("another group", ResourceAttributes(namespace: "kyma-installer", verb: "get", group: "", resource: "bundles",
                                             name: "helm")),
    ])
    func accessNotGrantedIsNotAllowed(what: String, resource: ResourceAttributes) throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.grant(user: "system:serviceaccount:ci:runner", verb: "get", apiGroup: "helm-cert-server.kyma-project.io",
                      resource: "bundles", name: "helm", namespace: "kyma-installer")
        let user = what == "someone else" ? UserInfo(username: "system:serviceaccount:ci:intruder",
                                                     groups: ["system:authenticated"]) : Self.runner
        let result = try makeClient(for: api).reviewAccess(user: user, resource: resource)
        #expect(!result.allowed, "\(what)")
        #expect(result.reason == nil, "RBAC gives no reason when nothing matched")
    }

    @Test func theReviewSendsTheUserAndTheResourceAttributesExactly() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        var user = Self.runner
        user.extra = ["authentication.kubernetes.io/pod-name": ["runner-7d9f"]]
        _ = try makeClient(for: api).reviewAccess(user: user, resource: Self.bundleAccess)
        let request = try #require(try api.requestLog().last)
        #expect(request.verb == "create")
        #expect(request.path == "/apis/authorization.k8s.io/v1/subjectaccessreviews")
        #expect(request.code == 201)
        let body = try #require(request.jsonBody)
        #expect(body["apiVersion"] as? String == "authorization.k8s.io/v1")
        #expect(body["kind"] as? String == "SubjectAccessReview")
        let spec = try #require(body["spec"] as? [String: Any])
        #expect(spec["resourceAttributes"] as? [String: String] == [
            "namespace": "kyma-installer", "verb": "get", "group": "helm-cert-server.kyma-project.io",
            "resource": "bundles", "name": "helm",
        ])
        #expect(spec["user"] as? String == "system:serviceaccount:ci:runner")
        #expect(spec["uid"] as? String == "8f6c2e1a-runner")
        #expect(spec["groups"] as? [String] == Self.runner.groups)
        #expect(spec["extra"] as? [String: [String]] == ["authentication.kubernetes.io/pod-name": ["runner-7d9f"]])
        #expect(Set(spec.keys) == ["resourceAttributes", "user", "uid", "groups", "extra"])
    }

    @Test func aServiceThatMayNotCreateSubjectAccessReviewsGetsA403WithTheRBACMessage() throws {
        let api = try Self.startDoubleKnowingTheRunner()
        defer { api.stop() }
        try api.denyReviews(true)
        let thrown = #expect(throws: KubernetesError.self) {
            try makeClient(for: api).reviewAccess(user: Self.runner, resource: Self.bundleAccess)
        }
        #expect(thrown?.statusCode == 403)
        #expect(thrown == .status(Status(
            status: "Failure",
            message: #"subjectaccessreviews.authorization.k8s.io is forbidden: User "system:serviceaccount:kyma-installer:helm-cert-server" cannot create resource "subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope"#,
            reason: "Forbidden", code: 403)))
    }
}
