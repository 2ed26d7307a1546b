import BackgroundWork
import Glibc
import Synchronization
import Testing

/// The one way a long-lived thread is told to stop or to look again: waits end on stop, on a poke, or at
/// their deadline, and say which.
@Suite("StopSignal and BackgroundThread")
struct StopSignalTests {
    @Test("a wait with nothing happening ends at its deadline and says: not stopped")
    func waitTimesOut() {
        let signal = StopSignal()
        let start = ContinuousClock.now
        #expect(signal.wait(for: .milliseconds(50)) == false)
        #expect(ContinuousClock.now - start >= .milliseconds(50))
    }

    @Test("stop ends a long wait on another thread at once, and every later wait returns at once")
    func stopEndsWaits() throws {
        let signal = StopSignal()
        let seen = Seen()
        let thread = try BackgroundThread(name: "waiter") {
            _ = signal.wait(for: .seconds(60))
            seen.finished.withLock { $0 = true }
        }
        let start = ContinuousClock.now
        signal.stop()
        thread.join()
        #expect(ContinuousClock.now - start < .seconds(30), "the 60 s wait was not ended by stop()")
        #expect(seen.finished.withLock { $0 })
        #expect(signal.isStopped)
        #expect(signal.wait(for: nil) == true)
    }

    @Test("a poke ends one wait without stopping; pokes before the wait count as one")
    func pokesAreConsumed() {
        let signal = StopSignal()
        signal.poke()
        signal.poke()
        #expect(signal.wait(for: .seconds(60)) == false, "the pokes end this wait")
        let start = ContinuousClock.now
        #expect(signal.wait(for: .milliseconds(50)) == false)
        #expect(ContinuousClock.now - start >= .milliseconds(50), "two pokes ended two waits")
        #expect(!signal.isStopped)
    }

    @Test("a zero or negative pause does not wait")
    func zeroPause() {
        let signal = StopSignal()
        #expect(signal.wait(for: .zero) == false)
        #expect(signal.wait(for: .seconds(-5)) == false)
    }

    @Test("a thread runs its body under its name; join waits for the body to return")
    func threadRunsNamed() throws {
        let seen = Seen()
        let thread = try BackgroundThread(name: "a-rather-long-thread-name") {
            var buffer = [UInt8](repeating: 0, count: 64)
            let fd = open("/proc/thread-self/comm", O_RDONLY)
            let count = fd >= 0 ? read(fd, &buffer, buffer.count) : 0
            if fd >= 0 { close(fd) }
            seen.name.withLock { $0 = String(decoding: buffer[..<max(0, count)], as: UTF8.self) }
            usleep(50_000)
            seen.finished.withLock { $0 = true }
        }
        #expect(!thread.isCurrent)
        thread.join()
        #expect(seen.finished.withLock { $0 }, "join returned before the body did")
        #expect(seen.name.withLock { $0 } == "a-rather-long-t\n", "Linux keeps the first 15 bytes")
    }
}

/// What a test's thread saw, read by the test after `join`.
final class Seen: Sendable {
    let finished = Mutex(false)
    let name = Mutex("")
}
