import BackgroundWork
import Glibc
import Logging
import Synchronization

/// Keeps one Secret in sync: LIST, then WATCH from the list's resourceVersion (fieldSelector,
/// allowWatchBookmarks, timeoutSeconds), reconnect when the stream ends, re-list on 410 (`Expired`/`Gone`) in the
/// stream or as a status, exponential backoff with jitter (0.5 s doubling to 30 s) on errors. Runs on a thread of
/// its own; the decisions are `SecretWatchStateMachine`'s.
public final class SecretWatcher: Sendable {
    /// What the watcher tells its owner.
    public enum Event: Sendable, Equatable {
        /// The secret exists with this content (first list, a change, or the first good list after a failure, so
        /// that recovery is visible). Other repeats are not delivered.
        case updated(Secret)
        /// The secret last delivered with `.updated` is still what the API holds: a bookmark, the same object
        /// again (a re-list), or a watch the server ended on its timeout with nothing to report. For "last
        /// synced" gauges: a quiet secret is confirmed at least once per watch (290 s by default).
        case confirmed
        /// The secret does not exist (first list found none, or it was deleted).
        case deleted
        /// A list or watch failed; the watcher backs off and keeps trying.
        case failed(KubernetesError)
        /// A watch ended — the server's timeout, a cut connection, a 410 (resourceVersion too old), an error — and
        /// a new watch (or a re-list) is beginning now, after any backoff pause. One per restart, for counting
        /// reconnects; `reason` is human-readable (for logs, not for metric labels).
        case watchRestarted(reason: String)
    }

    private let client: KubernetesClient
    private let namespace: String
    private let name: String
    private let logger: Logger
    private let onEvent: @Sendable (Event) -> Void
    private let backoff: ExponentialBackoff
    private let signal = StopSignal()
    private let thread = Mutex<BackgroundThread?>(nil)

    /// Creates a watcher; nothing happens until `start()`.
    /// - Parameters:
    ///   - client: the API client (its configuration sets the watch's timeouts).
    ///   - namespace: the secret's namespace, e.g. `kyma-installer`.
    ///   - name: the secret's name, e.g. `helm-secret`.
    ///   - logger: where reconnects and failures are logged.
    ///   - onEvent: called on the watcher's thread for each change; keep it short.
    public convenience init(
        client: KubernetesClient, namespace: String, name: String, logger: Logger,
        onEvent: @escaping @Sendable (Event) -> Void
    ) {
        self.init(client: client, namespace: namespace, name: name, logger: logger,
                  backoff: ExponentialBackoff(), onEvent: onEvent)
    }

    init(
        client: KubernetesClient, namespace: String, name: String, logger: Logger,
        backoff: ExponentialBackoff, onEvent: @escaping @Sendable (Event) -> Void
    ) {
        self.client = client
        self.namespace = namespace
        self.name = name
        self.logger = logger
        self.backoff = backoff
        self.onEvent = onEvent
    }

    /// Starts the watch thread (once; later calls do nothing).
    public func start() {
        thread.withLock { thread in
            guard thread == nil, !signal.isStopped else { return }
            do {
                thread = try BackgroundThread(name: "secret-watch") { self.run() }
            } catch {
                logger.error("cannot start the secret watch thread", metadata: ["reason": "\(error)"])
                onEvent(.failed(.configuration(.threadUnavailable("\(error)"))))
            }
        }
    }

    /// Stops the watch: aborts an in-flight request (via libcurl's progress callback, which libcurl calls about
    /// once a second or sooner, so the abort takes at most about a second),
    /// ends a backoff pause at once, and waits for the thread to finish. No event is delivered afterwards.
    /// Called from `onEvent` itself, it only asks the thread to stop.
    public func stop() {
        signal.stop()
        let stopping = thread.withLock { thread -> BackgroundThread? in
            defer { thread = nil }
            return thread
        }
        stopping?.join()
    }

    private func deliver(_ event: Event?) {
        guard let event, !signal.isStopped else { return }
        if case .failed(let error) = event {
            logger.warning("watching secret \(namespace)/\(name) failed; retrying", metadata: ["error": "\(error)"])
        }
        onEvent(event)
    }

    private func run() {
        var machine = SecretWatchStateMachine(backoff: backoff)
        var action = machine.start()
        let signal = self.signal
        /// Why the last watch ended, until the next watch or list begins and `.watchRestarted` is delivered.
        var restartReason: String?
        while !signal.isStopped {
            let outcome: SecretWatchStateMachine.Outcome
            if let reason = restartReason, action.beginsRequest {
                restartReason = nil
                logger.debug("secret watch restarting", metadata: ["reason": "\(reason)"])
                deliver(.watchRestarted(reason: reason))
            }
            switch action {
            case .pause(let delay, let next):
                logger.debug("secret watch backing off", metadata: ["seconds": "\(delay)"])
                if signal.wait(for: delay) { return }
                action = next
                continue
            case .list:
                do {
                    let (secret, version) = try client.listSecret(
                        namespace: namespace, name: name, shouldAbort: { signal.isStopped })
                    outcome = machine.listSucceeded(secret: secret, resourceVersion: version)
                } catch {
                    if signal.isStopped { return }
                    outcome = machine.listFailed(error)
                }
            case .watch(let version):
                machine.watchStarting()
                nonisolated(unsafe) var streamOutcome: SecretWatchStateMachine.Outcome?
                nonisolated(unsafe) var machineInStream = machine
                do {
                    let end = try client.watchSecret(
                        namespace: namespace, name: name, resourceVersion: version,
                        shouldAbort: { signal.isStopped }
                    ) { event in
                        switch machineInStream.received(event) {
                        case .keepReading(let event):
                            self.deliver(event)
                            return true
                        case .endStream(let outcome):
                            streamOutcome = outcome
                            return false
                        }
                    }
                    machine = machineInStream
                    if end == .aborted { return }
                    if case .interrupted(let reason) = end {
                        logger.debug("secret watch stream interrupted; resuming", metadata: ["reason": "\(reason)"])
                    }
                    outcome = streamOutcome ?? machine.streamEnded(completed: end == .completed)
                    restartReason = Self.restartReason(end: end, outcome: outcome)
                } catch {
                    machine = machineInStream
                    outcome = machine.watchFailed(error)
                    restartReason = error.statusCode == 410
                        ? "the watch was refused with 410: resourceVersion too old, re-listing"
                        : "the watch request failed: \(error)"
                }
            }
            deliver(outcome.event)
            action = outcome.next
        }
    }

    /// Why an accepted watch stream ended, for `.watchRestarted`.
    private static func restartReason(end: KubernetesClient.WatchStreamEnd, outcome: SecretWatchStateMachine.Outcome) -> String {
        switch end {
        case .completed: return "the server ended the watch (its timeout)"
        case .interrupted(let message): return "the watch stream was cut: \(message)"
        case .stoppedByReceiver, .aborted:
            if case .failed(let error) = outcome.event { return "the watch stream carried an error: \(error)" }
            return "the watch stream carried 410: resourceVersion too old, re-listing"
        }
    }
}

extension SecretWatchStateMachine.Action {
    /// Whether performing this action sends a request now (a pause does not).
    var beginsRequest: Bool {
        if case .pause = self { return false }
        return true
    }
}
