import Foundation
import Testing
import TestSupport

@testable import HelmCertServer

/// The document `GET /openapi.yaml` serves is compiled in (scripts/embed-openapi writes it from openapi.yaml):
/// checked here without starting anything, so an edit that forgot the script fails in a second.
@Suite("The embedded OpenAPI document")
struct OpenAPIDocumentEmbeddingTests {
    @Test("what /openapi.yaml serves is openapi.yaml, byte for byte")
    func embeddedDocumentIsTheFile() throws {
        let file = try String(contentsOfFile: packageRoot + "/openapi.yaml", encoding: .utf8)
        let embedded = openAPIDocument.split(separator: "\n", omittingEmptySubsequences: false)
        let written = file.split(separator: "\n", omittingEmptySubsequences: false)
        let firstDifference = zip(embedded, written).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? (embedded.count == written.count ? nil : min(embedded.count, written.count))
        #expect(
            firstDifference == nil,
            "Sources/HelmCertServer/OpenAPIDocument.swift differs from openapi.yaml from line \((firstDifference ?? 0) + 1): run scripts/embed-openapi")
    }
}
