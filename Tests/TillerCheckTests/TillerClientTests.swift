import FoundationEssentials
import HelmBundle
import Testing
import TestSupport
import TillerCheck

/// `TillerClient` against the grpcio stand-in, without the server around it: each outcome the check can have.
@Suite("One GetVersion call to Tiller with the bundle's credentials", .serialized)
struct TillerClientTests {
    let ca: PKIFixtures.Credential
    let client: PKIFixtures.Credential
    let server: PKIFixtures.Credential

    init() throws {
        ca = try PKIFixtures.certificateAuthority()
        client = try PKIFixtures.issue(by: ca)
        server = try PKIFixtures.issue(
            by: ca, commonName: "tiller-server", extendedKeyUsage: "serverAuth", subjectAlternativeNames: "DNS:localhost")
    }

    var credentials: TillerClient.Credentials {
        TillerClient.Credentials(
            ca: ca.certificatePEM, certificate: client.certificatePEM, key: client.keyPEM, certificateNotAfter: nil,
            caNotAfter: nil)
    }

    @Test("Tiller answers: its version, and its certificate verified, the name checked separately")
    func succeeds() throws {
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: server))
        let byAddress = TillerClient(address: tiller.address, timeout: .seconds(10)).check(credentials)
        #expect(byAddress.ok, "\(String(describing: byAddress.failure))")
        #expect(byAddress.version == TillerStandIn.version)
        #expect(byAddress.serverCertificate?.signedByCA == true)
        // The certificate names localhost, not 127.0.0.1: Helm's --tls does not care, --tls-verify would.
        #expect(byAddress.serverCertificate?.nameMatches == false)
        let byName = TillerClient(address: "localhost:\(tiller.port)", timeout: .seconds(10)).check(credentials)
        #expect(byName.ok)
        #expect(byName.serverCertificate?.nameMatches == true)
    }

    @Test("a gRPC error is reported with its status and message")
    func grpcError() throws {
        let tiller = try TillerStandIn(.fail(ca: ca.certificatePEM, server: server, grpcStatus: "UNAVAILABLE"))
        let result = TillerClient(address: tiller.address, timeout: .seconds(10)).check(credentials)
        #expect(result.failure == .grpc(status: 14, message: "stand-in told to fail"))
        #expect(result.version == nil)
    }

    @Test("an answer over 64 KiB is cut off and refused, not buffered")
    func oversizedAnswer() throws {
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: server), version: String(repeating: "v", count: 70_000))
        let result = TillerClient(address: tiller.address, timeout: .seconds(10)).check(credentials)
        #expect(result.failure == .notTiller(detail: "the answer is longer than 64 KiB"))
    }

    @Test("a Tiller that accepts and hangs costs the timeout, and is said to hang")
    func hangs() throws {
        let tiller = try TillerStandIn(.hang)
        let result = TillerClient(address: tiller.address, timeout: .seconds(1)).check(credentials)
        #expect(result.failure == .timedOut(address: tiller.address, seconds: 1))
    }

    @Test("a certificate from a CA Tiller does not trust is refused by Tiller, and said so without key material")
    func refusedClientCertificate() throws {
        let tiller = try TillerStandIn(.serve(ca: ca.certificatePEM, server: server))
        let other = try PKIFixtures.certificateAuthority(commonName: "other")
        let stranger = try PKIFixtures.issue(by: other)
        var credentials = credentials
        credentials.certificate = stranger.certificatePEM
        credentials.key = stranger.keyPEM
        let result = TillerClient(address: tiller.address, timeout: .seconds(10)).check(credentials)
        guard case .clientCertificateRefused(_, nil) = result.failure else {
            Issue.record("expected a refused client certificate, got \(String(describing: result.failure))")
            return
        }
        let keyLine = String(decoding: stranger.keyPEM, as: UTF8.self).split(separator: "\n").dropFirst().first.map(String.init) ?? "-"
        #expect(!"\(result)".contains(keyLine))
    }
}
