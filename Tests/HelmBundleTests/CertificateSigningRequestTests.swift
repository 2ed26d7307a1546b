import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("CertificateSigningRequest accepts one signed PKCS#10 request for an allowed key, and refuses everything else")
struct CertificateSigningRequestTests {
    private static let p256 = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"]

    private func refusal(_ pem: [UInt8]) -> CertificateSigningRequestError? {
        do {
            _ = try CertificateSigningRequest(pem: pem)
            return nil
        } catch {
            return error
        }
    }

    /// `pem` with its DER changed by `edit`, written back as PEM, both ways through the `openssl` CLI.
    private func editingDER(_ pem: [UInt8], _ edit: (inout [UInt8]) -> Void) throws -> [UInt8] {
        var der = try PKIFixtures.openssl(["req", "-outform", "DER"], stdin: pem).stdout
        edit(&der)
        return try PKIFixtures.openssl(["req", "-inform", "DER", "-outform", "PEM"], stdin: der).stdout
    }

    @Test(
        "keys openssl req makes for P-256, P-384, RSA-2048 and RSA-4096 are accepted, of the right kind",
        arguments: [
            (p256, PublicKey.Algorithm.ecdsaP256),
            (["ec", "-pkeyopt", "ec_paramgen_curve:P-384"], .ecdsaP384),
            (["rsa:2048"], .rsa(bits: 2048)),
            (["rsa:4096"], .rsa(bits: 4096)),
        ] as [([String], PublicKey.Algorithm)])
    func acceptsAllowedKeys(newKey: [String], algorithm: PublicKey.Algorithm) throws {
        let csr = try PKIFixtures.certificateSigningRequest(newKey: newKey)
        #expect(try CertificateSigningRequest(pem: csr.csrPEM).publicKey.algorithm == algorithm)
    }

    @Test("the NEW CERTIFICATE REQUEST label is accepted too")
    func acceptsNetscapeLabel() throws {
        let csr = String(decoding: try PKIFixtures.certificateSigningRequest().csrPEM, as: UTF8.self)
        let relabelled = csr.replacingOccurrences(of: "CERTIFICATE REQUEST-----", with: "NEW CERTIFICATE REQUEST-----")
        #expect(relabelled.hasPrefix("-----BEGIN NEW CERTIFICATE REQUEST-----"))
        #expect(try CertificateSigningRequest(pem: Array(relabelled.utf8)).publicKey.algorithm == .ecdsaP256)
    }

    @Test("whatever else the request asks for (subject, SANs, CA:FALSE, serverAuth) is no reason to refuse it")
    func ignoresRequestedSubjectAndExtensions() throws {
        let csr = try PKIFixtures.certificateSigningRequest(
            subject: "/O=system:masters/CN=admin",
            extensions: ["subjectAltName=DNS:evil.example", "basicConstraints=CA:FALSE", "extendedKeyUsage=serverAuth"])
        #expect(try CertificateSigningRequest(pem: csr.csrPEM).publicKey.algorithm == .ecdsaP256)
    }

    @Test("exactly maximumPEMSize (16 KiB) bytes are accepted; one more is refused before anything is parsed")
    func sizeBound() throws {
        #expect(CertificateSigningRequest.maximumPEMSize == 16_384)
        let csr = try PKIFixtures.certificateSigningRequest().csrPEM
        let padded = csr + [UInt8](repeating: 0x0A, count: CertificateSigningRequest.maximumPEMSize - csr.count)
        #expect(padded.count == 16_384)
        #expect(throws: Never.self) { try CertificateSigningRequest(pem: padded) }
        #expect(refusal(padded + [0x0A]) == .tooLarge(bytes: 16_385))
        #expect(refusal([UInt8](repeating: 0x41, count: 1 << 20)) == .tooLarge(bytes: 1 << 20))
    }

    @Test("empty, garbage, DER and a file cut short are not PEM")
    func notPEM() throws {
        let csr = try PKIFixtures.certificateSigningRequest().csrPEM
        #expect(refusal([]) == .empty)
        #expect(refusal(Array(" \n\r\n\t".utf8)) == .empty)
        #expect(refusal(Array("hello, I would like a certificate please".utf8)) == .notPEM)
        let der = try PKIFixtures.openssl(["req", "-outform", "DER"], stdin: csr).stdout
        #expect(refusal(der) == .notPEM)
        #expect(refusal(Array(csr.prefix(csr.count / 2))) == .notPEM)
    }

    @Test("a PEM block whose base64 lost a line does not parse")
    func truncatedContents() throws {
        let lines = String(decoding: try PKIFixtures.certificateSigningRequest().csrPEM, as: UTF8.self)
            .split(separator: "\n", omittingEmptySubsequences: false)
        var cut = lines
        cut.remove(at: 2)
        guard case .unreadable = refusal(Array(cut.joined(separator: "\n").utf8)) else {
            Issue.record("expected .unreadable, got \(String(describing: refusal(Array(cut.joined(separator: "\n").utf8))))")
            return
        }
    }

    @Test("two blocks are refused, even two good requests")
    func twoBlocks() throws {
        let first = try PKIFixtures.certificateSigningRequest().csrPEM
        let second = try PKIFixtures.certificateSigningRequest().csrPEM
        #expect(refusal(first + second) == .severalPEMBlocks(count: 2))
        #expect(refusal(first + first + first) == .severalPEMBlocks(count: 3))
    }

    @Test("a certificate or a private key sent instead of a request is refused by its label; a key with a warning")
    func wrongLabels() throws {
        let authority = try PKIFixtures.certificateAuthority()
        #expect(refusal(authority.certificatePEM) == .wrongPEMLabel("CERTIFICATE"))
        let key = try PKIFixtures.certificateSigningRequest().keyPEM
        let error = try #require(refusal(key))
        #expect(error == .wrongPEMLabel("PRIVATE KEY"))
        #expect(error.description.contains("never send a private key"))
        #expect(!error.description.contains(String(decoding: key, as: UTF8.self).split(separator: "\n")[1]))
    }

    @Test("one byte changed in the signed part (the subject) breaks the signature")
    func tamperedSignature() throws {
        let csr = try PKIFixtures.certificateSigningRequest(subject: "/CN=tamper-me").csrPEM
        let tampered = try editingDER(csr) { der in
            let name = Array("tamper-me".utf8)
            let at = (0...(der.count - name.count)).first { Array(der[$0..<($0 + name.count)]) == name }!
            der[at] ^= 0x01  // "tamper-me" -> "uamper-me": still a valid UTF8String
        }
        #expect(tampered != csr)
        #expect(refusal(tampered) == .badSignature)
    }

    @Test(
        "keys that are too weak or of another kind are refused with their own error",
        arguments: [
            (["rsa:1024"], CertificateSigningRequestError.rsaKeySize(bits: 1024)),
            (["ec", "-pkeyopt", "ec_paramgen_curve:P-521"], .unsupportedCurve("secp521r1")),
            (["ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"], .unsupportedCurve("secp256k1")),
            (["ed25519"], .unsupportedKeyType("ED25519")),
        ] as [([String], CertificateSigningRequestError)])
    func refusesKeys(newKey: [String], expected: CertificateSigningRequestError) throws {
        let csr = try PKIFixtures.certificateSigningRequest(newKey: newKey)
        #expect(refusal(csr.csrPEM) == expected)
    }

    @Test("a P-256 key given by explicit curve parameters is refused, saying to use the named curve (Go and openssl refuse such a certificate)")
    func explicitCurveParameters() throws {
        let directory = try TemporaryDirectory("explicit-curve")
        defer { directory.remove() }
        try PKIFixtures.openssl(["ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-out", directory.file("params.pem")])
        let csr = try PKIFixtures.certificateSigningRequest(newKey: ["ec:\(directory.file("params.pem"))"])
        let text = try PKIFixtures.openssl(["req", "-noout", "-text"], stdin: csr.csrPEM).stdoutText
        #expect(text.contains("Field Type: prime-field"), "the fixture's key has explicit parameters")
        let error = try #require(refusal(csr.csrPEM))
        guard case .unsupportedCurve(let detail) = error else {
            Issue.record("\(error)")
            return
        }
        #expect(detail.contains("explicit parameters") && error.description.contains("named_curve"))
    }

    @Test("a request for a CA certificate is refused")
    func refusesCARequest() throws {
        let csr = try PKIFixtures.certificateSigningRequest(extensions: ["basicConstraints=critical,CA:TRUE"])
        #expect(refusal(csr.csrPEM) == .requestsCertificateAuthority)
        let notCritical = try PKIFixtures.certificateSigningRequest(extensions: ["basicConstraints=CA:TRUE,pathlen:0"])
        #expect(refusal(notCritical.csrPEM) == .requestsCertificateAuthority)
    }

    @Test("every refusal says what was wrong and shows the openssl line that makes a good request")
    func descriptionsHelp() throws {
        let errors: [CertificateSigningRequestError] = [
            .empty, .tooLarge(bytes: 20_000), .notPEM, .severalPEMBlocks(count: 2), .wrongPEMLabel("CERTIFICATE"),
            .unreadable("asn1 encoding routines::too long"), .badSignature, .unsupportedKeyType("ED25519"),
            .unsupportedCurve("secp521r1"), .rsaKeySize(bits: 1024), .requestsCertificateAuthority, .unreadableExtensions,
        ]
        #expect(Set(errors.map(\.description)).count == errors.count, "each its own message")
        for error in errors {
            #expect(error.description.contains(CertificateSigningRequestError.exampleCommand), "\(error)")
        }
        #expect(CertificateSigningRequestError.rsaKeySize(bits: 1024).description.contains("1024-bit"))
        #expect(CertificateSigningRequestError.tooLarge(bytes: 20_000).description.contains("16384"))
    }
}
