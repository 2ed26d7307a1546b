import Foundation
import Testing
import TestSupport

/// Issue 13's revocation rows, against the real binary: what an operator does to take access away, and how
/// soon it takes effect (the watch looks every 2 s; these tests allow 10).
@Suite("Revocation, end to end", .serialized)
struct RevocationTests {
    /// A service on plain HTTP serving a mounted volume, with `tokens.csv` as `--token-file`.
    private struct TokenFixture {
        let volume: TemporaryDirectory
        let service: ServiceProcess
        var base: String { "http://127.0.0.1:\(service.port)" }

        init(tokens: String) throws {
            let ca = try PKIFixtures.certificateAuthority()
            let leaf = try PKIFixtures.issue(by: ca)
            volume = try TemporaryDirectory("revocation")
            try DirectorySourceTests.writeVolume(volume, ca: ca.certificatePEM, cert: leaf.certificatePEM, key: leaf.keyPEM)
            try volume.write("tokens.csv", tokens)
            service = try ServiceProcess(arguments: [
                "--listen", "127.0.0.1:0", "--insecure-http", "--source", "directory", "--source-dir", volume.path,
                "--token-file", volume.file("tokens.csv"),
            ])
        }

        func status(token: String) throws -> Int {
            try curl("\(base)/v1/bundles/helm/key.pem", headers: ["Authorization: Bearer \(token)"]).status
        }

        func stop() {
            service.stop()
            volume.remove()
        }
    }

    @Test("token file: bob's line removed in an edit that also holds a malformed line: bob gets 401, alice 200")
    func removedTokenLine() throws {
        let fixture = try TokenFixture(tokens: "alice-token,alice,1\nbob-token,bob,2\n")
        defer { fixture.stop() }
        #expect(try fixture.status(token: "bob-token") == 200)
        try fixture.volume.write("tokens.csv", "alice-token,alice,1\ncarol\"token,carol,3\n")
        #expect(try eventually(within: fiveWatchIntervals, every: .milliseconds(200)) { try fixture.status(token: "bob-token") == 401 }, "bob's token still works")
        #expect(try fixture.status(token: "alice-token") == 200)
        let ready = try curl("\(fixture.base)/readyz")
        #expect(ready.status == 200)
        #expect(ready.bodyText.contains("file problem: token file: token file line 2 has a quote"), "\(ready.bodyText)")
        #expect(!ready.bodyText.contains("carol\"token"))
    }

    @Test("token file deleted: every token gets 401, /readyz and the metrics say why; restored: 200 again")
    func deletedTokenFile() throws {
        let fixture = try TokenFixture(tokens: "alice-token,alice,1\n")
        defer { fixture.stop() }
        #expect(try fixture.status(token: "alice-token") == 200)
        try FileManager.default.removeItem(atPath: fixture.volume.file("tokens.csv"))
        #expect(try eventually(within: fiveWatchIntervals, every: .milliseconds(200)) { try fixture.status(token: "alice-token") == 401 }, "the old token still works")
        let ready = try curl("\(fixture.base)/readyz").bodyText
        #expect(ready.contains("file problem: token file: cannot read \(fixture.volume.file("tokens.csv"))"), "\(ready)")
        #expect(ready.contains("no static tokens are accepted"), "\(ready)")
        let metrics = try curl("\(fixture.base)/metrics").bodyText
        #expect(metrics.contains("helm_cert_server_static_tokens 0"), "\(metrics)")
        #expect(metrics.contains("helm_cert_server_watched_file_ok{file=\"token_file\"} 0"), "\(metrics)")

        try fixture.volume.write("tokens.csv", "alice-token,alice,1\n")
        #expect(try eventually(within: fiveWatchIntervals, every: .milliseconds(200)) { try fixture.status(token: "alice-token") == 200 }, "the restored file was not read")
    }

    @Test("SIGHUP looks at the watched files at once, through the same watch")
    func sighup() throws {
        let fixture = try TokenFixture(tokens: "alice-token,alice,1\n")
        defer { fixture.stop() }
        try fixture.volume.write("tokens.csv", "bob-token,bob,2\n")
        fixture.service.send(signal: SIGHUP)
        #expect(fixture.service.waitForLog { line in
            line["message"] == "SIGHUP: watched files checked" && line["outcome"]?.contains("token file: applied") == true
        }, "\(fixture.service.stderrText)")
        #expect(try fixture.status(token: "alice-token") == 401)
        #expect(try fixture.status(token: "bob-token") == 200)
    }

    @Test("client CA replaced on disk (no SIGHUP): the old certificate's saved TLS 1.3 session no longer gets key.pem")
    func replacedClientCA() throws {
        let volume = try TemporaryDirectory("revocation-mtls")
        defer { volume.remove() }
        let service = try DirectorySourceTests.startMutualTLSService(in: volume)
        let otherCA = try PKIFixtures.certificateAuthority(commonName: "new-clients-ca")
        defer { service.stop() }
        let session = volume.file("session.pem")
        func fetchKey(_ arguments: [String]) throws -> CommandResult {
            try runCommand(
                ["timeout", "10", "openssl", "s_client", "-connect", "127.0.0.1:\(service.port)", "-tls1_3",
                 "-CAfile", volume.file("server-ca.pem"), "-cert", volume.file("robot.pem"), "-key", volume.file("robot.key"),
                 "-ign_eof"] + arguments,
                stdin: Array("GET /v1/bundles/helm/key.pem HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n".utf8))
        }
        let first = try fetchKey(["-sess_out", session])
        #expect(first.stdoutText.contains("HTTP/1.1 200"), "\(first.stdoutText)")
        #expect(try fetchKey(["-sess_in", session]).stdoutText.contains("Reused, TLSv1.3"))

        try volume.write("clients-ca.pem", otherCA.certificatePEM)
        var after = ""
        // A resumption that lands while the new CA is being loaded can still resume and then lose its identity
        // at the request (401): refused, but not yet by the handshake. Wait until the session no longer resumes.
        let refused = try eventually(within: fiveWatchIntervals, every: .milliseconds(200)) {
            after = try fetchKey(["-sess_in", session]).stdoutText
            return !after.contains("HTTP/1.1 200") && !after.contains("Reused,")
        }
        #expect(refused, "the saved session still resumes or gets key.pem: \(after)")
        #expect(!after.contains("HTTP/1.1 200"), "\(after)")
        #expect(!after.contains("Reused,"), "\(after)")
        #expect(service.waitForLog { $0["message"]?.hasPrefix("client CA changed on disk") == true })
    }

    @Test("a client CA file that does not load fails closed: no client certificate authenticates, tokens still do; restored: it does again")
    func brokenClientCAFailsClosed() throws {
        do {
            let broken = "clients-ca.pem"
            let volume = try TemporaryDirectory("revocation-broken-ca")
            defer { volume.remove() }
            let service = try DirectorySourceTests.startMutualTLSService(in: volume)
            defer { service.stop() }
            let url = "https://127.0.0.1:\(service.port)/v1/bundles/helm/ca.pem"
            let serverCA = volume.file("server-ca.pem")
            func robot() throws -> Int {
                try curl(url, caFile: serverCA, extra: ["--cert", volume.file("robot.pem"), "--key", volume.file("robot.key")]).status
            }
            #expect(try robot() == 200)
            let good = try volume.read(broken)
            try volume.write(broken, "not PEM\n")
            #expect(try eventually(within: fiveWatchIntervals, every: .milliseconds(200)) { try robot() == 401 }, "\(broken) broken: the robot's certificate still authenticates")
            #expect(try curl(url, headers: ["Authorization: Bearer t0ken"], caFile: serverCA).status == 200)
            let ready = try curl("https://127.0.0.1:\(service.port)/readyz", caFile: serverCA).bodyText
            #expect(ready.contains("file problem: client CA:") && ready.contains("no client certificate is accepted"), "\(ready)")
            try volume.write(broken, good)
            #expect(try eventually(within: fiveWatchIntervals, every: .milliseconds(200)) { try robot() == 200 }, "\(broken) restored: the robot is still refused")
        }
    }

    @Test("a client CA change takes effect while the serving key fails to load; the old serving certificate is kept")
    func clientCAChangeWithBrokenServingPair() throws {
        let volume = try TemporaryDirectory("revocation-ca-serving")
        defer { volume.remove() }
        let service = try DirectorySourceTests.startMutualTLSService(in: volume)
        defer { service.stop() }
        let newCA = try PKIFixtures.certificateAuthority(commonName: "new-clients-ca")
        let newRobot = try PKIFixtures.issue(by: newCA, commonName: "new-robot")
        try volume.write("new-robot.pem", newRobot.certificatePEM)
        try volume.write("new-robot.key", newRobot.keyPEM)
        let url = "https://127.0.0.1:\(service.port)/v1/bundles/helm/ca.pem"
        let serverCA = volume.file("server-ca.pem")
        func status(_ name: String) -> Int? {
            try? curl(url, caFile: serverCA, extra: ["--cert", volume.file("\(name).pem"), "--key", volume.file("\(name).key")]).status
        }
        #expect(status("robot") == 200)
        try volume.write("serving.key", "-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
        #expect(try eventually(within: fiveWatchIntervals, every: .milliseconds(200)) { try curl("https://127.0.0.1:\(service.port)/readyz", caFile: serverCA).bodyText.contains("file problem: serving certificate") })
        try volume.write("clients-ca.pem", newCA.certificatePEM)
        #expect(eventually(within: fiveWatchIntervals, every: .milliseconds(200)) { status("new-robot") == 200 }, "the new client CA did not take effect")
        #expect(status("robot") != 200, "the replaced CA's certificate still authenticates")
    }
}

/// How long a file change may take to be seen: five of the service's 2 s watch intervals.
private let fiveWatchIntervals = Duration.seconds(10)
