import FoundationEssentials
import HelmBundle
import KubernetesClient
import Logging
import Testing
@testable import HelmCertServer
import TestSupport

@Suite("What is served when sources change")
struct BundleStoreTests {
    static let apiDown = SourceProblem.kubernetesAPIFailing(
        secret: "secret kyma-installer/helm-secret", .status(Status(message: "etcd unavailable", code: 503)))

    func makeStore() -> BundleStore { BundleStore(name: "helm", source: "secret kyma-installer/helm-secret", logger: Logger(label: "test")) }

    func served(_ store: BundleStore) -> RenderedBundle? {
        if case .serving(let rendered) = store.availability { return rendered }
        return nil
    }

    @Test("a valid bundle is served and bumps the generation; the same bundle again changes nothing")
    func offerAndRepeat() throws {
        let store = makeStore()
        let files = try PKIFixtures.goodBundle()
        #expect(store.offer(files, origin: "test"))
        #expect(store.generation == 1)
        #expect(store.offer(files, origin: "test"))
        #expect(store.generation == 1)
        #expect(served(store)?.bundle.files == files)
    }

    @Test("a bundle whose key does not match is refused and the last good one stays")
    func refusedKeepsLastGood() throws {
        let store = makeStore()
        let good = try PKIFixtures.goodBundle()
        store.offer(good, origin: "test")
        #expect(!store.offer(try PKIFixtures.mismatchedKeyBundle(), origin: "test"))
        #expect(served(store)?.bundle.files == good)
        #expect(store.sourceProblem?.description.contains("refused") == true)
    }

    @Test("with no good bundle yet, a refusal says why in the unavailable reason")
    func refusedFirst() throws {
        let store = makeStore()
        store.refuse(BundleError(key: "global.helm.tls.key", reason: "is not valid base64"), origin: "secret a/b")
        guard case .unavailable(let reason) = store.availability else {
            Issue.record("expected unavailable")
            return
        }
        #expect(reason.description.contains("global.helm.tls.key"))
    }

    @Test("withdrawing stops serving; a later offer serves again")
    func withdraw() throws {
        let store = makeStore()
        let files = try PKIFixtures.goodBundle()
        store.offer(files, origin: "test")
        store.withdraw(because: .secretNotFound(secret: "secret kyma-installer/helm-secret"))
        guard case .unavailable(let reason) = store.availability else {
            Issue.record("expected unavailable")
            return
        }
        #expect(reason.description.contains("kyma-installer/helm-secret"))
        store.offer(files, origin: "test")
        #expect(served(store) != nil)
    }

    @Test("a source problem keeps the bundle and is reported until the next good read")
    func sourceProblem() throws {
        let store = makeStore()
        store.offer(try PKIFixtures.goodBundle(), origin: "test")
        store.reportSourceProblem(Self.apiDown)
        #expect(served(store) != nil)
        #expect(store.sourceProblem == Self.apiDown)
    }

    @Test("expiry warnings: within 30 days, past expiry, and none for a fresh certificate")
    func expiryWarnings() throws {
        let ca = try PKIFixtures.certificateAuthority()
        let soon = Date().addingTimeInterval(10 * 86_400 + 3_600)
        let stamp = soon.formatted(Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: false).dateSeparator(.omitted).timeSeparator(.omitted).dateTimeSeparator(.standard))
        let endDate = stamp.replacingOccurrences(of: "T", with: "").replacingOccurrences(of: "Z", with: "") + "Z"
        let leaf = try PKIFixtures.issue(by: ca, endDate: endDate)
        let files = BundleFiles(ca: ca.certificatePEM, certificate: leaf.certificatePEM, key: leaf.keyPEM)
        let rendered = RenderedBundle(name: "helm", bundle: try ValidatedBundle(validating: files))
        #expect(rendered.warnings.count == 1)
        #expect(rendered.warnings.first?.hasPrefix("cert.pem expires in 10 day(s)") == true)
        let response = rendered.response(for: .key, ifNoneMatch: nil)
        #expect(response.headers["Warning"]?.hasPrefix("299 - \"cert.pem expires in 10 day(s)") == true)

        let expired = RenderedBundle(name: "helm", bundle: try ValidatedBundle(validating: try PKIFixtures.expiredBundle()))
        #expect(expired.warnings.contains { $0.hasPrefix("cert.pem expired") })

        let fresh = RenderedBundle(name: "helm", bundle: try ValidatedBundle(validating: try PKIFixtures.goodBundle()))
        #expect(fresh.warnings.isEmpty)
        #expect(fresh.response(for: .ca, ifNoneMatch: nil).headers["Warning"] == nil)
    }
}
