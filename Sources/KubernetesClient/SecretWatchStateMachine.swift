/// The decisions of `SecretWatcher`'s loop — what to do after a list, a list error, an event, a stream end,
/// a 410 or any other error — without any I/O, so they are tested without a server or a clock.
///
/// The driver performs the `Action`s it returns: `.list` (LIST the secret), `.watch(resourceVersion:)` (WATCH
/// from there), `.pause(d, then:)` (sleep `d` unless stopped, then do `then`). It hands on the `Event`s the
/// machine returns; repeats (the same object after a re-list, a second "absent") are filtered out here, and a
/// repeat of a present secret, a bookmark or a watch the server ended on its timeout becomes `.confirmed`.
struct SecretWatchStateMachine: Sendable {
    /// The next thing the driver must do.
    indirect enum Action: Sendable, Equatable {
        case list
        case watch(resourceVersion: String)
        case pause(Duration, then: Action)
    }

    /// An optional event to deliver, then the next action.
    struct Outcome: Sendable, Equatable {
        var event: SecretWatcher.Event?
        var next: Action
    }

    /// After one event of an open stream: keep reading (maybe delivering an event), or end the stream.
    enum StreamDecision: Sendable, Equatable {
        case keepReading(deliver: SecretWatcher.Event?)
        case endStream(Outcome)
    }

    /// What the consumer was last told.
    private enum Delivered: Sendable, Equatable {
        case nothing
        case present(Secret)
        case absent
    }

    /// The resourceVersion the next watch starts from (the list's, then each event's).
    private(set) var resourceVersion: String?
    /// Consecutive failures; picks the backoff delay, reset by a good list or event.
    private(set) var failures = 0
    private var eventsThisStream = 0
    /// 410s since the last event: a server that answers every fresh list's watch with 410 gets a backoff, not a loop.
    private var expiredInARow = 0
    private var delivered = Delivered.nothing
    private let backoff: ExponentialBackoff

    init(backoff: ExponentialBackoff = ExponentialBackoff()) {
        self.backoff = backoff
    }

    /// The first action: list.
    func start() -> Action { .list }

    /// The list answered: tell the consumer the secret (or that it is absent), then watch from the list's RV.
    mutating func listSucceeded(secret: Secret?, resourceVersion: String) -> Outcome {
        failures = 0
        self.resourceVersion = resourceVersion
        let event = if let secret { deliverUpdated(secret) ?? confirmation() } else { deliverDeleted() }
        return Outcome(event: event, next: .watch(resourceVersion: resourceVersion))
    }

    /// The list failed: report it, back off, list again.
    mutating func listFailed(_ error: KubernetesError) -> Outcome {
        failed(error)
    }

    /// A watch request is about to be sent.
    mutating func watchStarting() {
        eventsThisStream = 0
    }

    /// One event arrived on the open stream.
    mutating func received(_ event: WatchEvent) -> StreamDecision {
        switch event {
        case .added(let secret), .modified(let secret):
            advance(to: secret.metadata.resourceVersion)
            return .keepReading(deliver: deliverUpdated(secret) ?? confirmation())
        case .deleted(let secret):
            advance(to: secret.metadata.resourceVersion)
            return .keepReading(deliver: deliverDeleted())
        case .bookmark(let version):
            advance(to: version)
            return .keepReading(deliver: confirmation())
        case .error(let status) where status.code == 410:
            return .endStream(expired())
        case .error(let status):
            return .endStream(failed(.status(status)))
        }
    }

    /// The stream ended (the server's timeout, or a cut; a partial last line was dropped): watch again from the
    /// last resourceVersion — at once if the stream carried events, after a backoff pause if it was empty.
    /// - Parameter completed: the server closed it cleanly (its `timeoutSeconds`): it watched the whole time and
    ///   reported nothing more, which confirms the secret.
    mutating func streamEnded(completed: Bool = false) -> Outcome {
        let event = completed ? confirmation() : nil
        if eventsThisStream > 0 { return Outcome(event: event, next: resume()) }
        return Outcome(event: event, next: .pause(nextDelay(), then: resume()))
    }

    /// The watch request failed before streaming (or the stream could not be decoded). 410 → re-list at once;
    /// anything else → report, back off, re-list.
    mutating func watchFailed(_ error: KubernetesError) -> Outcome {
        if error.statusCode == 410 { return expired() }
        return failed(error)
    }

    /// A request failed: report it, back off, then re-list (as client-go's reflector does) and deliver what the
    /// list finds even if it is unchanged, so the consumer learns that the source has recovered.
    private mutating func failed(_ error: KubernetesError) -> Outcome {
        delivered = .nothing
        return Outcome(event: .failed(error), next: .pause(nextDelay(), then: .list))
    }

    /// The resourceVersion is too old: re-list — at once the first time, after a backoff when it keeps happening.
    private mutating func expired() -> Outcome {
        resourceVersion = nil
        expiredInARow += 1
        return Outcome(event: nil, next: expiredInARow == 1 ? .list : .pause(nextDelay(), then: .list))
    }

    private func resume() -> Action {
        resourceVersion.map { .watch(resourceVersion: $0) } ?? .list
    }

    private mutating func advance(to version: String?) {
        eventsThisStream += 1
        failures = 0
        expiredInARow = 0
        if let version, !version.isEmpty { resourceVersion = version }
    }

    private mutating func nextDelay() -> Duration {
        defer { failures += 1 }
        return backoff.delay(attempt: failures)
    }

    private mutating func deliverUpdated(_ secret: Secret) -> SecretWatcher.Event? {
        if delivered == .present(secret) { return nil }
        delivered = .present(secret)
        return .updated(secret)
    }

    /// `.confirmed` while the consumer was last told the secret is present (an absence needs no confirming).
    private func confirmation() -> SecretWatcher.Event? {
        if case .present = delivered { return .confirmed }
        return nil
    }

    private mutating func deliverDeleted() -> SecretWatcher.Event? {
        if delivered == .absent { return nil }
        delivered = .absent
        return .deleted
    }
}
