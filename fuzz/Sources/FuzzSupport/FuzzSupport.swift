/// What every fuzz target shares: choices drawn from the input itself (so a crash file replays exactly, with
/// no separate seed), and a check that stops the run with a message libFuzzer reports as a crash.

/// A deterministic pseudo-random sequence seeded by a hash of the input (FNV-1a, then SplitMix64).
///
/// The mutator changes the hash with nearly every mutation, so chunk boundaries and limits keep varying, while
/// one input always gets the same ones.
public struct InputRandom {
    private var state: UInt64

    public init(seeding bytes: UnsafeRawBufferPointer) {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        state = hash
    }

    /// The next 64 random bits (SplitMix64).
    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound` (`bound` > 0).
    public mutating func next(below bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Up to `maxCuts` distinct, increasing cut points strictly inside `0..<count`: where a stream of `count`
    /// bytes is split into chunks.
    public mutating func cuts(count: Int, maxCuts: Int = 8) -> [Int] {
        guard count > 1 else { return [] }
        var points = Set<Int>()
        for _ in 0..<next(below: maxCuts + 1) { points.insert(1 + next(below: count - 1)) }
        return points.sorted()
    }
}

/// The chunks `bytes` falls into at `cuts` (increasing, inside the bytes).
public func chunks(_ bytes: [UInt8], at cuts: [Int]) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var start = 0
    for cut in cuts + [bytes.count] {
        result.append(bytes[start..<cut])
        start = cut
    }
    return result
}

/// Stops the run (a trap libFuzzer reports as a crash and saves the input for) when a property does not hold.
public func require(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #fileID, line: UInt = #line
) {
    if !condition() { fatalError("property violated: \(message())", file: file, line: line) }
}

/// The input as an array (the targets' parsers take arrays or buffers of their own).
public func inputBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
