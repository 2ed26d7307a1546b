/// How long a personal certificate is valid: `?ttl=` on the issuing routes, in Go's duration syntax (`8h`,
/// `30m`, `1h30m`, `1.5h`: what `kubectl`, Helm and Vault users already type), default ``defaultTTL``, at most
/// the server's `--issue-max-ttl`. Never past the issuing CA's own `notAfter`: that cap is applied when issuing.
public struct CertificateLifetime: Sendable, Equatable {
    /// The validity when the request names none: a working day.
    public static let defaultTTL: Duration = .seconds(8 * 3600)
    /// `--issue-max-ttl`'s default: a day.
    public static let defaultMaxTTL: Duration = .seconds(24 * 3600)
    /// The shortest validity asked for: the certificate is backdated a minute for clock skew anyway, so a shorter
    /// one is a typo (`?ttl=8` meant `8h`) rather than a wish.
    public static let minimumTTL: Duration = .seconds(60)
    /// The longest `--issue-max-ttl`: a personal certificate that outlives a year is the shared key again.
    public static let longestMaxTTL: Duration = .seconds(366 * 86_400)

    /// The most a request may ask for (`--issue-max-ttl`).
    public let maxTTL: Duration

    public init(maxTTL: Duration = CertificateLifetime.defaultMaxTTL) {
        self.maxTTL = maxTTL
    }

    /// Why a `?ttl=` was refused (a 400 whose detail is ``description``).
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(String)
        case tooShort(String)
        case tooLong(String, limit: Duration)
        case repeated

        public var description: String {
            switch self {
            case .malformed(let text):
                "ttl \"\(text)\" is not a duration: use Go's syntax, a number and a unit (h, m, s), e.g. ?ttl=8h, ?ttl=30m or ?ttl=1h30m"
            case .tooShort(let text):
                "ttl \(text) is shorter than the shortest allowed, \(CertificateLifetime.format(CertificateLifetime.minimumTTL))"
            case .tooLong(let text, let limit):
                "ttl \(text) is longer than this server issues: at most \(CertificateLifetime.format(limit)) (--issue-max-ttl); ask for less, e.g. ?ttl=\(CertificateLifetime.format(limit))"
            case .repeated:
                "ttl is given more than once; give it once, e.g. ?ttl=8h"
            }
        }
    }

    /// The validity a request's query asks for: its `ttl` parameter, or ``defaultTTL`` (cut to ``maxTTL`` when
    /// that is shorter). Other parameters are ignored.
    /// - Parameter query: the raw query after `?`, or nil.
    public func ttl(query: String?) throws(Refusal) -> Duration {
        var asked: Substring? = nil
        for parameter in (query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts[0] == "ttl" else { continue }
            guard asked == nil else { throw .repeated }
            asked = parts.count == 2 ? parts[1] : ""
        }
        guard let asked else { return min(Self.defaultTTL, maxTTL) }
        // Quoted back in the 400's detail: a long value is cut there, and refused whatever its start says.
        let text = String(asked.prefix(64))
        guard asked.utf8.count <= 64, let ttl = Self.parse(text) else { throw .malformed(text) }
        guard ttl >= Self.minimumTTL else { throw .tooShort(text) }
        guard ttl <= maxTTL else { throw .tooLong(text, limit: maxTTL) }
        return ttl
    }

    /// A Go duration (`time.ParseDuration`) with the units h, m and s, cut to whole seconds: a sequence of
    /// decimal numbers, each with an optional fraction and a unit (`8h`, `1h30m`, `1.5h`, `90s`). No sign, no
    /// sub-second units (a certificate's validity is in seconds); at most a hundred years; nil otherwise.
    public static func parse(_ text: String) -> Duration? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        var index = 0
        var nanoseconds: Double = 0
        while index < bytes.count {
            let start = index
            while index < bytes.count, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ".") { index += 1 }
            let number = bytes[start..<index]
            // Digits with at most one dot, and at least one digit.
            guard number.contains(where: isDigit), number.filter({ $0 == UInt8(ascii: ".") }).count <= 1,
                  let value = Double(String(decoding: number, as: UTF8.self))
            else { return nil }
            guard index < bytes.count else { return nil }  // a unit is required (Go allows none only for "0")
            let seconds: Double
            switch bytes[index] {
            case UInt8(ascii: "h"): seconds = 3600
            case UInt8(ascii: "m"): seconds = 60
            case UInt8(ascii: "s"): seconds = 1
            default: return nil
            }
            index += 1
            nanoseconds += value * seconds * 1e9
        }
        let whole = (nanoseconds / 1e9).rounded(.down)
        guard whole.isFinite, whole <= 100 * 366 * 86_400 else { return nil }
        return .seconds(Int64(whole))
    }

    /// A whole number of seconds as Go prints it, without zero parts: `8h`, `1h30m`, `90s` → `1m30s`.
    public static func format(_ duration: Duration) -> String {
        let total = duration.components.seconds
        guard total > 0 else { return "0s" }
        let (hours, minutes, seconds) = (total / 3600, total % 3600 / 60, total % 60)
        var out = ""
        if hours > 0 { out += "\(hours)h" }
        if minutes > 0 { out += "\(minutes)m" }
        if seconds > 0 { out += "\(seconds)s" }
        return out
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
}
