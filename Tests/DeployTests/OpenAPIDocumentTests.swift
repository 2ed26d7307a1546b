import Foundation
import Testing
import TestSupport

/// openapi.yaml is a valid OpenAPI 3.1 document (openapi-spec-validator) that describes every path, method,
/// status and header of the service's interface.
@Suite struct OpenAPIDocumentTests {
    static let bundlePaths = ["/v1/bundles/{bundle}/ca.pem", "/v1/bundles/{bundle}/cert.pem", "/v1/bundles/{bundle}/key.pem",
                              "/v1/bundles/{bundle}/bundle.tar.gz", "/v1/bundles/{bundle}"]
    static let operationsPaths = ["/healthz", "/readyz", "/metrics", "/openapi.yaml"]

    /// openapi.yaml as JSON.
    static func document() throws -> JSONValue {
        let toJSON = "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout, default=str)"
        let result = try DeployTool.python.run(["-c", toJSON, "\(packageRoot)/openapi.yaml"]).succeeded("read openapi.yaml")
        return try JSONValue.parse(result.stdout)
    }

    /// Follows a local `$ref` (`#/components/...`) once, or returns the value itself.
    static func resolve(_ value: JSONValue, in document: JSONValue) -> JSONValue {
        guard let reference = value["$ref"].string, reference.hasPrefix("#/") else { return value }
        return reference.dropFirst(2).split(separator: "/").reduce(document) { $0[String($1)] }
    }

    @Test func openAPISpecValidatorAcceptsTheDocument() throws {
        let result = try DeployTool.openAPISpecValidator.run(["openapi.yaml"])
        #expect(result.status == 0, "\(result.stdoutText)\(result.stderrText)")
        #expect(result.stdoutText.contains("OK"))
    }

    /// The validator can fail: a reference to a schema that does not exist is refused.
    @Test func openAPISpecValidatorRefusesABrokenReference() throws {
        let directory = try TemporaryDirectory("deploy-openapi")
        defer { directory.remove() }
        let text = try String(contentsOfFile: "\(packageRoot)/openapi.yaml", encoding: .utf8)
        try directory.write("openapi.yaml", text.replacingOccurrences(of: "#/components/schemas/BundleMetadata", with: "#/components/schemas/Nothing"))
        let result = try DeployTool.openAPISpecValidator.run([directory.file("openapi.yaml")])
        #expect(result.status != 0)
    }

    @Test func documentIsOpenAPI31WithBearerSecurityOnV1Only() throws {
        let document = try Self.document()
        #expect(document["openapi"].string?.hasPrefix("3.1.") == true)
        let scheme = document["components"]["securitySchemes"]["bearerAuth"]
        #expect(scheme["type"].string == "http")
        #expect(scheme["scheme"].string == "bearer")
        #expect(document["security"] == .array([.object(["bearerAuth": .array([])])]))
        for path in Self.operationsPaths {
            #expect(document["paths"][path]["get"]["security"] == .array([]), "\(path) needs no token")
        }
        for path in Self.bundlePaths {
            #expect(document["paths"][path]["get"]["security"].isNull, "\(path) uses the global bearer security")
        }
    }

    @Test(arguments: bundlePaths, ["get", "head"])
    func bundlePathDocumentsEveryAnswer(path: String, method: String) throws {
        let document = try Self.document()
        let operation = document["paths"][path][method]
        let responses = operation["responses"]
        #expect(responses.keys == ["200", "304", "400", "401", "403", "404", "431", "503"], "\(method.uppercased()) \(path)")
        let unauthorized = Self.resolve(responses["401"], in: document)
        #expect(!unauthorized["headers"]["WWW-Authenticate"].isNull)
        let unavailable = Self.resolve(responses["503"], in: document)
        #expect(!unavailable["headers"]["Retry-After"].isNull)
        let ok = Self.resolve(responses["200"], in: document)
        #expect(!ok["headers"]["ETag"].isNull)
        #expect(!Self.resolve(responses["304"], in: document)["headers"]["ETag"].isNull)
        let parameters = (document["paths"][path]["parameters"].array + operation["parameters"].array).map { Self.resolve($0, in: document) }
        #expect(parameters.contains { $0["name"].string == "If-None-Match" && $0["in"].string == "header" })
        #expect(parameters.contains { $0["name"].string == "bundle" && $0["in"].string == "path" })
        if method == "get" {
            for status in ["400", "401", "403", "404", "431", "503"] {
                let content = Self.resolve(responses[status], in: document)["content"]
                #expect(!content["application/problem+json"].isNull, "\(status) answers problem+json")
            }
        } else {
            #expect(ok["content"].isNull, "HEAD answers have no body")
        }
    }

    @Test(arguments: [("/v1/bundles/{bundle}/ca.pem", "application/x-pem-file"), ("/v1/bundles/{bundle}/cert.pem", "application/x-pem-file"),
                      ("/v1/bundles/{bundle}/key.pem", "application/x-pem-file"), ("/v1/bundles/{bundle}/bundle.tar.gz", "application/gzip"),
                      ("/v1/bundles/{bundle}", "application/json"), ("/healthz", "text/plain"), ("/readyz", "text/plain"),
                      ("/metrics", "text/plain"), ("/openapi.yaml", "application/yaml")])
    func pathAnswersItsMediaType(path: String, mediaType: String) throws {
        let document = try Self.document()
        let ok = Self.resolve(document["paths"][path]["get"]["responses"]["200"], in: document)
        #expect(ok["content"].keys == [mediaType])
    }

    @Test func theKeyIsNeverCachedAndMetadataHasTheContractsShape() throws {
        let document = try Self.document()
        let key = Self.resolve(document["paths"]["/v1/bundles/{bundle}/key.pem"]["get"]["responses"]["200"], in: document)
        let cacheControl = Self.resolve(key["headers"]["Cache-Control"], in: document)
        #expect(cacheControl["schema"]["const"].string == "no-store")
        #expect(cacheControl["required"].bool == true)
        let metadata = document["components"]["schemas"]["BundleMetadata"]
        #expect(metadata["required"].strings.sorted() == ["certificates", "chainVerified", "key", "notAfter"])
        #expect(metadata["properties"]["certificates"]["required"].strings == ["ca.pem", "cert.pem"])
        let certificate = document["components"]["schemas"]["CertificateInfo"]
        #expect(certificate["required"].strings.sorted() == ["issuer", "notAfter", "notBefore", "serial", "sha256", "subject"])
        #expect(document["components"]["schemas"]["KeyInfo"]["required"].strings.sorted() == ["algorithm", "bits", "matchesCertificate"])
        let problem = document["components"]["schemas"]["Problem"]
        #expect(Set(problem["properties"].keys).isSuperset(of: ["type", "title", "status", "detail"]))
    }

    @Test func readinessAnswers503WithAProblemAndTheChartProbesDocumentedPaths() throws {
        let document = try Self.document()
        let notReady = document["paths"]["/readyz"]["get"]["responses"]["503"]
        #expect(!notReady["content"]["application/problem+json"].isNull)
        let deployment = try String(contentsOfFile: "\(packageRoot)/chart/templates/deployment.yaml", encoding: .utf8)
        for path in ["/healthz", "/readyz"] {
            #expect(deployment.contains("path: \(path)"))
            #expect(!document["paths"][path]["get"].isNull)
        }
    }
}
