import Foundation
@testable import HelmBundle
import Testing

@Suite("RFC3339 formats and parses UTC timestamps")
struct RFC3339Tests {
    static let known: [(TimeInterval, String)] = [
        (0, "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),
        (1_609_459_199, "2020-12-31T23:59:59Z"),
        (1_827_038_700, "2027-11-24T06:45:00Z"),
        (4_102_444_800, "2100-01-01T00:00:00Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ]

    @Test("formats known instants", arguments: known)
    func formats(seconds: TimeInterval, text: String) {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: seconds)) == text)
        #expect(RFC3339.date(from: text) == Date(timeIntervalSince1970: seconds))
    }

    @Test("agrees with Foundation's ISO 8601 formatter on a spread of instants")
    func agreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        for seconds in stride(from: -2_000_000_000.0, through: 8_000_000_000, by: 86_400 * 37 + 3_607) {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(RFC3339.string(from: date) == formatter.string(from: date))
        }
    }

    @Test("parses offsets and drops fractions: all of these are 2027-11-27T06:45:00Z", arguments: [
        "2027-11-27T08:45:00+02:00", "2027-11-27T06:45:00.123Z", "2027-11-27T01:45:00-05:00", "2027-11-27t06:45:00z",
    ])
    func parsesOffsets(text: String) {
        #expect(RFC3339.date(from: text) == Date(timeIntervalSince1970: 1_827_297_900))
    }

    @Test("rejects what is not a timestamp", arguments: [
        "", "2027-11-27", "2027-11-27T06:45:00", "2027-13-27T06:45:00Z", "2027-11-27 06:45:00Z", "2027-11-27T06:45:00Zjunk",
        "20271127T064500Z",
    ])
    func rejects(text: String) {
        #expect(RFC3339.date(from: text) == nil)
    }
}
