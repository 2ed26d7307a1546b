/// `Duration` in the units the C APIs and Dispatch take: the one place this project converts one, so rounding
/// and overflow are decided once. Every conversion rounds toward zero and saturates instead of trapping.
extension Duration {
    /// Whole nanoseconds, saturating at `Int64.min`/`Int64.max`: for the event loops' monotonic clock and
    /// `timespec` deadlines.
    @inlinable
    public var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (nanoseconds, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = nanoseconds.addingReportingOverflow(attoseconds / 1_000_000_000)
        if sumOverflow { return seconds < 0 ? .min : .max }
        return sum
    }

    /// Whole milliseconds, saturating: for `DispatchTime` waits and `epoll_wait`-style timeouts.
    @inlinable
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        let (milliseconds, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = milliseconds.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if sumOverflow { return seconds < 0 ? .min : .max }
        return Int(sum)
    }

    /// Whole milliseconds, but at least 1 for any positive duration: for libcurl's `_MS` options, where 0 means
    /// "no limit" and would turn a sub-millisecond timeout into none.
    @inlinable
    public var timeoutMilliseconds: Int {
        let milliseconds = wholeMilliseconds
        return milliseconds == 0 && self > .zero ? 1 : milliseconds
    }

    /// The duration in seconds as a `Double` (OpenSSL's and Foundation's `TimeInterval`).
    @inlinable
    public var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
