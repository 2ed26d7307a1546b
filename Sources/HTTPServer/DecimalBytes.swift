/// Appends `value` in decimal ASCII (a leading `-` when negative), zero-padded to at least `minimumDigits`
/// digits, without going through `String`: response heads (`Content-Length`) and audit lines (status, bytes,
/// timestamps) are built as bytes on every request. The one decimal formatter of the project.
@inline(__always)
public func appendDecimal(_ value: Int, minimumDigits: Int = 1, to buffer: inout [UInt8]) {
    if value < 0 { buffer.append(UInt8(ascii: "-")) }
    var magnitude = value.magnitude
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
        UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    withUnsafeMutableBytes(of: &digits) { reversed in
        var count = 0
        repeat {
            reversed[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            count += 1
        } while magnitude > 0
        for _ in count..<max(count, minimumDigits) { buffer.append(UInt8(ascii: "0")) }
        for index in stride(from: count - 1, through: 0, by: -1) { buffer.append(reversed[index]) }
    }
}
