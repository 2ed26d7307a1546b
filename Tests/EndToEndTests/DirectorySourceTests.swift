import Foundation
import Testing
import TestSupport

/// `--source directory`: a mounted secret volume, re-read when it changes; plain HTTP behind a proxy; mTLS.
@Suite("Directory source, plain HTTP and client certificates, end to end", .serialized)
struct DirectorySourceTests {
    /// Writes the three files the way kubelet lays out a secret volume: the keys are symlinks into `..data`.
    static func writeVolume(_ dir: TemporaryDirectory, ca: [UInt8], cert: [UInt8], key: [UInt8]) throws {
        let version = "..\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir.file(version), withIntermediateDirectories: true)
        try dir.write("\(version)/global.helm.ca.crt", ca)
        try dir.write("\(version)/global.helm.tls.crt", cert)
        try dir.write("\(version)/global.helm.tls.key", key)
        try? FileManager.default.removeItem(atPath: dir.file("..data_tmp"))
        try FileManager.default.createSymbolicLink(atPath: dir.file("..data_tmp"), withDestinationPath: version)
        _ = rename(dir.file("..data_tmp"), dir.file("..data"))  // atomic swap, as kubelet does
        for key in ["global.helm.ca.crt", "global.helm.tls.crt", "global.helm.tls.key"]
        where !FileManager.default.fileExists(atPath: dir.file(key)) {
            try FileManager.default.createSymbolicLink(atPath: dir.file(key), withDestinationPath: "..data/\(key)")
        }
    }

    @Test("plain HTTP (--insecure-http) serves the mounted files, warns, and follows a volume update")
    func directoryOverPlainHTTP() throws {
        let ca = try PKIFixtures.certificateAuthority()
        let first = try PKIFixtures.issue(by: ca, commonName: "first")
        let volume = try TemporaryDirectory("volume")
        defer { volume.remove() }
        try Self.writeVolume(volume, ca: ca.certificatePEM, cert: first.certificatePEM, key: first.keyPEM)
        try volume.write("tokens.csv", "dir-token,carol,7\n")
        let service = try ServiceProcess(arguments: [
            "--listen", "127.0.0.1:0", "--insecure-http", "--source", "directory", "--source-dir", volume.path,
            "--token-file", volume.file("tokens.csv"),
        ])
        defer { service.stop() }
        #expect(service.logLines.contains { $0["level"] == "warning" && $0["message"]?.contains("plain HTTP") == true })
        let base = "http://127.0.0.1:\(service.port)"
        let auth = "Authorization: Bearer dir-token"
        #expect(try curl("\(base)/readyz").status == 200)
        #expect(try curl("\(base)/v1/bundles/helm/cert.pem", headers: [auth]).body == first.certificatePEM)
        // No Kubernetes API in use, so libcurl (and the ~25 libraries it pulls in) is never loaded.
        let mapped = service.mappedFiles
        #expect(mapped.contains { $0.contains("libssl.so") }, "\(mapped)")
        #expect(!mapped.contains { $0.contains("libcurl") || $0.contains("libgnutls") }, "\(mapped)")

        let second = try PKIFixtures.issue(by: ca, commonName: "second")
        try Self.writeVolume(volume, ca: ca.certificatePEM, cert: second.certificatePEM, key: second.keyPEM)
        var served: [UInt8] = []
        _ = try eventually(within: .seconds(10), every: .milliseconds(200)) {
            served = try curl("\(base)/v1/bundles/helm/cert.pem", headers: [auth]).body
            return served == second.certificatePEM
        }
        #expect(served == second.certificatePEM, "the updated volume was not picked up")
        #expect(try curl("\(base)/v1/bundles/helm/key.pem", headers: [auth]).body == second.keyPEM)
    }

    /// Lays out in `volume` a bundle, a serving certificate (`server-ca.pem` signs it), a client CA
    /// (`clients-ca.pem`) with the client `robot.pem`/`robot.key` (CN ci-robot), and `tokens.csv` (token `t0ken`,
    /// user dave); starts the service on them with `--client-ca` and `--audit-log audit.log`.
    static func startMutualTLSService(in volume: TemporaryDirectory) throws -> ServiceProcess {
        let tiller = try PKIFixtures.certificateAuthority()
        let leaf = try PKIFixtures.issue(by: tiller)
        try writeVolume(volume, ca: tiller.certificatePEM, cert: leaf.certificatePEM, key: leaf.keyPEM)
        let serverCA = try PKIFixtures.certificateAuthority(commonName: "server-ca")
        let serving = try PKIFixtures.issue(
            by: serverCA, commonName: "server", extendedKeyUsage: "serverAuth", subjectAlternativeNames: "IP:127.0.0.1")
        let clientCA = try PKIFixtures.certificateAuthority(commonName: "clients-ca")
        let robot = try PKIFixtures.issue(by: clientCA, commonName: "ci-robot")
        for (name, bytes) in [
            ("server-ca.pem", serverCA.certificatePEM), ("serving.pem", serving.certificatePEM), ("serving.key", serving.keyPEM),
            ("clients-ca.pem", clientCA.certificatePEM), ("robot.pem", robot.certificatePEM), ("robot.key", robot.keyPEM),
        ] { try volume.write(name, bytes) }
        try volume.write("tokens.csv", "t0ken,dave,8\n")
        return try ServiceProcess(arguments: [
            "--listen", "127.0.0.1:0", "--tls-cert", volume.file("serving.pem"), "--tls-key", volume.file("serving.key"),
            "--client-ca", volume.file("clients-ca.pem"), "--source", "directory", "--source-dir", volume.path,
            "--token-file", volume.file("tokens.csv"), "--audit-log", volume.file("audit.log"),
        ])
    }

    @Test("a client certificate signed by --client-ca authenticates as its CN; bearer tokens still work")
    func clientCertificates() throws {
        let volume = try TemporaryDirectory("volume")
        defer { volume.remove() }
        let service = try Self.startMutualTLSService(in: volume)
        defer { service.stop() }
        let url = "https://127.0.0.1:\(service.port)/v1/bundles/helm/ca.pem"
        let withCert = try curl(url, caFile: volume.file("server-ca.pem"), extra: ["--cert", volume.file("robot.pem"), "--key", volume.file("robot.key")])
        #expect(withCert.status == 200)
        #expect(try curl(url, headers: ["Authorization: Bearer t0ken"], caFile: volume.file("server-ca.pem")).status == 200)
        #expect(try curl(url, caFile: volume.file("server-ca.pem")).status == 401)
        let audit = String(decoding: try volume.read("audit.log"), as: UTF8.self)
        #expect(audit.contains("\"user\":\"ci-robot\",\"authMethod\":\"mtls\""))
        #expect(audit.contains("\"user\":\"dave\",\"authMethod\":\"token\""))
    }
}
