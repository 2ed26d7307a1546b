#if canImport(Glibc)
import Glibc
import DurationUnits
#endif

/// How a ``BackgroundThread`` is told to stop, or to look again now: a one-way "stop" flag and a "poke" that
/// a sleeping thread waits on with a timeout (a pthread condition variable on the monotonic clock, so a
/// clock change moves no deadline). `stop()` ends any pause at once. The one stop signal of the project.
public final class StopSignal: @unchecked Sendable {
    // Safety: `stopped` and `poked` are only touched with `mutex` held; the pthread objects live as long as
    // the signal.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var stopped = false
    private var poked = false

    public init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Whether `stop()` was called.
    public var isStopped: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return stopped
    }

    /// Sets the flag and wakes every waiter, now and for good.
    public func stop() {
        pthread_mutex_lock(mutex)
        stopped = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Ends the current (or next) wait early without stopping: there is new work. Pokes before the waiter
    /// looks count as one.
    public func poke() {
        pthread_mutex_lock(mutex)
        poked = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Sleeps until `stop()`, a `poke()` (which it consumes), or `duration` has passed (nil: no limit).
    /// Returns whether the signal is stopped.
    @discardableResult
    public func wait(for duration: Duration?) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let duration {
            var deadline = Self.monotonicNow(plus: duration)
            while !stopped && !poked {
                if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT { break }
            }
        } else {
            while !stopped && !poked { pthread_cond_wait(condition, mutex) }
        }
        poked = false
        return stopped
    }

    private static func monotonicNow(plus duration: Duration) -> timespec {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        // At most a century ahead, so the sum below cannot overflow `tv_sec`.
        let wait = min(max(duration, .zero), .seconds(3_153_600_000)).wholeNanoseconds
        let nanoseconds = Int(deadline.tv_nsec) + Int(wait % 1_000_000_000)
        deadline.tv_sec += Int(wait / 1_000_000_000) + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        return deadline
    }
}
