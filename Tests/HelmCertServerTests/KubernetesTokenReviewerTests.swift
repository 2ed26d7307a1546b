import Foundation
import KubernetesClient
import Logging
import Synchronization
import Testing
@testable import HelmCertServer
import TestSupport

/// `KubernetesTokenReviewer` against the Kubernetes API double: audiences, its caches and its queue shares.
@Suite("Kubernetes token reviews: audiences, caches and queue shares")
struct KubernetesTokenReviewerTests {
    static let runner = "system:serviceaccount:ci:runner"
    static let runnerToken = "runner-token"

    static func startDouble() throws -> KubernetesAPIDouble {
        let api = try KubernetesAPIDouble.start()
        try api.addReviewToken(runnerToken, username: runner, uid: "u-1", groups: ["system:serviceaccounts"])
        try api.grant(user: runner, verb: "get", apiGroup: "helm-cert-server.kyma-project.io", resource: "bundles",
                      name: "helm", namespace: "kyma-installer")
        return api
    }

    static func reviewer(for api: KubernetesAPIDouble, limits: KubernetesTokenReviewer.Limits,
                         audiences: [String] = [], requestTimeout: Duration = .seconds(15),
                         logs: LogCapture? = nil) -> KubernetesTokenReviewer {
        var configuration = KubernetesConfiguration(apiServer: api.url, tokenFile: api.tokenFile, caFile: api.caFile)
        configuration.requestTimeout = requestTimeout
        var quiet = Logger(label: "reviewer-tests")
        quiet.logLevel = .critical
        let logger = logs?.logger() ?? quiet
        return KubernetesTokenReviewer(
            client: KubernetesClient(configuration: configuration, logger: quiet),
            permission: .init(namespace: "kyma-installer", group: "helm-cert-server.kyma-project.io", name: "helm"),
            audiences: audiences, logger: logger, limits: limits)
    }

    /// One review's decision, once it comes; `immediate` tells whether it came before `review` returned.
    final class Outcome: @unchecked Sendable {
        private let condition = NSCondition()
        private var value: TokenDecision?
        private(set) var immediate = false

        static func review(
            _ reviewer: KubernetesTokenReviewer, _ token: String, from address: String,
            hasLeft: @escaping @Sendable () -> Bool = { false }
        ) -> Outcome {
            let outcome = Outcome()
            reviewer.review(token: token, from: address, hasLeft: hasLeft) { decision in
                outcome.condition.withLock {
                    outcome.value = decision
                    outcome.condition.broadcast()
                }
            }
            outcome.immediate = outcome.condition.withLock { outcome.value != nil }
            return outcome
        }

        func wait(seconds: Double = 20) -> TokenDecision? {
            let deadline = Date().addingTimeInterval(seconds)
            condition.lock()
            defer { condition.unlock() }
            while value == nil && condition.wait(until: deadline) {}
            return value
        }
    }

    @Test("a stream of made-up tokens fills only the refusal cache: the allowed decision stays cached")
    func refusalsNeverEvictAllowed() throws {
        let api = try Self.startDouble()
        defer { api.stop() }
        var limits = KubernetesTokenReviewer.Limits()
        limits.allowedCapacity = 4
        limits.refusedCapacity = 4
        let reviewer = Self.reviewer(for: api, limits: limits)
        guard case .allowed(let caller) = Outcome.review(reviewer, Self.runnerToken, from: "10.0.0.1:1").wait() else {
            Issue.record("the runner was not allowed")
            return
        }
        #expect(caller.user == Self.runner)
        for n in 0..<12 {
            #expect(Outcome.review(reviewer, "made-up-\(n)", from: "10.0.0.66:\(n)").wait() == .unknownToken)
        }
        #expect(reviewer.cachedDecision(forToken: Substring(Self.runnerToken)) == .allowed(caller))
        #expect(reviewer.cachedDecision(forToken: "made-up-0") == nil, "only the last 4 refusals are kept")
        #expect(reviewer.cachedDecision(forToken: "made-up-11") == .unknownToken)
        let runnerReviews = try api.requestLog().filter {
            ($0.jsonBody?["spec"] as? [String: Any])?["token"] as? String == Self.runnerToken
        }
        #expect(runnerReviews.count == 1)
    }

    @Test("one client gets at most its share of the waiting reviews; others still get places; all places have a bound")
    func perClientShare() throws {
        let api = try Self.startDouble()
        defer { api.stop() }
        try api.injectHang(seconds: 2)   // every review asked in the next 2 s waits, then fails
        var limits = KubernetesTokenReviewer.Limits()
        limits.concurrency = 1
        limits.maxPending = 5
        limits.maxPendingPerClient = 2
        let reviewer = Self.reviewer(for: api, limits: limits, requestTimeout: .seconds(1))
        let a1 = Outcome.review(reviewer, "a-1", from: "10.0.0.1:1000")
        let a1Again = Outcome.review(reviewer, "a-1", from: "10.0.0.1:1001")   // joins a-1's review, in a place of its own
        let a2 = Outcome.review(reviewer, "a-2", from: "10.0.0.1:1002")
        #expect(!a1.immediate && !a1Again.immediate)
        #expect(a2.immediate, "a third request from 10.0.0.1 must be refused at once")
        guard case .unavailable(let reason) = a2.wait() else { Issue.record("a-2 was not refused"); return }
        #expect(reason.contains("from 10.0.0.1"))

        let b1 = Outcome.review(reviewer, "b-1", from: "10.0.0.2:1")
        let c1 = Outcome.review(reviewer, "c-1", from: "[2001:db8::1]:1")
        let c2 = Outcome.review(reviewer, "c-2", from: "[2001:db8::2]:1")   // the same /64: c's second place
        #expect(!b1.immediate && !c1.immediate && !c2.immediate, "other clients still get places")
        let d1 = Outcome.review(reviewer, "d-1", from: "10.0.0.4:1")
        #expect(d1.immediate, "5 reviews wait: the whole queue is full")
        guard case .unavailable(let full) = d1.wait() else { Issue.record("d-1 was not refused"); return }
        #expect(full.contains("too many Kubernetes token reviews are waiting"))

        for outcome in [a1, a1Again, b1, c1, c2] { #expect(outcome.wait() != nil) }
        #expect(a1.wait() == a1Again.wait())
        // The places are given back: the same client is served again (the API answers by now).
        #expect(Outcome.review(reviewer, Self.runnerToken, from: "10.0.0.1:1004").wait().map { if case .allowed = $0 { true } else { false } } == true)
    }

    @Test("requests joining a review count against both bounds; clients that left give their places back; a review nobody waits for is never asked")
    func joinedRequestsAndClientsThatLeft() throws {
        let api = try Self.startDouble()
        defer { api.stop() }
        try api.injectHang(count: 1, seconds: 5)   // the first review holds the only slot for 5 s, then fails
        var limits = KubernetesTokenReviewer.Limits()
        limits.concurrency = 1
        limits.maxPending = 4
        limits.maxPendingPerClient = 2
        let reviewer = Self.reviewer(for: api, limits: limits, requestTimeout: .seconds(10))
        let held = Outcome.review(reviewer, "held", from: "10.0.0.9:1")
        // Once the API has the held review, it holds the only slot: every review below is queued behind it.
        let askedTokens = { try api.requestLog().compactMap { ($0.jsonBody?["spec"] as? [String: Any])?["token"] as? String } }
        let deadline = ContinuousClock.now + .seconds(20)
        while try !askedTokens().contains("held") && ContinuousClock.now < deadline { usleep(20_000) }
        let xLeft = Atomic<Bool>(false)
        let x1 = Outcome.review(reviewer, "x", from: "10.0.0.1:1", hasLeft: { xLeft.load(ordering: .relaxed) })
        let x2 = Outcome.review(reviewer, "x", from: "10.0.0.1:2", hasLeft: { xLeft.load(ordering: .relaxed) })
        let x3 = Outcome.review(reviewer, "x", from: "10.0.0.1:3")
        #expect(!held.immediate && !x1.immediate && !x2.immediate)
        #expect(x3.immediate, "joining a review takes a place of the client's share")
        let yLeft = Atomic<Bool>(false)
        let y1 = Outcome.review(reviewer, "y", from: "10.0.0.2:1", hasLeft: { yLeft.load(ordering: .relaxed) })
        let z1 = Outcome.review(reviewer, "y", from: "10.0.0.3:1")
        #expect(z1.immediate, "4 requests wait (two of them on one review): the whole queue is full")
        guard case .unavailable(let full) = z1.wait() else { Issue.record("z-1 was not refused"); return }
        #expect(full.contains("too many Kubernetes token reviews are waiting"))

        // x's two clients leave: a new request from their address gets a place, and they are told at once.
        xLeft.store(true, ordering: .relaxed)
        let x4 = Outcome.review(reviewer, Self.runnerToken, from: "10.0.0.1:4")
        #expect(!x4.immediate)
        #expect(x1.immediate == false && x1.wait(seconds: 0) == KubernetesTokenReviewer.clientLeft)
        #expect(x2.wait(seconds: 0) == KubernetesTokenReviewer.clientLeft)
        // y's only client leaves while its review is queued: when a slot frees, the review is dropped unasked.
        yLeft.store(true, ordering: .relaxed)
        #expect(y1.wait() == KubernetesTokenReviewer.clientLeft)
        #expect(x4.wait() != nil && x4.wait() != KubernetesTokenReviewer.clientLeft, "x-4 is reviewed")
        #expect(held.wait() != nil)
        let asked = try askedTokens()
        #expect(!asked.contains("x") && !asked.contains("y"), "reviews nobody waits for are not sent: \(asked)")
        #expect(asked.contains("held"))
    }

    @Test("an API failure is not cached: the next request asks again and gets the answer")
    func failuresAreNotCached() throws {
        let api = try Self.startDouble()
        defer { api.stop() }
        try api.injectStatus(503, count: 1)
        let reviewer = Self.reviewer(for: api, limits: .init())
        guard case .unavailable = Outcome.review(reviewer, Self.runnerToken, from: "10.0.0.1:1").wait() else {
            Issue.record("a 503 from the API must make the decision unavailable")
            return
        }
        #expect(reviewer.cachedDecision(forToken: Substring(Self.runnerToken)) == nil)
        guard case .allowed = Outcome.review(reviewer, Self.runnerToken, from: "10.0.0.1:1").wait() else {
            Issue.record("the second review was not allowed")
            return
        }
    }

    @Test("an unreachable API is logged once per failure episode, and its end once, however many tokens come")
    func failureEpisodesLoggedOnce() throws {
        let api = try Self.startDouble()
        defer { api.stop() }
        let logs = LogCapture()
        let reviewer = Self.reviewer(for: api, limits: .init(), logs: logs)
        for episode in 0..<2 {
            try api.injectStatus(503, count: 5)
            for n in 0..<5 {
                guard case .unavailable = Outcome.review(reviewer, "made-up-\(episode)-\(n)", from: "10.0.0.1:1").wait() else {
                    Issue.record("a 503 from the API must make the decision unavailable")
                    return
                }
            }
            guard case .allowed = Outcome.review(reviewer, Self.runnerToken, from: "10.0.0.1:1").wait() else {
                Issue.record("the runner was not allowed once the API answered")
                return
            }
        }
        let failed = logs.all.filter { $0.contains("TokenReview failed") }
        #expect(failed.count == 2, "one line per episode, not per request: \(failed)")
        #expect(logs.all.filter { $0.contains("TokenReview works again") }.count == 2)
        #expect(!logs.all.joined().contains("made-up-"), "never a token in the log")
    }

    @Test("with an audience, only tokens minted for it are allowed; the API server's own tokens are unknown")
    func audience() throws {
        let api = try Self.startDouble()
        defer { api.stop() }
        try api.addReviewToken("projected", username: Self.runner, audiences: ["helm-cert-server"])
        let reviewer = Self.reviewer(for: api, limits: .init(), audiences: ["helm-cert-server"])
        guard case .allowed(let caller) = Outcome.review(reviewer, "projected", from: "10.0.0.1:1").wait() else {
            Issue.record("the token minted for helm-cert-server was not allowed")
            return
        }
        #expect(caller.user == Self.runner)
        #expect(Outcome.review(reviewer, Self.runnerToken, from: "10.0.0.1:1").wait() == .unknownToken,
                "a token for the API server's audience (any pod's default token) is refused")
        let asked = try api.requestLog().filter { $0.path.hasSuffix("tokenreviews") }.map(\.reviewAudiences)
        #expect(asked == [["helm-cert-server"], ["helm-cert-server"]])
    }
}
