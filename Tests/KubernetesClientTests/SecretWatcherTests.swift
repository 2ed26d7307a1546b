import Foundation
import Logging
import Testing
import TestSupport
@testable import KubernetesClient

/// `SecretWatcher` against the Kubernetes API double: list, watch, reconnects, re-lists, backoff, stop.
@Suite struct SecretWatcherTests {
    /// Fast, jitter-free backoff so failure tests take milliseconds: 20 ms, 40 ms, 80 ms … up to 200 ms.
    static let fastBackoff = ExponentialBackoff(initial: .milliseconds(20), maximum: .milliseconds(200), random: { 0.5 })

    struct Running {
        let api: KubernetesAPIDouble
        let watcher: SecretWatcher
        let events: EventRecorder
        func stop() { watcher.stop(); api.stop() }

        /// Waits until the watcher has a watch open on the double.
        func waitForOpenWatch() throws {
            #expect(try eventually { try api.openWatches() == 1 }, "the watcher never opened a watch")
        }
    }

    static func startWatching(
        _ api: KubernetesAPIDouble, backoff: ExponentialBackoff = fastBackoff,
        adjust: (inout KubernetesConfiguration) -> Void = { _ in }
    ) -> Running {
        let events = EventRecorder()
        var logger = Logger(label: "watcher-tests")
        logger.logLevel = .critical
        let watcher = SecretWatcher(client: makeClient(for: api, adjust: adjust), namespace: helmNamespace,
                                    name: helmSecretName, logger: logger, backoff: backoff,
                                    onEvent: { events.record($0) })
        watcher.start()
        return Running(api: api, watcher: watcher, events: events)
    }

    @Test func deliversTheSecretThenAModificationWithinASecond() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        let first = try #require(run.events.next { $0.value("global.helm.ca.crt") != nil })
        #expect(first.index == 0)
        #expect(first.event == .updated(try makeClient(for: run.api).secret(namespace: helmNamespace, name: helmSecretName)))
        try run.waitForOpenWatch()

        let changed = ContinuousClock.now
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("rotated".utf8)])
        let update = try #require(run.events.next(after: 1, within: .seconds(1)) { $0.value("global.helm.ca.crt") == "rotated" })
        #expect(update.at - changed < .seconds(1))
        #expect(try run.api.requestLog().map(\.verb).filter { $0 != "get" } == ["list", "watch"],
                "one list, then one watch carries the change")
        let watch = try #require(try run.api.requestLog().last { $0.verb == "watch" })
        #expect(watch.query.contains("fieldSelector=metadata.name%3Dhelm-secret"))
        #expect(watch.query.contains("allowWatchBookmarks=true"))
        #expect(watch.query.contains("timeoutSeconds=290"))
        #expect(watch.query.contains("resourceVersion="))
    }

    @Test func deliversDeletedThenTheSecretCreatedAgain() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        #expect(run.events.next { $0.value("global.helm.tls.key") != nil } != nil)
        try run.waitForOpenWatch()
        try run.api.deleteSecret(namespace: helmNamespace, name: helmSecretName)
        let deleted = try #require(run.events.next(within: .seconds(1)) { $0.isDeleted })
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("new".utf8)])
        #expect(run.events.next(after: deleted.index, within: .seconds(1)) { $0.value("global.helm.ca.crt") == "new" } != nil)
    }

    @Test func anAbsentSecretIsReportedDeletedAndThenAppearsWhenCreated() throws {
        let run = Self.startWatching(try KubernetesAPIDouble.start())
        defer { run.stop() }
        #expect(run.events.next { _ in true }?.event == .deleted)
        try run.waitForOpenWatch()
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["ca.crt": Array("x".utf8)])
        #expect(run.events.next(after: 1, within: .seconds(1)) { $0.value("ca.crt") == "x" } != nil)
    }

    @Test func anInStreamExpiryReListsAndTheWatchContinues() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        #expect(run.events.next { $0.value("global.helm.ca.crt") != nil } != nil)
        try run.waitForOpenWatch()
        try run.api.clearRequestLog()
        try run.api.expireWatches()
        #expect(try eventually { try run.api.requestLog().map(\.verb) == ["list", "watch"] && run.api.openWatches() == 1 },
                "after a 410 in the stream the watcher lists again, then watches from the new list")
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("after".utf8)])
        #expect(run.events.next(within: .seconds(1)) { $0.value("global.helm.ca.crt") == "after" } != nil)
        #expect(!run.events.all.contains { $0.isFailure }, "an expiry is routine, not a failure")
        #expect(run.events.all.filter(\.isChange).count == 2,
                "the re-list found the same secret, which is not delivered twice")
        #expect(run.events.all.contains(.confirmed), "the re-list confirmed the secret")
    }

    @Test func anInStreamExpiryIsReportedAsOneWatchRestartBeforeTheReList() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        #expect(run.events.next { $0.value("global.helm.ca.crt") != nil } != nil)
        try run.waitForOpenWatch()
        #expect(!run.events.all.contains { $0.isWatchRestart }, "the first list and watch are no restart")
        try run.api.expireWatches()
        let restart = try #require(run.events.next(within: .seconds(2)) { $0.isWatchRestart })
        #expect(restart.event.restartReason?.contains("410") == true)
        #expect(try eventually { try run.api.openWatches() == 1 })
        #expect(run.events.all.filter { $0.isWatchRestart }.count == 1)
    }

    @Test func aCutStreamIsReportedAsOneWatchRestart() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        try run.waitForOpenWatch()
        #expect(try run.api.cutWatches() == 1)
        let restart = try #require(run.events.next(within: .seconds(2)) { $0.isWatchRestart })
        #expect(restart.event.restartReason?.contains("cut") == true)
        #expect(try eventually { try run.api.openWatches() == 1 })
        #expect(try run.api.cutWatches() == 1)
        #expect(run.events.next(after: restart.index + 1, within: .seconds(2)) { $0.isWatchRestart } != nil,
                "every cut is one more restart")
        #expect(!run.events.all.contains { $0.isFailure })
    }

    @Test func theServersWatchTimeoutIsReportedAsAWatchRestart() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret()) { $0.watchTimeoutSeconds = 1 }
        defer { run.stop() }
        let restart = try #require(run.events.next(within: .seconds(4)) { $0.isWatchRestart })
        #expect(restart.event.restartReason?.contains("timeout") == true)
        #expect(!run.events.all.contains { $0.isFailure })
    }

    @Test func aStreamCutMidEventResumesFromTheLastResourceVersionWithoutAReList() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        try run.waitForOpenWatch()
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("one".utf8)])
        let one = try #require(run.events.next(within: .seconds(1)) { $0.value("global.helm.ca.crt") == "one" })
        guard case .updated(let seen) = one.event, let version = seen.metadata.resourceVersion else {
            Issue.record("no resourceVersion in \(one.event)")
            return
        }
        try run.api.clearRequestLog()
        #expect(try run.api.cutWatches() == 1)
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("two".utf8)])
        #expect(run.events.next(after: one.index, within: .seconds(2)) { $0.value("global.helm.ca.crt") == "two" } != nil)
        let requests = try run.api.requestLog()
        #expect(requests.first?.verb == "watch")
        #expect(requests.first?.query.contains("resourceVersion=\(version)&") == true)
        #expect(!requests.contains { $0.verb == "list" })
        #expect(!run.events.all.contains { $0.isFailure }, "the half event line is dropped, not decoded")
    }

    @Test func aBookmarkAdvancesWhereTheNextWatchStarts() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        try run.waitForOpenWatch()
        try run.api.setSecret(namespace: "elsewhere", name: "unrelated", data: ["a": [1]])  // moves the global RV
        let watchesBefore = try run.api.requestLog().count
        #expect(try run.api.sendBookmark() == 1)
        // let the bookmark land, then end the stream: the next watch must start from the bookmark's RV
        let bookmarked = try makeClient(for: run.api).listSecret(namespace: helmNamespace, name: helmSecretName).resourceVersion
        #expect(try eventually {
            _ = try run.api.cutWatches()
            return try run.api.requestLog().dropFirst(watchesBefore).contains { $0.query.contains("resourceVersion=\(bookmarked)&") }
        })
        #expect(run.events.all.filter(\.isChange).count == 1, "a bookmark changes nothing")
        #expect(run.events.all.contains(.confirmed), "a bookmark confirms the secret")
    }

    @Test func aBurstOf503sIsReportedWithGrowingBackoffAndThenRecovers() throws {
        let api = try startDoubleWithHelmSecret()
        try api.injectStatus(503, count: 3)
        let started = ContinuousClock.now
        let run = Self.startWatching(api)
        defer { run.stop() }
        let recovered = try #require(run.events.next { $0.value("global.helm.ca.crt") != nil })
        let failures = run.events.all.prefix(recovered.index)
        #expect(failures.count == 3)
        #expect(failures.allSatisfy { if case .failed(let error) = $0 { error.statusCode == 503 } else { false } })
        #expect(recovered.at - started >= .milliseconds(140), "backoff 20 + 40 + 80 ms before the 4th list")
        #expect(try api.requestLog().prefix(4).map(\.code) == [503, 503, 503, 200])
    }

    @Test func aHangingListTimesOutAndIsRetried() throws {
        let api = try startDoubleWithHelmSecret()
        try api.injectHang(count: 1, seconds: 10)
        let run = Self.startWatching(api) { $0.requestTimeout = .milliseconds(500) }
        defer { run.stop() }
        let first = try #require(run.events.next { _ in true })
        guard case .failed(.transport(let message)) = first.event else {
            Issue.record("expected a timeout first, got \(first.event)")
            return
        }
        #expect(message.description.contains("imed out"))
        #expect(run.events.next(after: 1, within: .seconds(3)) { $0.value("global.helm.ca.crt") != nil } != nil)
    }

    @Test func aHangingWatchTimesOutAfterTimeoutSecondsPlusSlackAndTheWatcherRecovers() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret()) {
            $0.watchTimeoutSeconds = 1
            $0.watchTimeoutSlack = .milliseconds(300)
        }
        defer { run.stop() }
        try run.waitForOpenWatch()
        try run.api.injectHang(count: 1, seconds: 20)
        let cut = ContinuousClock.now
        try run.api.cutWatches()
        let failure = try #require(run.events.next(within: .seconds(4)) { $0.isFailure })
        #expect(ContinuousClock.now - cut < .seconds(3))
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("late".utf8)])
        #expect(run.events.next(after: failure.index, within: .seconds(3)) { $0.value("global.helm.ca.crt") == "late" } != nil)
    }

    @Test func aTokenRotatedDuringAWatchIsPickedUpOnTheNext401WithoutAFailure() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        try run.waitForOpenWatch()
        try run.api.rotateToken(to: "test-token-2")
        try run.api.clearRequestLog()
        try run.api.cutWatches()
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("t2".utf8)])
        #expect(run.events.next(within: .seconds(2)) { $0.value("global.helm.ca.crt") == "t2" } != nil)
        #expect(try run.api.requestLog().prefix(2).map(\.code) == [401, 200])
        #expect(!run.events.all.contains { $0.isFailure })
    }

    @Test func aWatchAnswered401WithoutABodyReReadsTheTokenAndRetriesWithoutAFailure() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.stop() }
        try run.waitForOpenWatch()
        try run.api.injectStatus(401, count: 1, emptyBody: true)
        try run.api.clearRequestLog()
        try run.api.cutWatches()
        #expect(try eventually { try run.api.requestLog().map(\.code) == [401, 200] && run.api.openWatches() == 1 })
        #expect(try run.api.requestLog().map(\.verb) == ["watch", "watch"])
        #expect(!run.events.all.contains { $0.isFailure })
    }

    @Test func aWatchEventLongerThanTheLimitEndsTheWatchWithAClearErrorThenTheWatcherBacksOffAndReLists() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret()) { $0.maxWatchEventBytes = 64 << 10 }
        defer { run.stop() }
        _ = try #require(run.events.next { $0.value("global.helm.ca.crt") != nil })
        try run.waitForOpenWatch()
        try run.api.clearRequestLog()
        let big = String(repeating: "x", count: 100 << 10)
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array(big.utf8)])

        let failure = try #require(run.events.next(where: \.isFailure))
        guard case .failed(.decoding(let message)) = failure.event else {
            Issue.record("expected a decoding failure, got \(failure.event)")
            return
        }
        #expect(message.description.contains("longer than 65536 bytes"))
        // The LIST has no such limit: the re-list after the backoff brings the secret.
        #expect(run.events.next(after: failure.index) { $0.value("global.helm.ca.crt") == big } != nil)
        #expect(try run.api.requestLog().first?.verb == "list", "the next request re-lists (the open watch was logged before)")
    }

    @Test func aForbiddenSecretIsReportedAsAFailureWithTheAPIsMessage() throws {
        let run = Self.startWatching(try KubernetesAPIDouble.start(
            secrets: [.init(namespace: helmNamespace, name: helmSecretName, data: helmData)],
            denied: [(helmNamespace, helmSecretName)]))
        defer { run.stop() }
        let failure = try #require(run.events.next { _ in true })
        guard case .failed(.status(let status)) = failure.event else {
            Issue.record("expected a Status failure, got \(failure.event)")
            return
        }
        #expect(status.code == 403)
        #expect(status.message?.contains(#"cannot list resource "secrets""#) == true)
    }

    @Test func stopAbortsAnOpenWatchPromptlyAndNothingIsDeliveredAfterwards() throws {
        let run = Self.startWatching(try startDoubleWithHelmSecret())
        defer { run.api.stop() }
        #expect(run.events.next { _ in true } != nil)
        try run.waitForOpenWatch()
        let stopping = ContinuousClock.now
        run.watcher.stop()
        #expect(ContinuousClock.now - stopping < .milliseconds(500), "libcurl polls the progress callback about every 0.1 s")
        let delivered = run.events.all.count
        try run.api.setSecret(namespace: helmNamespace, name: helmSecretName, data: ["global.helm.ca.crt": Array("late".utf8)])
        #expect(try eventually(within: .seconds(2)) { try run.api.openWatches() == 0 })
        #expect(run.events.all.count == delivered)
    }

    @Test func stopAbortsAHangingListPromptly() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.injectHang(count: 1, seconds: 30)
        let run = Self.startWatching(api)   // default 15 s request timeout
        #expect(try eventually { try api.requestLog().first?.verb == "list" })
        let stopping = ContinuousClock.now
        run.watcher.stop()
        #expect(ContinuousClock.now - stopping < .milliseconds(500))
        #expect(run.events.all.isEmpty, "a list cut short by stop() is not reported as a failure")
    }

    @Test func stopEndsABackoffPauseAtOnce() throws {
        let api = try startDoubleWithHelmSecret()
        defer { api.stop() }
        try api.injectStatus(503, count: 1)
        let run = Self.startWatching(api, backoff: ExponentialBackoff(initial: .seconds(30), maximum: .seconds(30)))
        #expect(run.events.next { $0.isFailure } != nil)
        let stopping = ContinuousClock.now
        run.watcher.stop()
        #expect(ContinuousClock.now - stopping < .milliseconds(500))
    }
}
