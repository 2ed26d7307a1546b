import CLibSSL
import CSSLShims
import Logging
import Testing
@testable import HTTPServer
import TestSupport

/// What sslyze's `--mozilla_config=intermediate` check looks at, asked of the real server with `openssl s_client`
/// (a private CA aside): the protocol versions, the TLS 1.2 ciphers and TLS 1.3 suites, and the key-exchange
/// groups. What the server accepts is found as sslyze finds it, by elimination: offer everything the client
/// knows, note what the server picked, offer everything but that, and so on until the handshake fails.
@Suite("TLS context: Mozilla's intermediate configuration")
struct TLSContextTests {
    /// Mozilla's "intermediate" TLS 1.2 ciphers (guidelines 5.4) that an ECDSA or RSA certificate can use,
    /// without the two DHE-RSA ones (this server does ECDHE only).
    static let mozillaTLS12Ciphers: Set = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ]

    @Test("the TLS 1.2 session cache is bounded at 2,048 sessions (OpenSSL's default is 20,480)")
    func sessionCacheBound() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let context = try pki.serverContext()
        #expect(TLSContext.sessionCacheSize == 2_048)
        #expect(cshim_SSL_CTX_sess_get_cache_size(context.pointer) == 2_048)
    }

    @Test("TLS 1.2 and 1.3 only: TLS 1.0 and 1.1 are refused")
    func protocols() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        for old in ["-tls1", "-tls1_1"] {
            let refused = try fixture.sClient([old, "-cipher", "ALL:@SECLEVEL=0", "-brief"])
            #expect(refused.status != 0, "\(old) was accepted: \(refused.stderrText)")
        }
        for (flag, version) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
            let accepted = try fixture.sClient([flag, "-brief"])
            #expect(accepted.stderrText.contains("Protocol version: \(version)\n"), "\(accepted.stderrText)")
        }
    }

    @Test("TLS 1.2 accepts Mozilla's intermediate ciphers for an ECDSA certificate, nothing else")
    func tls12Ciphers() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let accepted = try eliminate(everything: "ALL:COMPLEMENTOFALL:@SECLEVEL=0") { offered, excluded in
            let list = ([offered] + excluded.map { "!\($0)" }).joined(separator: ":")
            return try negotiated("Ciphersuite", in: fixture.sClient(["-tls1_2", "-cipher", list, "-brief"]))
        }
        #expect(Set(accepted) == Self.mozillaTLS12Ciphers.filter { $0.hasPrefix("ECDHE-ECDSA-") })
    }

    @Test("TLS 1.3 accepts the AES-GCM and ChaCha20 suites, not the CCM ones")
    func tls13Suites() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let all = [
            "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256",
        ]
        let accepted = try eliminate(everything: all) { remaining in
            try negotiated("Ciphersuite", in: fixture.sClient(["-tls1_3", "-ciphersuites", remaining.joined(separator: ":"), "-brief"]))
        }
        #expect(Set(accepted) == ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"])
    }

    @Test("TLS 1.3 key exchange: X25519, P-256 and P-384 only; no X448, P-521 or finite-field group")
    func tls13Groups() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let all = ["X448", "P-521", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192", "P-384", "P-256", "X25519"]
        let accepted = try eliminate(everything: all) { remaining in
            try keyExchangeGroup(in: fixture.sClient(["-tls1_3", "-groups", remaining.joined(separator: ":"), "-brief"]))
        }
        #expect(Set(accepted) == ["X25519", "P-256", "P-384"])
        for refused in ["X448", "secp521r1", "ffdhe2048"] {
            let result = try fixture.sClient(["-tls1_3", "-groups", refused, "-brief"])
            #expect(result.status != 0, "-groups \(refused) was accepted: \(result.stderrText)")
        }
    }

    @Test("TLS 1.2 key exchange: never X448, P-521, secp256k1 or a Brainpool curve, though the client offers it first")
    func tls12Groups() throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        // A TLS 1.2 client must list the ECDSA certificate's curve (P-256) too, or no cipher can be used at all.
        for offered in ["X448", "P-521", "secp256k1", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"] {
            let result = try fixture.sClient(["-tls1_2", "-curves", "\(offered):P-256", "-brief"])
            #expect(try keyExchangeGroup(in: result) == "P-256", "-curves \(offered):P-256: \(result.stderrText)")
        }
    }

    @Test(
        "the server's group order decides: X25519, then P-256, then P-384",
        arguments: [
            (["-tls1_2", "-curves", "P-384:X25519:P-256"], "X25519"),
            (["-tls1_2", "-curves", "P-384:P-256"], "P-256"),
            // TLS 1.3: the client sends a key share for X448 only, so the server asks again (HelloRetryRequest)
            // for the group it prefers among those offered.
            (["-tls1_3", "-groups", "X448:P-384:X25519"], "X25519"),
            (["-tls1_3", "-groups", "X448:P-384:P-256"], "P-256"),
        ])
    func groupOrder(arguments: [String], expected: String) throws {
        let fixture = try TestServer()
        defer { fixture.stop() }
        let result = try fixture.sClient(arguments + ["-brief"])
        #expect(try keyExchangeGroup(in: result) == expected, "\(arguments): \(result.stderrText)")
    }
}

@Suite("TLS context: the files, read with a bound and loaded from the bytes read")
struct TLSContextFilesTests {
    private func server(_ tls: TLSConfiguration) throws -> HTTPServer {
        try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1, tls: tls),
            responder: EchoResponder(), logger: Logger(label: "tls-files-test"))
    }

    @Test("a chain file's intermediates are sent after the leaf")
    func chainWithIntermediate() throws {
        let directory = try TemporaryDirectory("tls-files")
        defer { directory.remove() }
        let root = try PKIFixtures.certificateAuthority(commonName: "root")
        let intermediate = try PKIFixtures.issue(by: root, commonName: "intermediate", certificateAuthority: true)
        let leaf = try PKIFixtures.issue(
            by: intermediate, commonName: "server", extendedKeyUsage: "serverAuth", subjectAlternativeNames: "IP:127.0.0.1")
        try directory.write("chain.pem", leaf.certificatePEM + intermediate.certificatePEM)
        try directory.write("leaf.key", leaf.keyPEM)
        try directory.write("root.pem", root.certificatePEM)
        let server = try server(TLSConfiguration(certificateChainFile: directory.file("chain.pem"), privateKeyFile: directory.file("leaf.key")))
        try server.start()
        defer {
            server.shutdown(gracePeriod: .seconds(1))
            server.waitUntilStopped()
        }
        let result = try runCommand(
            ["timeout", "10", "openssl", "s_client", "-connect", "127.0.0.1:\(server.localPort)", "-CAfile", directory.file("root.pem"),
             "-showcerts", "-verify_return_error"])
        #expect(result.stdoutText.components(separatedBy: "-----BEGIN CERTIFICATE-----").count - 1 == 2, "\(result.stdoutText)")
        #expect(result.stdoutText.contains("Verify return code: 0 (ok)"), "\(result.stdoutText)")
    }

    @Test("an encrypted key is refused with a reason, never prompted for on a terminal")
    func encryptedKey() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let ca = try pki.makeCA("ca")
        let leaf = try pki.issue("server", commonName: "server", ca: ca)
        let encrypted = pki.directory.file("encrypted.key")
        let made = try runCommand(["openssl", "pkey", "-in", leaf.key, "-aes256", "-passout", "pass:secret", "-out", encrypted])
        #expect(made.status == 0, "\(made.stderrText)")
        let error = try #require(throws: HTTPServerError.self) {
            _ = try server(TLSConfiguration(certificateChainFile: leaf.certificate, privateKeyFile: encrypted))
        }
        #expect(error.description.contains("could not load private key from \(encrypted) (an encrypted key is not supported)"))
    }

    @Test("a TLS file over 1 MiB is not read")
    func oversizedFile() throws {
        let pki = try TestPKI()
        defer { pki.remove() }
        let ca = try pki.makeCA("ca")
        let leaf = try pki.issue("server", commonName: "server", ca: ca)
        let padded = try pki.directory.read("server.pem") + [UInt8](repeating: UInt8(ascii: "\n"), count: TLSContext.fileLimit)
        try pki.directory.write("padded.pem", padded)
        let error = try #require(throws: HTTPServerError.self) {
            _ = try server(TLSConfiguration(certificateChainFile: pki.directory.file("padded.pem"), privateKeyFile: leaf.key))
        }
        #expect(error.description.contains("could not load certificate chain from \(pki.directory.file("padded.pem"))"))
        #expect(error.description.contains("File too large"))
    }
}

/// The value of `s_client -brief`'s `name: value` line, or nil when the handshake failed.
private func negotiated(_ name: String, in result: CommandResult) -> String? {
    guard result.status == 0 else { return nil }
    let prefix = "\(name): "
    return result.stderrText.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
}

/// The key-exchange group from `s_client`'s `Server Temp Key` line, by the name `-groups` takes (`X25519`,
/// `P-256`, …), or nil when the handshake failed.
private func keyExchangeGroup(in result: CommandResult) throws -> String? {
    guard let key = negotiated("Server Temp Key", in: result) else { return nil }
    let names = [
        "X25519": "X25519", "X448": "X448", "ECDH, prime256v1": "P-256", "ECDH, secp384r1": "P-384",
        "ECDH, secp521r1": "P-521", "ECDH, secp256k1": "secp256k1", "ECDH, brainpoolP256r1": "brainpoolP256r1",
        "ECDH, brainpoolP384r1": "brainpoolP384r1", "ECDH, brainpoolP512r1": "brainpoolP512r1",
    ]
    let group = key.split(separator: ",").dropLast().joined(separator: ",")
    if let name = names[group] { return name }
    if group == "DH", let bits = key.split(separator: " ").dropLast().last { return "ffdhe\(bits)" }
    throw UnknownGroup(text: key)
}

private struct UnknownGroup: Error, CustomStringConvertible {
    var text: String
    var description: String { "unknown Server Temp Key: \(text)" }
}

/// Everything the server accepts out of `everything`: offers all, then all but what it picked, until the
/// handshake fails (at most `everything.count + 1` handshakes).
private func eliminate(everything: [String], handshake: ([String]) throws -> String?) throws -> [String] {
    var remaining = everything
    var accepted: [String] = []
    while !remaining.isEmpty, let picked = try handshake(remaining) {
        guard let index = remaining.firstIndex(of: picked) else {
            Issue.record("the server picked \(picked), which was not offered")
            break
        }
        accepted.append(picked)
        remaining.remove(at: index)
    }
    return accepted
}

/// The same for an OpenSSL cipher string: offers `everything` minus what was picked so far.
private func eliminate(everything: String, handshake: (String, [String]) throws -> String?) throws -> [String] {
    var accepted: [String] = []
    while let picked = try handshake(everything, accepted), accepted.count < 200 {
        guard !accepted.contains(picked) else {
            Issue.record("the server picked \(picked) although it was excluded")
            break
        }
        accepted.append(picked)
    }
    return accepted
}

/// Every failed OpenSSL call reports its error queue as text through `cshim_drain_error_queue` (the HTTP server's
/// TLS here, HelmBundle's X.509 likewise).
@Suite("OpenSSL's error queue as text")
struct OpenSSLErrorTextTests {
    @Test("OpenSSL's error queue becomes one line, its entries joined by '; ', and is left empty")
    func errorQueueText() {
        for _ in 0..<2 {
            let garbage: [UInt8] = Array("not a certificate".utf8)
            garbage.withUnsafeBytes { bytes in
                let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count))
                #expect(PEM_read_bio_X509(bio, nil, nil, nil) == nil)
                BIO_free(bio)
            }
        }
        let text = TLSContext.openSSLErrors()
        #expect(text.components(separatedBy: "; ").count == 2, "\(text)")
        #expect(text.contains("no start line"), "\(text)")
        #expect(ERR_peek_error() == 0, "the queue was not emptied")
        #expect(TLSContext.openSSLErrors() == "no OpenSSL error recorded")
    }
}
