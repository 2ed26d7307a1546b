/// The labels of the PEM blocks (`-----BEGIN LABEL-----` … `-----END LABEL-----`) found in some bytes.
///
/// A textual check only, done right after decoding so errors can name the secret key; OpenSSL parses the
/// blocks for real in `ValidatedBundle`.
struct PEMContents: Equatable {
    /// The labels of the complete blocks, in order, e.g. `["CERTIFICATE", "CERTIFICATE"]`.
    var labels: [String]

    /// The PEM labels OpenSSL reads as an unencrypted private key (PKCS#1, SEC1, PKCS#8).
    static let privateKeyLabels: Set<String> = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"]

    /// Scans `bytes` for `-----BEGIN X-----` lines each closed by a matching `-----END X-----`. Lines end at
    /// LF, CR or CRLF (a PEM file saved on Windows is still PEM, and OpenSSL reads it); spaces and tabs around
    /// a marker line are ignored. Works on the bytes: this runs for every file on every directory poll.
    init(scanning bytes: [UInt8]) {
        var labels: [String] = []
        var open: ArraySlice<UInt8>?
        var lineStart = 0
        for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x0A || bytes[index] == 0x0D {
            let line = Self.trimmingSpaces(bytes[lineStart..<index])
            lineStart = index + 1
            if let label = Self.label(line, after: Self.begin) {
                open = label
            } else if let label = Self.label(line, after: Self.end), let opened = open, label.elementsEqual(opened) {
                labels.append(String(decoding: label, as: UTF8.self))
                open = nil
            }
        }
        self.labels = labels
    }

    private static let begin = Array("-----BEGIN ".utf8)
    private static let end = Array("-----END ".utf8)
    private static let dashes = Array("-----".utf8)

    private static func trimmingSpaces(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var line = line
        while let last = line.last, last == 0x20 || last == 0x09 { line = line.dropLast() }
        while let first = line.first, first == 0x20 || first == 0x09 { line = line.dropFirst() }
        return line
    }

    /// `LABEL` for a line `prefix + LABEL + "-----"` with a non-empty label, else `nil`.
    private static func label(_ line: ArraySlice<UInt8>, after prefix: [UInt8]) -> ArraySlice<UInt8>? {
        guard line.count > prefix.count + dashes.count, line.starts(with: prefix), line.suffix(dashes.count).elementsEqual(dashes)
        else { return nil }
        return line.dropFirst(prefix.count).dropLast(dashes.count)
    }

    var containsCertificate: Bool { labels.contains("CERTIFICATE") }
    var containsPrivateKey: Bool { labels.contains { Self.privateKeyLabels.contains($0) } }
    var containsEncryptedPrivateKey: Bool { labels.contains("ENCRYPTED PRIVATE KEY") }
}
