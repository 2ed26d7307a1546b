import Foundation

extension Duration {
    /// This duration in seconds, for Foundation's `TimeInterval` APIs (`Thread.sleep`, `Date`); negative stays
    /// negative, which `Thread.sleep(forTimeInterval:)` treats as no wait.
    public var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
