import FoundationEssentials
import Glibc
import HTTPServer
import Synchronization
import Testing
@testable import HelmCertServer
import TestSupport

@Suite("Problem types (RFC 9457 type URIs)")
struct ProblemDetailsTests {
    /// How to provoke each problem from a responder, and the status it comes with.
    struct Case: Sendable, CustomTestStringConvertible {
        var type: ProblemType
        var status: Int
        var path: String
        var method: HTTPMethod = .get
        var headers: [(String, String)] = []
        var authorized = true
        var serve = true
        var auditPath: String? = nil
        var testDescription: String { "\(type.rawValue): \(method) \(path) → \(status)" }
    }

    static let cases: [Case] = [
        Case(type: .noToken, status: 401, path: "/v1/bundles/helm/key.pem", authorized: false),
        Case(type: .malformedAuthorization, status: 401, path: "/v1/bundles/helm/key.pem",
             headers: [("Authorization", "Basic dXNlcjpwYXNz")], authorized: false),
        Case(type: .invalidToken, status: 401, path: "/v1/bundles/helm/key.pem",
             headers: [("Authorization", "Bearer not-a-known-token")], authorized: false),
        Case(type: .auditUnavailable, status: 503, path: "/v1/bundles/helm/key.pem", auditPath: "/dev/full"),
        Case(type: .bundleNotReady, status: 503, path: "/v1/bundles/helm/key.pem", serve: false),
        Case(type: .bundleNotReady, status: 503, path: "/readyz", authorized: false, serve: false),
        Case(type: .notFound, status: 404, path: "/nope", authorized: false),
        Case(type: .notFound, status: 404, path: "/v1/bundles/tiller/ca.pem"),
        Case(type: .methodNotAllowed, status: 405, path: "/v1/bundles/helm/ca.pem", method: .delete),
        Case(type: .methodNotAllowed, status: 405, path: "/healthz", method: .post, authorized: false),
    ]

    @Test("each problem answer carries its stable type URI, with title, status and detail", arguments: cases)
    func answerCarriesType(_ c: Case) throws {
        let fixture = try ResponderFixture(serve: c.serve, auditPath: c.auditPath)
        let response = fixture.send(c.path, method: c.method, headers: c.headers, authorized: c.authorized)
        try expectProblem(response, type: c.type, status: c.status)
    }

    @Test("a Kubernetes review that refuses or cannot be made answers forbidden or authentication-unavailable",
          arguments: [
              (TokenDecision.forbidden(Caller(user: "system:serviceaccount:ci:x", method: .kubernetes, groups: []),
                                       detail: "RBAC does not allow get on bundles"), ProblemType.forbidden, 403),
              (TokenDecision.unavailable("the TokenReview failed"), ProblemType.authenticationUnavailable, 503),
          ])
    func reviewProblems(decision: TokenDecision, type: ProblemType, status: Int) throws {
        let fixture = try ResponderFixture(reviewer: DecidedReviewer(decision: decision))
        let answered = Mutex<HTTPResponse?>(nil)
        let promise = HTTPResponsePromise { response in answered.withLock { $0 = response } }
        #expect(fixture.send("/v1/bundles/helm/key.pem", token: "kubernetes-token", promise: promise) == nil)
        let deadline = ContinuousClock.now + .seconds(10)
        while answered.withLock({ $0 == nil }) && ContinuousClock.now < deadline { usleep(10_000) }
        try expectProblem(try #require(answered.withLock { $0 }), type: type, status: status)
    }

    @Test("type URIs live under one base and are distinct")
    func uris() {
        let uris = ProblemType.allCases.map(\.uri)
        #expect(Set(uris).count == uris.count)
        #expect(ProblemType.noToken.uri == "https://helm-cert-server.kyma-project.io/problems/no-token")
        for uri in uris { #expect(uri.hasPrefix(ProblemType.base)) }
    }

    @Test("openapi.yaml lists exactly the type URIs the server sends")
    func openAPIListsEveryType() throws {
        let document = String(decoding: try Data(contentsOf: URL(filePath: "\(packageRoot)/openapi.yaml")), as: UTF8.self)
        let listed = Set(document.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("- \(ProblemType.base)") else { return nil }
            return String(trimmed.dropFirst(2))
        })
        #expect(listed == Set(ProblemType.allCases.map(\.uri)))
        #expect(!document.contains("about:blank"))
    }

    private func expectProblem(_ response: HTTPResponse, type: ProblemType, status: Int) throws {
        #expect(response.status == status)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let problem = try JSONDecoder().decode(Problem.self, from: Data(response.body))
        #expect(problem.type == type.uri)
        #expect(problem.status == status)
        #expect(!problem.title.isEmpty)
        #expect(!problem.detail.isEmpty)
    }

    /// The members every problem body has.
    private struct Problem: Decodable {
        var type: String
        var title: String
        var status: Int
        var detail: String
    }
}

/// A reviewer that has already decided about every token (its decision is "cached").
struct DecidedReviewer: TokenReviewer {
    let decision: TokenDecision
    func cachedDecision(forToken token: Substring) -> TokenDecision? { decision }
    func review(
        token: String, from client: String, hasLeft: @escaping @Sendable () -> Bool,
        completion: @escaping @Sendable (TokenDecision) -> Void
    ) {
        completion(decision)
    }
}
