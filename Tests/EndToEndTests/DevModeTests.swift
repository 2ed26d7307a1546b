import Foundation
import Testing
import TestSupport

/// `helm-cert-server --dev`: the README's "run it" command, driven by the real curl, tar and openssl.
@Suite("helm-cert-server --dev", .serialized)
final class DevModeTests {
    let service: ServiceProcess
    let token: String
    let serverCA: String
    var base: String { "https://127.0.0.1:\(service.port)" }
    var auth: String { "Authorization: Bearer \(token)" }

    init() throws {
        let server = try DevelopmentServer()
        service = server.service
        token = server.token
        serverCA = server.serverCA
    }

    deinit { service.stop() }

    @Test("prints a token and a curl line that works as printed")
    func welcomeCurlLineWorks() throws {
        let line = try #require(service.stdoutText.split(separator: "\n").first { $0.contains("bundle.tar.gz | tar") })
        let home = try TemporaryDirectory("helm-home")
        defer { home.remove() }
        // Run the printed line as a shell would, with HELM_HOME pointing at a fresh folder.
        let command = line.trimmingCharacters(in: .whitespaces)
        #expect(command.contains("${HELM_HOME:-$HOME/.helm}"), "Helm 3 has no `helm home`; \(command)")
        let result = try runCommand(["bash", "-o", "pipefail", "-c", command], environment: ["HELM_HOME": home.path])
        #expect(result.status == 0, "\(result.stderrText)")
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            #expect(FileManager.default.fileExists(atPath: home.file(name)), "\(name) missing")
        }
        let verify = try runCommand(["openssl", "verify", "-CAfile", home.file("ca.pem"), home.file("cert.pem")])
        #expect(verify.status == 0, "\(verify.stdoutText)\(verify.stderrText)")
        let keyMode = try FileManager.default.attributesOfItem(atPath: home.file("key.pem"))[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
    }

    @Test("the three PEM files are served as the tarball holds them")
    func pemFilesMatchTarball() throws {
        let dir = try TemporaryDirectory("tar")
        defer { dir.remove() }
        let archive = try curl("\(base)/v1/bundles/helm/bundle.tar.gz", headers: [auth], caFile: serverCA)
        #expect(archive.status == 200)
        #expect(archive.header("content-type") == "application/gzip")
        #expect(archive.header("cache-control") == "no-store")
        try runCommand(["tar", "-xzf", "-", "-C", dir.path], stdin: archive.body)
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            let file = try curl("\(base)/v1/bundles/helm/\(name)", headers: [auth], caFile: serverCA)
            #expect(file.status == 200)
            #expect(file.header("content-type") == "application/x-pem-file")
            #expect(file.body == (try dir.read(name)), "\(name) differs between the file and the tarball")
        }
        let key = try curl("\(base)/v1/bundles/helm/key.pem", headers: [auth], caFile: serverCA)
        #expect(key.header("cache-control") == "no-store")
    }

    @Test("metadata is JSON without key material")
    func metadata() throws {
        let response = try curl("\(base)/v1/bundles/helm", headers: [auth], caFile: serverCA)
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        let certificates = try #require(json["certificates"] as? [String: Any])
        #expect(Set(certificates.keys) == ["ca.pem", "cert.pem"])
        let key = try #require(json["key"] as? [String: Any])
        #expect(key["algorithm"] as? String == "EC")
        #expect(key["matchesCertificate"] as? Bool == true)
        #expect(json["chainVerified"] as? Bool == true)
        #expect(!response.bodyText.contains("PRIVATE KEY"))
    }

    @Test("no token, a wrong token, or another scheme gets 401 with a Bearer challenge")
    func unauthorized() throws {
        for headers in [[], ["Authorization: Bearer wrong"], ["Authorization: Basic dXNlcjpwYXNz"]] {
            let response = try curl("\(base)/v1/bundles/helm/key.pem", headers: headers, caFile: serverCA)
            #expect(response.status == 401)
            #expect(response.header("www-authenticate")?.hasPrefix("Bearer realm=\"helm-cert-server\"") == true)
            #expect(response.header("content-type") == "application/problem+json")
            #expect(!response.bodyText.contains("BEGIN"))
        }
        // Unknown /v1 paths also need a token first: nothing is learned without one.
        #expect(try curl("\(base)/v1/bundles/other", caFile: serverCA).status == 401)
    }

    @Test("ETag and If-None-Match give 304; HEAD has the headers and no body")
    func conditionalAndHead() throws {
        let first = try curl("\(base)/v1/bundles/helm/cert.pem", headers: [auth], caFile: serverCA)
        let etag = try #require(first.header("etag"))
        let again = try curl("\(base)/v1/bundles/helm/cert.pem", headers: [auth, "If-None-Match: \(etag)"], caFile: serverCA)
        #expect(again.status == 304)
        #expect(again.body.isEmpty)
        #expect(again.header("etag") == etag)
        let head = try curl("\(base)/v1/bundles/helm/cert.pem", method: "HEAD", headers: [auth], caFile: serverCA)
        #expect(head.status == 200)
        #expect(head.header("content-length") == "\(first.body.count)")
    }

    @Test("unknown bundles and files are 404, other methods 405 with Allow; the server keeps serving")
    func notFoundAndMethodNotAllowed() throws {
        #expect(try curl("\(base)/v1/bundles/other/ca.pem", headers: [auth], caFile: serverCA).status == 404)
        #expect(try curl("\(base)/v1/bundles/helm/tiller.pem", headers: [auth], caFile: serverCA).status == 404)
        #expect(try curl("\(base)/nope", caFile: serverCA).status == 404)
        let post = try curl("\(base)/v1/bundles/helm/ca.pem", method: "DELETE", headers: [auth], caFile: serverCA)
        #expect(post.status == 405)
        #expect(post.header("allow") == "GET, HEAD")
        #expect(try curl("\(base)/v1/bundles/helm/ca.pem", headers: [auth], caFile: serverCA).status == 200)
    }

    @Test("health, readiness and the OpenAPI document need no token")
    func probes() throws {
        #expect(try curl("\(base)/healthz", caFile: serverCA).status == 200)
        #expect(try curl("\(base)/readyz", caFile: serverCA).status == 200)
        let spec = try curl("\(base)/openapi.yaml", caFile: serverCA)
        #expect(spec.status == 200)
        #expect(spec.bodyText == (try String(contentsOfFile: "\(packageRoot)/openapi.yaml", encoding: .utf8)))
    }

    @Test("SIGTERM stops it with exit status 0")
    func sigterm() throws {
        let other = try ServiceProcess(arguments: ["--dev", "--listen", "127.0.0.1:0"])
        #expect(other.stop(signal: SIGTERM) == 0)
    }
}
