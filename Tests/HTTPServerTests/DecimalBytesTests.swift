import HTTPServer
import Testing

/// The one decimal formatter (response heads, audit lines): what `String(value)` prints, zero-padded on request.
@Suite("appendDecimal")
struct DecimalBytesTests {
    @Test("prints what String(value) prints", arguments: [0, 7, 10, 200, 16_384, -1, -4_096, Int.max, Int.min])
    func likeString(value: Int) {
        var bytes: [UInt8] = Array("x=".utf8)
        appendDecimal(value, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "x=\(value)")
    }

    @Test("pads with zeros to the minimum number of digits, never cuts", arguments: [
        (5, 3, "005"), (123, 3, "123"), (12_345, 3, "12345"), (0, 2, "00"), (-7, 3, "-007"),
    ])
    func padded(value: Int, minimumDigits: Int, expected: String) {
        var bytes: [UInt8] = []
        appendDecimal(value, minimumDigits: minimumDigits, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
    }
}
