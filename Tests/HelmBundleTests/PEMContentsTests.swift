import Testing

@testable import HelmBundle

@Suite("PEMContents: the PEM blocks in some bytes")
struct PEMContentsTests {
    private func labels(_ text: String) -> [String] { PEMContents(scanning: Array(text.utf8)).labels }

    @Test("lines may end in LF, CRLF, CR, or a mix of them", arguments: ["\n", "\r\n", "\r", "\r\n\n"])
    func lineEndings(ending: String) {
        let text = ["-----BEGIN CERTIFICATE-----", "MIIB", "-----END CERTIFICATE-----",
                    "-----BEGIN EC PRIVATE KEY-----", "MHc", "-----END EC PRIVATE KEY-----", ""].joined(separator: ending)
        #expect(labels(text) == ["CERTIFICATE", "EC PRIVATE KEY"])
    }

    @Test("spaces and tabs around a marker are ignored; inside the label they count")
    func whitespace() {
        #expect(labels(" \t-----BEGIN CERTIFICATE-----\t \nx\n  -----END CERTIFICATE-----  \n") == ["CERTIFICATE"])
        #expect(labels("-----BEGIN CERTIFICATE -----\nx\n-----END CERTIFICATE -----\n") == ["CERTIFICATE "])
    }

    @Test("a block counts only when closed by an END with the same label")
    func unmatched() {
        #expect(labels("-----BEGIN CERTIFICATE-----\nx\n-----END PRIVATE KEY-----\n").isEmpty)
        #expect(labels("-----BEGIN CERTIFICATE-----\nx\n").isEmpty)
        #expect(labels("-----END CERTIFICATE-----\n").isEmpty)
        // A second BEGIN replaces an unclosed first one.
        #expect(labels("-----BEGIN A-----\n-----BEGIN B-----\n-----END A-----\n-----END B-----\n") == ["B"])
    }

    @Test("an empty label, a marker inside a longer line, or no marker at all is not a block")
    func notMarkers() {
        #expect(labels("-----BEGIN -----\n-----END -----\n").isEmpty)
        #expect(labels("x-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n").isEmpty)
        #expect(labels("").isEmpty)
        #expect(labels("just text\r\n").isEmpty)
    }
}
