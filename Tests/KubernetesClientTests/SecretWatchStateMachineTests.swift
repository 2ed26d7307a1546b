import CLibCurl
import Testing
@testable import KubernetesClient

/// The watch loop's decisions, driven by hand: no server, no clock, no sleeps.
@Suite struct SecretWatchStateMachineTests {
    typealias Machine = SecretWatchStateMachine

    /// No jitter (random() = 0.5 lands in the middle of the ±20 % band): delays are exactly 0.5 s, 1 s, 2 s, …
    static let steadyBackoff = ExponentialBackoff(random: { 0.5 })

    static func secret(_ version: String, value: String = "v") -> Secret {
        Secret(metadata: ObjectMeta(name: "helm-secret", namespace: "kyma-installer", resourceVersion: version),
               data: ["ca.crt": value], type: "Opaque")
    }

    @Test func startsWithAList() {
        #expect(Machine().start() == .list)
    }

    @Test func aListDeliversTheSecretThenWatchesFromTheListsResourceVersion() {
        var machine = Machine(backoff: Self.steadyBackoff)
        let outcome = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        #expect(outcome == .init(event: .updated(Self.secret("7")), next: .watch(resourceVersion: "9")))
    }

    @Test func aListWithoutTheSecretDeliversDeleted() {
        var machine = Machine(backoff: Self.steadyBackoff)
        #expect(machine.listSucceeded(secret: nil, resourceVersion: "3") == .init(event: .deleted, next: .watch(resourceVersion: "3")))
    }

    @Test func aReListFindingTheSameSecretConfirmsItAndDeliversNothingNew() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        #expect(machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "12").event == .confirmed)
        _ = machine.listSucceeded(secret: nil, resourceVersion: "13")
        #expect(machine.listSucceeded(secret: nil, resourceVersion: "14").event == nil)
    }

    @Test func listFailuresBackOffExponentiallyUpToThirtySeconds() {
        var machine = Machine(backoff: Self.steadyBackoff)
        let error = KubernetesError.status(Status(code: 503))
        var delays: [Duration] = []
        for _ in 0..<9 {
            let outcome = machine.listFailed(error)
            #expect(outcome.event == .failed(error))
            guard case .pause(let delay, then: .list) = outcome.next else {
                Issue.record("expected a pause then a list, got \(outcome.next)")
                return
            }
            delays.append(delay)
        }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16),
                           .seconds(30), .seconds(30), .seconds(30)])
    }

    @Test func aGoodListResetsTheBackoff() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listFailed(.cut("refused"))
        _ = machine.listFailed(.cut("refused"))
        _ = machine.listSucceeded(secret: nil, resourceVersion: "1")
        #expect(machine.listFailed(.cut("refused")).next == .pause(.milliseconds(500), then: .list))
    }

    @Test func addedAndModifiedEventsAreDeliveredAndAdvanceTheResourceVersion() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        #expect(machine.received(.modified(Self.secret("10", value: "new"))) == .keepReading(deliver: .updated(Self.secret("10", value: "new"))))
        #expect(machine.resourceVersion == "10")
        #expect(machine.received(.deleted(Self.secret("11"))) == .keepReading(deliver: .deleted))
        #expect(machine.received(.added(Self.secret("12"))) == .keepReading(deliver: .updated(Self.secret("12"))))
        #expect(machine.resourceVersion == "12")
    }

    @Test func aBookmarkConfirmsTheSecretAndAdvancesTheResourceVersion() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        #expect(machine.received(.bookmark(resourceVersion: "40")) == .keepReading(deliver: .confirmed))
        #expect(machine.resourceVersion == "40")
        #expect(machine.streamEnded().next == .watch(resourceVersion: "40"))
    }

    @Test(arguments: ["Expired", "Gone"])
    func anInStreamErrorWith410ReLists(reason: String) {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        let decision = machine.received(.error(Status(status: "Failure", reason: reason, code: 410)))
        #expect(decision == .endStream(.init(event: nil, next: .list)))
    }

    @Test func a410RightAfterAReListIsRetriedAfterABackoffNotInALoop() {
        var machine = Machine(backoff: Self.steadyBackoff)
        let expired = KubernetesError.status(Status(reason: "Expired", code: 410))
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        #expect(machine.watchFailed(expired) == .init(event: nil, next: .list))
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        #expect(machine.received(.error(Status(code: 410))) == .endStream(.init(event: nil, next: .pause(.milliseconds(500), then: .list))))
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        _ = machine.received(.bookmark(resourceVersion: "10"))
        #expect(machine.received(.error(Status(code: 410))) == .endStream(.init(event: nil, next: .list)),
                "after an event, a 410 is routine again")
    }

    @Test func aWatchRefusedWith410ReLists() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        #expect(machine.watchFailed(.status(Status(reason: "Expired", code: 410))) == .init(event: nil, next: .list))
    }

    @Test func anotherInStreamErrorIsReportedThenReListsAfterABackoff() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        let status = Status(message: "etcd is down", reason: "InternalError", code: 500)
        #expect(machine.received(.error(status)) == .endStream(.init(
            event: .failed(.status(status)), next: .pause(.milliseconds(500), then: .list))))
    }

    @Test func aStreamThatCarriedEventsResumesAtOnceFromTheLastResourceVersion() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        _ = machine.received(.modified(Self.secret("15")))
        #expect(machine.streamEnded() == .init(event: nil, next: .watch(resourceVersion: "15")))
    }

    @Test func anEmptyStreamResumesAfterABackoffSoAServerThatClosesAtOnceIsNotHammered() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        #expect(machine.streamEnded() == .init(event: nil, next: .pause(.milliseconds(500), then: .watch(resourceVersion: "9"))))
        machine.watchStarting()
        #expect(machine.streamEnded() == .init(event: nil, next: .pause(.seconds(1), then: .watch(resourceVersion: "9"))))
    }

    @Test(arguments: [
        KubernetesError.status(Status(message: "Unauthorized", reason: "Unauthorized", code: 401)),
        .status(Status(reason: "Forbidden", code: 403)),
        .status(Status(reason: "ServiceUnavailable", code: 503)),
        .cut("Connection refused"),
        .decoding(.init(object: "watch event", problem: "not JSON")),
    ])
    func aFailedWatchIsReportedAndReListedAfterABackoff(error: KubernetesError) {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        #expect(machine.watchFailed(error) == .init(event: .failed(error), next: .pause(.milliseconds(500), then: .list)))
    }

    @Test func afterAFailureTheNextGoodListDeliversTheSecretEvenIfUnchangedSoRecoveryIsVisible() {
        var machine = Machine(backoff: Self.steadyBackoff)
        #expect(machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9").event == .updated(Self.secret("7")))
        #expect(machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9").event == .confirmed)
        _ = machine.watchFailed(.cut("reset"))
        #expect(machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9").event == .updated(Self.secret("7")))
        _ = machine.listFailed(.cut("reset"))
        #expect(machine.listSucceeded(secret: nil, resourceVersion: "10").event == .deleted)
    }

    @Test func whileTheSecretIsAbsentNothingIsConfirmed() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: nil, resourceVersion: "3")
        machine.watchStarting()
        #expect(machine.received(.bookmark(resourceVersion: "4")) == .keepReading(deliver: nil))
        #expect(machine.streamEnded(completed: true).event == nil)
    }

    @Test func aWatchTheServerEndedOnItsTimeoutConfirmsTheSecretACutOneDoesNot() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        machine.watchStarting()
        #expect(machine.streamEnded(completed: true).event == .confirmed)
        machine.watchStarting()
        #expect(machine.streamEnded(completed: false).event == nil)
    }

    @Test func anEventResetsTheBackoff() {
        var machine = Machine(backoff: Self.steadyBackoff)
        _ = machine.listSucceeded(secret: Self.secret("7"), resourceVersion: "9")
        _ = machine.watchFailed(.cut("reset"))
        _ = machine.watchFailed(.cut("reset"))
        machine.watchStarting()
        _ = machine.received(.bookmark(resourceVersion: "20"))
        #expect(machine.watchFailed(.cut("reset")).next == .pause(.milliseconds(500), then: .list))
    }
}

private extension KubernetesError {
    /// A transport failure; the state machine only cares that it is one.
    static func cut(_ message: String) -> KubernetesError {
        .transport(.init(request: "GET /api/v1/namespaces/ns/secrets", code: CURLE_COULDNT_CONNECT, message: message))
    }
}
