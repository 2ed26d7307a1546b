import Testing
@testable import KubernetesClient

@Suite struct WatchEventTests {
    @Test func decodesAModifiedSecret() throws {
        let line = #"{"type":"MODIFIED","object":{"kind":"Secret","apiVersion":"v1","metadata":{"name":"helm-secret","namespace":"kyma-installer","resourceVersion":"42","uid":"u1"},"data":{"ca.crt":"YWJj"},"type":"Opaque"}}"#
        let event = try WatchEvent.decode(line: Array(line.utf8))
        #expect(event == .modified(Secret(metadata: ObjectMeta(name: "helm-secret", namespace: "kyma-installer",
                                                               resourceVersion: "42", uid: "u1"),
                                          data: ["ca.crt": "YWJj"], type: "Opaque")))
    }

    @Test func decodesABookmarkToItsResourceVersion() throws {
        let line = #"{"type":"BOOKMARK","object":{"kind":"Secret","apiVersion":"v1","metadata":{"resourceVersion":"77","creationTimestamp":null}}}"#
        #expect(try WatchEvent.decode(line: Array(line.utf8)) == .bookmark(resourceVersion: "77"))
    }

    @Test func decodesAnErrorEventToItsStatus() throws {
        let line = #"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (9)","reason":"Expired","code":410}}"#
        #expect(try WatchEvent.decode(line: Array(line.utf8)) == .error(Status(
            status: "Failure", message: "too old resource version: 5 (9)", reason: "Expired", code: 410)))
    }

    @Test(arguments: [
        "not json",
        #"{"type":"MODIFIED"}"#,
        #"{"type":"RENAMED","object":{"metadata":{}}}"#,
        #"{"object":{"metadata":{}}}"#,
        #"{"type":"MODIFIED","object":{"metadata":{"na"#,
    ])
    func rejectsLinesThatAreNotWatchEvents(line: String) {
        #expect(throws: KubernetesError.self) { try WatchEvent.decode(line: Array(line.utf8)) }
    }
}
