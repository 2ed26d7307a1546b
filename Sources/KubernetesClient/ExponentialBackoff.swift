/// Delays between retries: `initial` doubling up to `maximum`, each spread by ±`jitter` (a fraction) so many
/// replicas don't retry in step. The randomness is injected, so tests get exact numbers.
public struct ExponentialBackoff: Sendable {
    var initial: Duration = .milliseconds(500)
    var maximum: Duration = .seconds(30)
    var jitter: Double = 0.2
    /// Returns a number in `0..<1`.
    var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    /// The delay before retry number `attempt` (0 for the first retry).
    public func delay(attempt: Int) -> Duration {
        var base = initial
        for _ in 0..<min(attempt, 32) where base < maximum { base = base * 2 }
        if base > maximum { base = maximum }
        let factor = 1 - jitter + 2 * jitter * random()
        let spread = base * factor
        return spread > maximum ? maximum : spread
    }
}

extension ExponentialBackoff {
    /// Delays from `initial` doubling up to `maximum`, spread by ±`jitter` (for other modules; an
    /// initializer in an extension keeps the memberwise one).
    public init(initial: Duration, maximum: Duration, jitter: Double) {
        self.init()
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
    }
}
