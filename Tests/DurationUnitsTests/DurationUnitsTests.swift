import DurationUnits
import Testing

@Suite("Duration in C units")
struct DurationUnitsTests {
    @Test("nanoseconds and milliseconds round toward zero", arguments: [
        (Duration.seconds(2), Int64(2_000_000_000), 2_000),
        (.milliseconds(1500), 1_500_000_000, 1_500),
        (.nanoseconds(999_999), 999_999, 0),
        (.nanoseconds(-1_500_000), -1_500_000, -1),
        (.zero, 0, 0),
    ])
    func rounding(duration: Duration, nanoseconds: Int64, milliseconds: Int) {
        #expect(duration.wholeNanoseconds == nanoseconds)
        #expect(duration.wholeMilliseconds == milliseconds)
    }

    @Test("a duration beyond Int64 nanoseconds saturates instead of trapping")
    func saturation() {
        #expect(Duration.seconds(Int64.max).wholeNanoseconds == .max)
        #expect(Duration.seconds(Int64.min).wholeNanoseconds == .min)
        #expect(Duration.seconds(Int64.max).wholeMilliseconds == .max)
        #expect(Duration.seconds(9_223_372_036).wholeNanoseconds == 9_223_372_036_000_000_000, "still fits")
        #expect((Duration.seconds(9_223_372_036) + .milliseconds(900)).wholeNanoseconds == .max, "the fraction overflows")
    }

    @Test("a timeout for libcurl is at least 1 ms when positive (0 would mean no limit), and 0 when zero")
    func timeoutMilliseconds() {
        #expect(Duration.nanoseconds(1).timeoutMilliseconds == 1)
        #expect(Duration.microseconds(999).timeoutMilliseconds == 1)
        #expect(Duration.milliseconds(2500).timeoutMilliseconds == 2500)
        #expect(Duration.zero.timeoutMilliseconds == 0)
    }

    @Test("seconds as a TimeInterval keep the fraction")
    func timeInterval() {
        #expect(Duration.milliseconds(1500).timeInterval == 1.5)
        #expect(Duration.seconds(-60).timeInterval == -60)
    }
}
