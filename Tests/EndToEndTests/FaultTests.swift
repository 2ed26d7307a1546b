import Foundation
import Testing
import TestSupport

/// Faults from the Kubernetes API and the filesystem, injected through the double: the service never crashes,
/// never hangs a request, and says what state it is in through /readyz, logs and /metrics.
@Suite("Faults, end to end", .serialized)
struct FaultTests {
    func metric(_ cluster: ClusterFixture, _ prefix: String) throws -> Double? {
        let text = try cluster.get("/metrics").bodyText
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }
            .flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }
    }

    @Test("API answering 503 at start: /readyz 503 with the reason and source errors counted; then it recovers")
    func unavailableAPIAtStart() throws {
        let cluster = try ClusterFixture { double in try double.injectStatus(503, forSeconds: 2.5) }
        let notReady = try cluster.get("/readyz")
        #expect(notReady.status == 503)
        #expect(notReady.bodyText.contains("kyma-installer/helm-secret"))
        let bundle = try cluster.get("/v1/bundles/helm/ca.pem", headers: [cluster.auth])
        #expect(bundle.status == 503)
        #expect(bundle.header("retry-after") != nil)
        try cluster.waitUntil("at least one API error is counted", seconds: 5) {
            (try metric(cluster, "helm_cert_server_source_errors_total{kind=\"api\"}") ?? 0) >= 1
        }
        try cluster.waitUntil("the bundle is served after the API recovers", seconds: 15) {
            try cluster.get("/readyz").status == 200
        }
        #expect(try metric(cluster, "helm_cert_server_bundle_ready") == 1)
        #expect(cluster.service.isRunning)
    }

    @Test("API failing after the bundle is loaded: the last good bundle is served and /readyz names the problem")
    func failingAPIKeepsLastGood() throws {
        let cluster = try ClusterFixture()
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        let before = try cluster.get("/v1/bundles/helm/key.pem", headers: [cluster.auth]).body
        try cluster.double.injectStatus(503, forSeconds: 4)
        try cluster.double.cutWatches()
        try cluster.waitUntil("readyz names the source problem", seconds: 5) {
            try cluster.get("/readyz").bodyText.contains("source problem")
        }
        let during = try cluster.get("/v1/bundles/helm/key.pem", headers: [cluster.auth])
        #expect(during.status == 200)
        #expect(during.body == before)
        #expect(cluster.service.waitForLog { $0["message"]?.hasPrefix("source failing, still serving the last good bundle") == true })
        try cluster.waitUntil("the problem clears after the API recovers", seconds: 20) {
            try !cluster.get("/readyz").bodyText.contains("source problem")
        }
    }

    @Test("API hanging: bundle requests keep being answered at once")
    func hangingAPI() throws {
        let cluster = try ClusterFixture()
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        try cluster.double.injectHang(seconds: 20)
        try cluster.double.cutWatches()
        for _ in 0..<10 {
            let started = Date()
            let response = try cluster.get("/v1/bundles/helm/bundle.tar.gz", headers: [cluster.auth])
            #expect(response.status == 200)
            // Generous: the point is "not stuck behind the API", not speed.
            #expect(Date().timeIntervalSince(started) < 5)
        }
        #expect(cluster.service.isRunning)
    }

    @Test("replaced serving certificate files are served to new connections without a restart; /metrics has the new expiry")
    func servingCertificateRotation() throws {
        let cluster = try ClusterFixture()
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        let expiry = "helm_cert_server_certificate_not_after_seconds{bundle=\"server\",file=\"tls.crt\"}"
        let first = try #require(try metric(cluster, expiry), "the serving certificate's expiry is exported at start")
        #expect(abs(first - Date().addingTimeInterval(365 * 86_400).timeIntervalSince1970) < 2 * 3_600)
        try cluster.writeServingCertificate(commonName: "renewed-server", endDate: "20300101000000Z")
        try cluster.waitUntil("new connections see the renewed certificate", seconds: 10) {
            // Verifies only against the renewed CA (now in service-ca.pem).
            try cluster.get("/healthz").status == 200
        }
        #expect(cluster.service.waitForLog { $0["message"]?.contains("reloaded") == true })
        #expect(try metric(cluster, expiry) == 1_893_456_000, "2030-01-01T00:00:00Z, the renewed certificate's notAfter")
    }

    @Test("a quiet secret still counts as synced: a watch bookmark advances the last-sync time, nothing else changes")
    func bookmarkAdvancesLastSync() throws {
        let cluster = try ClusterFixture()
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        let lastSync = "helm_cert_server_last_sync_timestamp_seconds"
        let first = try #require(try metric(cluster, lastSync))
        #expect(abs(first - Date().timeIntervalSince1970) < 60)
        Thread.sleep(forTimeInterval: 0.2)
        try cluster.waitUntil("a bookmark advances the last sync", seconds: 10) {
            _ = try cluster.double.sendBookmark()
            return (try metric(cluster, lastSync) ?? 0) > first
        }
        #expect(try metric(cluster, "helm_cert_server_bundle_generation") == 1)
        #expect(try metric(cluster, "helm_cert_server_source_errors_total{kind=\"api\"}") == 0)
    }

    @Test("SIGTERM while watching: exits 0 promptly")
    func sigterm() throws {
        let cluster = try ClusterFixture()
        try cluster.waitUntil("ready") { try cluster.get("/readyz").status == 200 }
        let started = Date()
        #expect(cluster.service.stop(signal: SIGTERM) == 0)
        #expect(Date().timeIntervalSince(started) < 10)
    }
}
