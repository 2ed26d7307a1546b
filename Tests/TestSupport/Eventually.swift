import Foundation

/// Polls `condition` every `interval` until it holds or `timeout` passes, then asks once more; returns whether
/// it held. For tests that wait on another thread or process (a server closing connections, a watch opening, a
/// file change taking effect); unit tests of code without I/O need no waiting.
///
/// - Parameters:
///   - timeout: how long to keep asking.
///   - interval: the pause between two questions; raise it when asking is costly (a `curl` to the service or to
///     the Kubernetes API double per question).
///   - condition: what should become true; an error it throws ends the wait and is rethrown.
public func eventually(
    within timeout: Duration = .seconds(5), every interval: Duration = .milliseconds(50),
    _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval.timeInterval)
    }
    return try condition()
}
