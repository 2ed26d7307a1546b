import Foundation
import HTTPServer
import Logging
import TestSupport
import Testing

/// A server that verifies client certificates against a CA file of its own (`trusted-clients.pem`), apart from
/// the CA that signed its serving certificate, so the test can replace the one without touching the other.
private final class MutualTLSServer: Sendable {
    let directory: TemporaryDirectory
    let server: HTTPServer
    var port: Int { server.localPort }

    /// With `crl`, the server is started with `--client-crl`-like `clientCRLFile` holding an empty CRL of the
    /// client CA; ``revokeClientCertificate()`` replaces it with one listing the client certificate.
    /// `crlSeconds`: the CRL's nextUpdate that many seconds from now (else a day).
    init(clientCertificateEndDate: String? = nil, crl: Bool = false, crlSeconds: Int? = nil) throws {
        directory = try TemporaryDirectory("session-binding")
        let serverCA = try PKIFixtures.certificateAuthority(commonName: "server-ca")
        let serving = try PKIFixtures.issue(
            by: serverCA, commonName: "server", extendedKeyUsage: "serverAuth", subjectAlternativeNames: "IP:127.0.0.1")
        let clientCA = try PKIFixtures.certificateAuthority(commonName: "client-ca")
        let client = try PKIFixtures.issue(by: clientCA, commonName: "helm-client", endDate: clientCertificateEndDate)
        let otherCA = try PKIFixtures.certificateAuthority(commonName: "replacement-client-ca")
        for (name, bytes) in [
            ("server-ca.pem", serverCA.certificatePEM), ("serving.pem", serving.certificatePEM),
            ("serving.key", serving.keyPEM), ("trusted-clients.pem", clientCA.certificatePEM),
            ("client.pem", client.certificatePEM), ("client.key", client.keyPEM), ("other-ca.pem", otherCA.certificatePEM),
            ("client-ca.key", clientCA.keyPEM),
        ] { try directory.write(name, bytes) }
        if crl {
            try directory.write("index.txt", "")
            try directory.write(
                "ca.cnf",
                "[ca]\ndefault_ca = test\n[test]\ndatabase = \(directory.file("index.txt"))\ndefault_md = sha256\ndefault_crl_days = 1\n")
            try Self.generateCRL(directory, to: "clients.crl", extra: crlSeconds.map { ["-crlsec", "\($0)"] } ?? [])
        }
        var logger = Logger(label: "session-binding-test")
        logger.logLevel = .warning
        let tls = TLSConfiguration(
            certificateChainFile: directory.file("serving.pem"), privateKeyFile: directory.file("serving.key"),
            clientCAFile: directory.file("trusted-clients.pem"), clientCRLFile: crl ? directory.file("clients.crl") : nil)
        server = try HTTPServer(
            configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, eventLoopCount: 1, tls: tls),
            responder: EchoResponder(), logger: logger)
        try server.start()
    }

    /// `openssl s_client` sending one request that closes the connection, reading until the server closes (so
    /// the session tickets are in `-sess_out`); with the client certificate unless `certificate` is false.
    func request(_ arguments: [String], certificate: Bool = true) throws -> CommandResult {
        let credentials = certificate ? ["-cert", directory.file("client.pem"), "-key", directory.file("client.key")] : []
        return try runCommand(
            ["timeout", "10", "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", directory.file("server-ca.pem"),
             "-ign_eof"] + credentials + arguments,
            stdin: Array("GET /me HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
    }

    /// Replaces the client CA file with another CA and has the server load it, as the file watch does.
    func replaceClientCA() throws {
        try directory.write("trusted-clients.pem", try directory.read("other-ca.pem"))
        try server.reloadTLS()
    }

    /// Lists the client certificate in the CRL file and has the server load it, as the file watch does.
    func revokeClientCertificate() throws {
        try PKIFixtures.openssl(
            ["ca", "-config", directory.file("ca.cnf"), "-keyfile", directory.file("client-ca.key"),
             "-cert", directory.file("trusted-clients.pem"), "-revoke", directory.file("client.pem")])
        try Self.generateCRL(directory, to: "clients.crl")
        try server.reloadTLS()
    }

    private static func generateCRL(_ directory: TemporaryDirectory, to name: String, extra: [String] = []) throws {
        try PKIFixtures.openssl(
            ["ca", "-config", directory.file("ca.cnf"), "-gencrl", "-keyfile", directory.file("client-ca.key"),
             "-cert", directory.file("trusted-clients.pem"), "-out", directory.file(name)] + extra)
    }

    func stop() {
        server.shutdown(gracePeriod: .seconds(1))
        server.waitUntilStopped()
        directory.remove()
    }
}

@Suite("TLS sessions are bound to the client CA and certificate that verified them", .serialized)
struct SessionBindingTests {
    @Test(
        "an old certificate's saved session does not resume after the client CA file is replaced (issue 13, first row)",
        arguments: [["-tls1_3"], ["-tls1_2"], ["-tls1_2", "-no_ticket"]])
    func replacedClientCA(protocolArguments: [String]) throws {
        let fixture = try MutualTLSServer()
        defer { fixture.stop() }
        let session = { (n: Int) in fixture.directory.file("session-\(n).pem") }
        let first = try fixture.request(protocolArguments + ["-sess_out", session(1)])
        #expect(first.stdoutText.contains("cn=helm-client"), "\(first.stdoutText)\(first.stderrText)")
        // Before the change the session resumes, and still authenticates the client.
        let resumed = try fixture.request(protocolArguments + ["-sess_in", session(1), "-sess_out", session(2)])
        #expect(resumed.stdoutText.contains("Reused, TLSv1."), "\(resumed.stdoutText)")
        #expect(resumed.stdoutText.contains("cn=helm-client"), "\(resumed.stdoutText)")

        try fixture.replaceClientCA()
        let latest = FileManager.default.fileExists(atPath: session(2)) ? session(2) : session(1)
        for withCertificate in [true, false] {
            let after = try fixture.request(protocolArguments + ["-sess_in", latest], certificate: withCertificate)
            #expect(!after.stdoutText.contains("Reused,"), "resumed after the CA was replaced: \(after.stdoutText)")
            #expect(!after.stdoutText.contains("cn=helm-client"), "authenticated by the old CA: \(after.stdoutText)")
        }
        // A new handshake with the old certificate fails outright; without one, the connection is anonymous.
        let fresh = try fixture.request(protocolArguments)
        #expect(!fresh.stdoutText.contains("cn=helm-client"), "\(fresh.stdoutText)")
    }

    @Test("one kept-alive connection across a client CA replacement: the request after it is anonymous and closes")
    func keptAliveConnectionAcrossReplacedClientCA() throws {
        let fixture = try MutualTLSServer()
        defer { fixture.stop() }
        // s_client sends /1, waits 2 s, sends /2 on the same connection; the CA is replaced after 1 s.
        let replacer = Thread {
            Thread.sleep(forTimeInterval: 1)
            do { try fixture.replaceClientCA() } catch { Issue.record("reload failed: \(error)") }
        }
        replacer.start()
        let result = try fixture.keptAliveRequests(secondAfter: 2)
        try expectIdentityEnded(result)
    }

    @Test(
        "a client certificate listed in a new CRL: its saved session does not resume, and a new handshake fails",
        arguments: [["-tls1_3"], ["-tls1_2"]])
    func revokedByCRL(protocolArguments: [String]) throws {
        let fixture = try MutualTLSServer(crl: true)
        defer { fixture.stop() }
        let session = fixture.directory.file("session.pem")
        let first = try fixture.request(protocolArguments + ["-sess_out", session])
        #expect(first.stdoutText.contains("cn=helm-client"), "not accepted under an empty CRL: \(first.stdoutText)\(first.stderrText)")
        #expect(try fixture.request(protocolArguments + ["-sess_in", session]).stdoutText.contains("Reused, TLSv1."))

        try fixture.revokeClientCertificate()
        let resumed = try fixture.request(protocolArguments + ["-sess_in", session])
        #expect(!resumed.stdoutText.contains("Reused,"), "resumed after revocation: \(resumed.stdoutText)")
        #expect(!resumed.stdoutText.contains("cn=helm-client"), "\(resumed.stdoutText)")
        let fresh = try fixture.request(protocolArguments)
        #expect(!fresh.stdoutText.contains("cn=helm-client"), "\(fresh.stdoutText)")
        #expect(fresh.stderrText.contains("certificate revoked"), "\(fresh.stderrText)")
    }

    @Test("at the CRL's nextUpdate sessions end (tickets say so), nothing resumes, a kept-alive connection loses its identity")
    func crlNextUpdateEndsSessions() throws {
        let seconds = 5
        let nextUpdate = Date().addingTimeInterval(TimeInterval(seconds))
        let fixture = try MutualTLSServer(crl: true, crlSeconds: seconds)
        defer { fixture.stop() }
        try fixture.expectSessionsEnd(within: seconds, at: nextUpdate, what: "the CRL's nextUpdate")
    }

    @Test("the client CA reloaded with the same bytes keeps sessions: the binding is the bundle's fingerprint")
    func unchangedClientCAKeepsSessions() throws {
        let fixture = try MutualTLSServer()
        defer { fixture.stop() }
        let session = fixture.directory.file("session.pem")
        _ = try fixture.request(["-tls1_3", "-sess_out", session])
        try fixture.server.reloadTLS()
        let resumed = try fixture.request(["-tls1_3", "-sess_in", session])
        #expect(resumed.stdoutText.contains("Reused, TLSv1.3"), "\(resumed.stdoutText)")
        #expect(resumed.stdoutText.contains("cn=helm-client"), "\(resumed.stdoutText)")
    }

    @Test("at the certificate's notAfter sessions end (tickets say so), nothing resumes, a kept-alive connection loses its identity")
    func expiringCertificate() throws {
        let seconds = 5
        let notAfter = Date().addingTimeInterval(TimeInterval(seconds))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        let fixture = try MutualTLSServer(clientCertificateEndDate: formatter.string(from: notAfter))
        defer { fixture.stop() }
        try fixture.expectSessionsEnd(within: seconds, at: notAfter, what: "the certificate's notAfter")
    }
}

extension MutualTLSServer {
    /// One `openssl s_client` connection with the client certificate, kept alive: `GET /1` now, `GET /2` after
    /// `delay` seconds; returns its output once the server closes (or 8 s after the second request).
    func keptAliveRequests(secondAfter delay: Int) throws -> CommandResult {
        let request = { (path: String) in "printf 'GET \(path) HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n'" }
        let client =
            "timeout \(delay + 8) openssl s_client -quiet -connect 127.0.0.1:\(port) -CAfile \(directory.file("server-ca.pem"))"
            + " -cert \(directory.file("client.pem")) -key \(directory.file("client.key"))"
        return try runCommand(
            ["timeout", "\(delay + 12)", "sh", "-c", "(\(request("/1")); sleep \(delay); \(request("/2")); sleep 3) | \(client)"])
    }

    /// Over TLS 1.3 tickets, TLS 1.2 tickets and TLS 1.2 session IDs: sessions made now authenticate the client,
    /// say (ticket lifetime hint) they last at most `seconds`, and resume; after `end` (`what`) none resumes or
    /// authenticates, and a connection kept alive across `end` carries no identity after it.
    func expectSessionsEnd(within seconds: Int, at end: Date, what: String) throws {
        let keptAlive = BackgroundTask { try self.keptAliveRequests(secondAfter: seconds + 2) }
        let variants = [["-tls1_3"], ["-tls1_2"], ["-tls1_2", "-no_ticket"]]
        for (n, protocolArguments) in variants.enumerated() {
            let session = directory.file("session-\(n).pem")
            let first = try request(protocolArguments + ["-sess_out", session])
            #expect(first.stdoutText.contains("cn=helm-client"), "\(first.stdoutText)\(first.stderrText)")
            if !protocolArguments.contains("-no_ticket") {
                // (s_client's own "Timeout" line is the client's setting; the server's bound travels as the hint.)
                let hint = try #require(ticketLifetimeHint(in: first.stdoutText), "\(first.stdoutText)")
                #expect(hint <= seconds, "\(protocolArguments): the ticket outlives \(what): lifetime hint \(hint) s")
            }
            let resumed = try request(protocolArguments + ["-sess_in", session])
            #expect(resumed.stdoutText.contains("Reused, TLSv1."), "\(protocolArguments): \(resumed.stdoutText)")
        }

        Thread.sleep(until: end.addingTimeInterval(1.5))
        for (n, protocolArguments) in variants.enumerated() {
            let late = try request(protocolArguments + ["-sess_in", directory.file("session-\(n).pem")])
            #expect(!late.stdoutText.contains("Reused,"), "\(protocolArguments): resumed past \(what): \(late.stdoutText)")
            #expect(!late.stdoutText.contains("cn=helm-client"), "\(protocolArguments): \(late.stdoutText)")
        }
        try expectIdentityEnded(try keptAlive.wait())
    }
}

/// In ``MutualTLSServer/keptAliveRequests(secondAfter:)``'s output: `/1` was answered for the client
/// certificate's CN, `/2` anonymously and with `Connection: close`.
private func expectIdentityEnded(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let text = result.stdoutText
    let second = try #require(text.range(of: "path=/2 "), "\(text)\(result.stderrText)", sourceLocation: sourceLocation)
    #expect(
        text[..<second.lowerBound].contains("path=/1 query=- version=HTTP/1.1 cn=helm-client"), "\(text)",
        sourceLocation: sourceLocation)
    #expect(
        text[second.lowerBound...].hasPrefix("path=/2 query=- version=HTTP/1.1 cn=- "), "\(text)",
        sourceLocation: sourceLocation)
    let secondHead = text[..<second.lowerBound].components(separatedBy: "HTTP/1.1 200").last ?? ""
    #expect(secondHead.contains("Connection: close"), "\(text)", sourceLocation: sourceLocation)
}

/// `TLS session ticket lifetime hint: N (seconds)` from `openssl s_client`'s output.
private func ticketLifetimeHint(in text: String) -> Int? {
    number(after: "TLS session ticket lifetime hint: ", in: text)
}

private func number(after prefix: String, in text: String) -> Int? {
    text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        .last { $0.hasPrefix(prefix) }
        .flatMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
}
