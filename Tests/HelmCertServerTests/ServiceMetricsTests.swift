import FoundationEssentials
import Glibc
import HelmBundle
import KubernetesClient
import Logging
import Testing
import TillerCheck
@testable import HelmCertServer
import TestSupport

@Suite("Metrics: what /metrics says and what each gauge means")
struct ServiceMetricsTests {
    /// `/metrics` as the responder prints it.
    func exposition(_ metrics: ServiceMetrics, _ store: BundleStore) -> String {
        String(decoding: metrics.exposition(store: store, openConnections: 0), as: UTF8.self)
    }

    func makeStore(_ metrics: ServiceMetrics) -> BundleStore {
        BundleStore(name: "helm", source: "secret kyma-installer/helm-secret", logger: Logger(label: "test"), metrics: metrics)
    }

    /// The value of the sample line that starts with `series` (name and labels), if there is one.
    func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test("every metric family has a # HELP and a # TYPE line, the service's own with their documented text")
    func helpOnEveryFamily() throws {
        let metrics = ServiceMetrics()
        let store = makeStore(metrics)
        store.offer(try PKIFixtures.goodBundle(), origin: "test")
        metrics.recordServingCertificate(notAfter: Date())
        metrics.recordWatchedFile(.tokenFile, ok: true)  // made at a watch's first look
        metrics.recordTillerCheck(TillerCheckResult(address: "tiller:44134", checkedAt: Date()), bundle: "helm")  // at the first check
        let text = exposition(metrics, store)
        let lines = text.split(separator: "\n")
        let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(typed == helped, "families without HELP: \(typed.subtracting(helped))")
        for family in ServiceMetrics.Family.allCases {
            #expect(text.contains("# HELP \(family.rawValue) \(family.help)\n"), "\(family.rawValue)")
            #expect(typed.contains(Substring(family.rawValue)), "\(family.rawValue) has no # TYPE line")
        }
    }

    @Test("build info carries the version --version prints")
    func buildInfo() {
        let metrics = ServiceMetrics()
        let text = exposition(metrics, makeStore(metrics))
        #expect(sample(text, "helm_cert_server_build_info{version=\"\(helmCertServerVersion)\"}") == 1)
        #expect(!helmCertServerVersion.isEmpty)
    }

    @Test("the serving certificate's expiry is exported as bundle=server, file=tls.crt, and follows each recording")
    func servingCertificate() {
        let metrics = ServiceMetrics()
        let store = makeStore(metrics)
        let series = "helm_cert_server_certificate_not_after_seconds{bundle=\"server\",file=\"tls.crt\"}"
        metrics.recordServingCertificate(notAfter: Date(timeIntervalSince1970: 1_900_000_000))
        #expect(sample(exposition(metrics, store), series) == 1_900_000_000)
        metrics.recordServingCertificate(notAfter: Date(timeIntervalSince1970: 1_950_000_000))
        #expect(sample(exposition(metrics, store), series) == 1_950_000_000)
    }

    @Test("the serving certificate's expiry is the earliest of its chain")
    func earliestOfChain() throws {
        let root = try PKIFixtures.certificateAuthority(commonName: "root")
        let intermediate = try PKIFixtures.issue(
            by: root, commonName: "intermediate", endDate: "20300101000000Z", certificateAuthority: true)
        let leaf = try PKIFixtures.issue(
            by: intermediate, commonName: "server", extendedKeyUsage: "serverAuth", endDate: "20310101000000Z")
        let chain = leaf.certificatePEM + intermediate.certificatePEM
        #expect(try earliestNotAfter(ofPEM: chain, file: "tls.crt") == Date(timeIntervalSince1970: 1_893_456_000))
        #expect(throws: BundleError.self) { try earliestNotAfter(ofPEM: Array("not PEM".utf8), file: "tls.crt") }
    }

    @Test("last sync is 0 before the first bundle, then the time the source last confirmed it, changed or not")
    func lastSyncMeansConfirmed() throws {
        let metrics = ServiceMetrics()
        let store = makeStore(metrics)
        let series = "helm_cert_server_last_sync_timestamp_seconds"
        #expect(sample(exposition(metrics, store), series) == 0)
        store.confirm(now: Date(timeIntervalSince1970: 1_000))
        #expect(sample(exposition(metrics, store), series) == 0, "nothing served yet: nothing to confirm")
        let files = try PKIFixtures.goodBundle()
        store.offer(files, origin: "test", now: Date(timeIntervalSince1970: 2_000))
        #expect(sample(exposition(metrics, store), series) == 2_000)
        store.confirm(now: Date(timeIntervalSince1970: 3_000))
        #expect(sample(exposition(metrics, store), series) == 3_000, "a bookmark or unchanged read is a sync")
        store.offer(files, origin: "test", now: Date(timeIntervalSince1970: 4_000))
        #expect(sample(exposition(metrics, store), series) == 4_000, "the same bundle again is a sync")
    }

    @Test("a refused or failing source stops last sync until it delivers a good bundle again")
    func lastSyncStopsOnProblems() throws {
        let metrics = ServiceMetrics()
        let store = makeStore(metrics)
        let series = "helm_cert_server_last_sync_timestamp_seconds"
        let good = try PKIFixtures.goodBundle()
        store.offer(good, origin: "test", now: Date(timeIntervalSince1970: 2_000))
        store.offer(try PKIFixtures.mismatchedKeyBundle(), origin: "test", now: Date(timeIntervalSince1970: 3_000))
        store.confirm(now: Date(timeIntervalSince1970: 4_000))
        #expect(sample(exposition(metrics, store), series) == 2_000, "the source holds a refused bundle, not the served one")
        store.reportSourceProblem(.kubernetesAPIFailing(secret: "secret kyma-installer/helm-secret", .status(Status(code: 503))))
        store.confirm(now: Date(timeIntervalSince1970: 5_000))
        #expect(sample(exposition(metrics, store), series) == 2_000)
        store.offer(good, origin: "test", now: Date(timeIntervalSince1970: 6_000))
        store.confirm(now: Date(timeIntervalSince1970: 7_000))
        #expect(sample(exposition(metrics, store), series) == 7_000)
        store.withdraw(because: .secretNotFound(secret: "secret kyma-installer/helm-secret"))
        store.confirm(now: Date(timeIntervalSince1970: 8_000))
        #expect(sample(exposition(metrics, store), series) == 7_000)
    }

    @Test("a directory read that finds the files unchanged confirms the bundle")
    func directoryReadConfirms() throws {
        let directory = try TemporaryDirectory("directory-source")
        defer { directory.remove() }
        let files = try PKIFixtures.goodBundle()
        try directory.write("ca.crt", files.ca)
        try directory.write("tls.crt", files.certificate)
        try directory.write("tls.key", files.key)
        let metrics = ServiceMetrics()
        let store = makeStore(metrics)
        let source = DirectorySource.watch(directory: directory.path, store: store, logger: Logger(label: "test"), metrics: metrics)
        source.check()
        let first = try #require(store.lastSuccessfulSync)
        usleep(20_000)
        source.check()
        let second = try #require(store.lastSuccessfulSync)
        #expect(second > first)
        #expect(store.generation == 1)
    }
}
