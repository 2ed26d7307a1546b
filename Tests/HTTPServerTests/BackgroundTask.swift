import Foundation

/// Runs a throwing closure on a thread of its own (e.g. a client that blocks until the server answers)
/// while the test goes on; ``wait()`` returns its result.
final class BackgroundTask<Value: Sendable>: @unchecked Sendable {
    private var result: Result<Value, any Error>?
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () throws -> Value) {
        Thread {
            self.result = Result { try body() }
            self.done.signal()
        }.start()
    }

    /// Blocks until the closure returned; rethrows what it threw.
    func wait() throws -> Value {
        done.wait()
        return try result!.get()
    }
}
