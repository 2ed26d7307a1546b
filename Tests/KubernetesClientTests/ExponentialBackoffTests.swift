import Testing
@testable import KubernetesClient

@Suite struct ExponentialBackoffTests {
    @Test(arguments: [(0.0, 400), (0.5, 500), (0.99999, 600)])
    func jitterSpreadsTheFirstDelayByTwentyPercent(random: Double, milliseconds: Int) {
        let backoff = ExponentialBackoff(random: { random })
        let delay = backoff.delay(attempt: 0)
        #expect(abs((delay - .milliseconds(milliseconds)) / .milliseconds(1)) < 0.1)
    }

    @Test func theDelayNeverExceedsTheMaximumEvenWithJitter() {
        let backoff = ExponentialBackoff(random: { 0.99999 })
        #expect(backoff.delay(attempt: 10) == .seconds(30))
        #expect(backoff.delay(attempt: 1000) == .seconds(30))
    }
}
