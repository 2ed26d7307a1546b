extension Duration {
    /// The duration in whole milliseconds (rounded toward zero), for `DispatchTime`/`DispatchSemaphore` waits,
    /// which take no `Duration`.
    var wholeMilliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }
}
