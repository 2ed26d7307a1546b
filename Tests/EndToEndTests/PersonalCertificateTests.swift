import Foundation
import HelmBundle
import Testing
import TestSupport

/// Personal certificates from the real binary, fetched by the real `curl`, made from a CSR of the real
/// `openssl req`, and presented to the Tiller stand-in (a real gRPC server with TLS client authentication).
@Suite("Personal certificates, end to end", .serialized)
final class PersonalCertificateTests {
    let server: DevelopmentServer
    var service: ServiceProcess { server.service }
    /// The --dev directory: its CA, and the server certificate the stand-in Tiller presents (same CA).
    var devDirectory: String { String(server.serverCA.dropLast("/ca.pem".count)) }
    var base: String { server.base }
    var auth: String { server.authorization }

    init() throws {
        server = try DevelopmentServer(arguments: ["--issue-max-ttl", "12h"])
    }

    deinit { server.stop() }

    /// Tiller, trusting the dev CA and presenting the dev server certificate (signed by it, for 127.0.0.1).
    func tiller() throws -> TillerStandIn {
        let ca = try Data(contentsOf: URL(fileURLWithPath: "\(devDirectory)/ca.pem"))
        let server = PKIFixtures.Credential(
            certificatePEM: Array(try Data(contentsOf: URL(fileURLWithPath: "\(devDirectory)/server.pem"))),
            keyPEM: Array(try Data(contentsOf: URL(fileURLWithPath: "\(devDirectory)/server-key.pem"))))
        return try TillerStandIn(.serve(ca: Array(ca), server: server))
    }

    static func subject(_ certificate: String) throws -> String {
        try runCommand(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", certificate]).stdoutText
    }

    @Test("the welcome's one-liner gets a personal certificate that Tiller accepts, chains to ca.pem and names the caller")
    func oneLiner() throws {
        let line = try #require(service.stdoutText.split(separator: "\n").first { $0.contains("personal.tar.gz | tar") })
        let home = try TemporaryDirectory("personal-home")
        defer { home.remove() }
        let result = try runCommand(
            ["bash", "-o", "pipefail", "-c", line.trimmingCharacters(in: .whitespaces)], environment: ["HELM_HOME": home.path])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(try runCommand(["openssl", "verify", "-CAfile", home.file("ca.pem"), home.file("cert.pem")]).status == 0)
        #expect(try Self.subject(home.file("cert.pem")) == "subject=CN=developer\n")
        let keyMode = try FileManager.default.attributesOfItem(atPath: home.file("key.pem"))[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
        let tiller = try tiller()
        #expect(try tiller.acceptsClient(home: home), "Tiller refused the personal certificate")

        // The key is nowhere but in the answer: not in a log line, not in an audit line.
        let key = String(decoding: try home.read("key.pem"), as: UTF8.self)
        let body = key.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        #expect(body.count > 40)
        let output = service.stdoutText + service.stderrText
        for start in stride(from: 0, to: body.count - 16, by: 16) {
            #expect(!output.contains(String(body.dropFirst(start).prefix(16))), "a piece of the key was printed")
        }
        // Its audit line names the certificate.
        let serial = try runCommand(["openssl", "x509", "-noout", "-serial", "-in", home.file("cert.pem")]).stdoutText
            .dropFirst("serial=".count).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(service.stdoutText.contains(#""certificate":{"serial":"\#(serial)""#))
    }

    @Test("a CSR made by openssl req gets a certificate Tiller accepts with the caller's own key")
    func signingRequest() throws {
        let home = try TemporaryDirectory("csr-home")
        defer { home.remove() }
        let (csr, key) = try PKIFixtures.certificateSigningRequest(newKey: ["rsa:2048"])
        try home.write("req.csr", csr)
        try home.write("key.pem", key)
        let certificate = try curl(
            "\(base)/v1/bundles/helm/certificates?ttl=1h", method: "POST",
            headers: [auth, "Content-Type: application/pkcs10"], caFile: "\(devDirectory)/ca.pem",
            extra: ["--data-binary", "@\(home.file("req.csr"))"])
        #expect(certificate.status == 200, "\(certificate.bodyText)")
        #expect(certificate.header("cache-control") == "no-store")
        try home.write("cert.pem", certificate.body)
        let ca = try curl("\(base)/v1/bundles/helm/ca.pem", headers: [auth], caFile: "\(devDirectory)/ca.pem")
        try home.write("ca.pem", ca.body)
        #expect(try runCommand(["openssl", "verify", "-CAfile", home.file("ca.pem"), home.file("cert.pem")]).status == 0)
        #expect(try Self.subject(home.file("cert.pem")) == "subject=CN=developer\n")
        #expect(try tiller().acceptsClient(home: home))
    }

    @Test("refusals say why: too long a ttl names the limit, a CA CSR is 400, a body over 16 KiB is 413, a GET is 405")
    func refusals() throws {
        let ca = "\(devDirectory)/ca.pem"
        let tooLong = try curl("\(base)/v1/bundles/helm/personal.tar.gz?ttl=13h", method: "POST", headers: [auth], caFile: ca)
        #expect(tooLong.status == 400)
        #expect(tooLong.bodyText.contains("at most 12h"))
        let home = try TemporaryDirectory("refusals")
        defer { home.remove() }
        try home.write("ca.csr", try PKIFixtures.certificateSigningRequest(extensions: ["basicConstraints=critical,CA:TRUE"]).csrPEM)
        let caRequest = try curl(
            "\(base)/v1/bundles/helm/certificates", method: "POST", headers: [auth, "Content-Type: application/pkcs10"],
            caFile: ca, extra: ["--data-binary", "@\(home.file("ca.csr"))"])
        #expect(caRequest.status == 400)
        #expect(caRequest.bodyText.contains("CA certificate"))
        try home.write("big.csr", [UInt8](repeating: UInt8(ascii: "A"), count: 17 * 1024))
        let big = try curl(
            "\(base)/v1/bundles/helm/certificates", method: "POST", headers: [auth, "Content-Type: application/pkcs10"],
            caFile: ca, extra: ["--data-binary", "@\(home.file("big.csr"))"])
        #expect(big.status == 413)
        let get = try curl("\(base)/v1/bundles/helm/personal.tar.gz", headers: [auth], caFile: ca)
        #expect(get.status == 405)
        #expect(get.header("allow") == "POST")
        #expect(service.isRunning)
    }

    @Test("generated keys do not linger in the server's memory once their answers are sent (PEM, tar and zlib buffers cleared)")
    func generatedKeysAreCleared() throws {
        let ca = "\(devDirectory)/ca.pem"
        var needles: [String] = []
        for _ in 0..<8 {
            let answer = try curl("\(base)/v1/bundles/helm/personal.tar.gz", method: "POST", headers: [auth], caFile: ca)
            #expect(answer.status == 200)
            let home = try TemporaryDirectory("cleared-home")
            defer { home.remove() }
            try runCommand(["tar", "-xzf", "-", "-C", home.path], stdin: answer.body)
            let lines = String(decoding: try home.read("key.pem"), as: UTF8.self).split(separator: "\n")
            // The second base64 line: the private scalar's bytes, as the PEM in memory held them.
            needles.append(String(lines[2].prefix(48)))
        }
        let scan = """
            import sys
            pid = int(sys.argv[1]); needles = [n.encode() for n in sys.argv[2:]]; found = 0
            with open(f'/proc/{pid}/maps') as maps, open(f'/proc/{pid}/mem', 'rb', 0) as mem:
                for line in maps:
                    addr, perms = line.split()[:2]
                    start, end = (int(x, 16) for x in addr.split('-'))
                    if 'r' not in perms or end - start > 1 << 30: continue
                    try:
                        mem.seek(start); data = mem.read(end - start)
                    except Exception: continue
                    found += sum(data.count(n) for n in needles)
            print(found)
            """
        let result = try runCommand(["python3", "-c", scan, String(service.processIdentifier)] + needles)
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == "0\n", "pieces of generated keys found in the server's memory: \(result.stdoutText)")
    }

    @Test("/readyz says issuing is ready; the ledger lists what was issued")
    func readinessAndLedger() throws {
        let ca = "\(devDirectory)/ca.pem"
        _ = try curl("\(base)/v1/bundles/helm/personal.tar.gz", method: "POST", headers: [auth], caFile: ca)
        let ready = try curl("\(base)/readyz", caFile: ca)
        #expect(ready.bodyText.contains("issuing: ready, signing with"))
        let ledger = try curl("\(base)/v1/bundles/helm/certificates", headers: [auth], caFile: ca)
        #expect(ledger.status == 200)
        #expect(ledger.bodyText.contains(#""user":"developer""#))
    }
}

@Suite("--no-shared-key, end to end")
struct SharedKeyClosedTests {
    @Test("key.pem and bundle.tar.gz are 403 pointing at personal.tar.gz; ca.pem, cert.pem, metadata and the one-liner work")
    func closed() throws {
        let server = try DevelopmentServer(arguments: ["--no-shared-key"])
        defer { server.stop() }
        let (token, ca, base) = (server.token, server.serverCA, server.base + "/v1/bundles/helm")
        for file in ["key.pem", "bundle.tar.gz"] {
            let refused = try curl("\(base)/\(file)", headers: ["Authorization: Bearer \(token)"], caFile: ca)
            #expect(refused.status == 403)
            #expect(refused.bodyText.contains("personal.tar.gz"))
            #expect(!refused.bodyText.contains("PRIVATE KEY"))
        }
        for file in ["/ca.pem", "/cert.pem", ""] {
            #expect(try curl("\(base)\(file)", headers: ["Authorization: Bearer \(token)"], caFile: ca).status == 200)
        }
        #expect(try curl("\(base)/personal.tar.gz", method: "POST", headers: ["Authorization: Bearer \(token)"], caFile: ca).status == 200)
    }

    @Test("--shared-key=false is refused by the parser, naming the flag to use")
    func equalsFalse() throws {
        let result = try runCommand([ServiceProcess.binaryPath, "--dev", "--shared-key=false"])
        #expect(result.status != 0)
        #expect((result.stderrText + result.stdoutText).contains("shared-key"))
    }
}
