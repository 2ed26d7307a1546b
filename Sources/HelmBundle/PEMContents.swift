/// The labels of the PEM blocks (`-----BEGIN LABEL-----` … `-----END LABEL-----`) found in some bytes.
///
/// A textual check only, done right after decoding so errors can name the secret key; OpenSSL parses the
/// blocks for real in `ValidatedBundle`.
struct PEMContents: Equatable {
    /// The labels of the complete blocks, in order, e.g. `["CERTIFICATE", "CERTIFICATE"]`.
    var labels: [String]

    /// The PEM labels OpenSSL reads as an unencrypted private key (PKCS#1, SEC1, PKCS#8).
    static let privateKeyLabels: Set<String> = ["RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"]

    /// Scans `bytes` for `-----BEGIN X-----` lines each closed by a matching `-----END X-----`.
    init(scanning bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var labels: [String] = []
        var open: String?
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            let line = rawLine.trimmingSpaces()
            if let label = line.label(after: "-----BEGIN ") {
                open = label
            } else if let label = line.label(after: "-----END "), label == open {
                labels.append(label)
                open = nil
            }
        }
        self.labels = labels
    }

    var containsCertificate: Bool { labels.contains("CERTIFICATE") }
    var containsPrivateKey: Bool { labels.contains { Self.privateKeyLabels.contains($0) } }
    var containsEncryptedPrivateKey: Bool { labels.contains("ENCRYPTED PRIVATE KEY") }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var line = self
        while let last = line.last, last == " " || last == "\t" { line = line.dropLast() }
        while let first = line.first, first == " " || first == "\t" { line = line.dropFirst() }
        return line
    }

    /// `"LABEL"` for a line `prefix + "LABEL-----"`, else `nil`.
    fileprivate func label(after prefix: String) -> String? {
        guard hasPrefix(prefix), hasSuffix("-----"), count > prefix.count + 5 else { return nil }
        return String(dropFirst(prefix.count).dropLast(5))
    }
}
