import Foundation

/// A named pipe whose reader is open but reads nothing until told: an audit destination that has stalled.
///
/// The read end is opened first (non-blocking), so a writer's `open` does not wait; the pipe is shrunk to one
/// page (4096 bytes), so one long line fills it. ``drain()`` reads what is waiting; ``close()`` closes the read end
/// (a writer still writing then gets `EPIPE`, or `SIGPIPE` unless the process ignores it: drain instead).
public final class StalledFIFO: @unchecked Sendable {
    /// The FIFO's path, to pass as the audit destination.
    public let path: String
    private let directory: TemporaryDirectory
    private let readFD: Int32

    public init() throws {
        directory = try TemporaryDirectory("fifo")
        path = directory.file("audit.fifo")
        guard mkfifo(path, 0o600) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
        readFD = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard readFD >= 0 else { throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path]) }
        _ = fcntl(readFD, 1031 /* F_SETPIPE_SZ, which Glibc does not export */, 4096)
    }

    /// Reads everything waiting in the pipe now and returns it.
    @discardableResult
    public func drain() -> [UInt8] {
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(readFD, &buffer, buffer.count)
            guard n > 0 else { return result }
            result += buffer[..<n]
        }
    }

    /// Drains the pipe every 10 ms until `seconds` have passed, so that a writer blocked on it finishes; returns
    /// what it read.
    @discardableResult
    public func drain(for seconds: Double) -> [UInt8] {
        var result: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            result += drain()
            Thread.sleep(forTimeInterval: 0.01)
        }
        return result
    }

    /// Closes the read end and removes the FIFO.
    public func close() {
        Foundation.close(readFD)
        directory.remove()
    }
}
