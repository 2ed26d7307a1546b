import Foundation
import HelmBundle
import TestSupport

/// What the real `openssl x509 -noout -subject -issuer -serial -fingerprint -sha256 -dates -nameopt RFC2253`
/// prints for a certificate, parsed into the fields `CertificateInfo` reports.
struct OpenSSLCertificateFacts: Equatable {
    var subject: String
    var issuer: String
    var serial: String
    var sha256: String
    var notBefore: Date
    var notAfter: Date
    /// `-dateopt iso_8601`'s notAfter with the space replaced by `T`, e.g. `2027-11-27T06:45:00Z`.
    var notAfterISO8601: String

    init(certificatePEM: [UInt8]) throws {
        let text = try PKIFixtures.openssl(
            ["x509", "-noout", "-subject", "-issuer", "-serial", "-fingerprint", "-sha256", "-dates", "-nameopt", "RFC2253"],
            stdin: certificatePEM
        ).stdoutText
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        func field(_ name: String) throws -> String {
            guard let value = fields[name] else { throw PKIFixtures.FixtureError(description: "openssl printed no \(name): \(text)") }
            return value
        }
        subject = try field("subject")
        issuer = try field("issuer")
        serial = try field("serial")
        sha256 = try fields["sha256 Fingerprint"] ?? field("SHA256 Fingerprint")
        notBefore = try Self.parseOpenSSLDate(field("notBefore"))
        notAfter = try Self.parseOpenSSLDate(field("notAfter"))

        let iso = try PKIFixtures.openssl(["x509", "-noout", "-enddate", "-dateopt", "iso_8601"], stdin: certificatePEM)
            .stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        notAfterISO8601 = String(iso.dropFirst("notAfter=".count)).replacingOccurrences(of: " ", with: "T")
    }

    /// `Nov 27 06:50:52 2026 GMT` (day padded with a space) → Date.
    private static func parseOpenSSLDate(_ text: String) throws -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        let collapsed = text.split(separator: " ").joined(separator: " ")
        guard let date = formatter.date(from: collapsed) else {
            throw PKIFixtures.FixtureError(description: "unexpected openssl date \(text)")
        }
        return date
    }

    /// The `CertificateInfo` these facts describe.
    var info: CertificateInfo {
        CertificateInfo(subject: subject, issuer: issuer, serial: serial, notBefore: notBefore, notAfter: notAfter, sha256: sha256)
    }
}
