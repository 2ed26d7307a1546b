import BackgroundWork
import Synchronization

/// Runs `body` every `interval` on a thread of its own until `stop()`; `stop()` wakes it at once.
///
/// Used for the slow housekeeping loops (re-reading a mounted directory or token file, re-rendering expiry
/// warnings), which must never run on an event loop.
final class PeriodicTask: Sendable {
    private let interval: Duration
    private let body: @Sendable () -> Void
    private let label: String
    private let signal = StopSignal()
    private let thread = Mutex<BackgroundThread?>(nil)

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
    /// - Throws: ``BackgroundThread/StartError`` when no thread can be started.
    func start() throws {
        let (signal, interval, body) = (self.signal, self.interval, self.body)
        let started = try BackgroundThread(name: label) {
            while !signal.wait(for: interval) { body() }
        }
        thread.withLock { $0 = started }
    }

    /// Stops the loop and waits for a run in progress to end.
    func stop() {
        signal.stop()
        thread.withLock { $0 }?.join()
    }
}
