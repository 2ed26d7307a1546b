import Dispatch

/// Runs `body` every `interval` on a thread of its own until `stop()`; `stop()` wakes it at once.
///
/// Used for the slow housekeeping loops (re-reading a mounted directory or token file, re-rendering expiry
/// warnings), which must never run on an event loop.
final class PeriodicTask: Sendable {
    private let interval: Duration
    private let body: @Sendable () -> Void
    private let label: String
    private let stopSignal = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - label: the thread's name.
    ///   - interval: the pause between runs.
    ///   - body: the work; runs on the task's thread only, never concurrently with itself.
    init(label: String, interval: Duration, body: @escaping @Sendable () -> Void) {
        self.label = label
        self.interval = interval
        self.body = body
    }

    /// Starts the loop; the first run comes after one interval.
    func start() {
        let millis = interval.wholeMilliseconds
        DispatchQueue(label: label).async { [self] in
            while stopSignal.wait(timeout: .now() + .milliseconds(millis)) == .timedOut {
                body()
            }
            finished.signal()
        }
    }

    /// Stops the loop and waits for a run in progress to end.
    func stop() {
        stopSignal.signal()
        finished.wait()
    }
}
