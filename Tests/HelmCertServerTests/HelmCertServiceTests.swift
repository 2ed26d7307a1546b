import Foundation
import HTTPServer
import Logging
import Testing
@testable import HelmCertServer
import TestSupport

/// The whole service in this process (fixed bundle, plain HTTP on loopback), driven by the real `curl`.
@Suite("The service, wired together")
struct HelmCertServiceTests {
    static func configuration(auditLogPath: String) throws -> ServiceConfiguration {
        ServiceConfiguration(
            listen: ListenAddress(host: "127.0.0.1", port: 0), tls: nil, source: .fixed(try PKIFixtures.goodBundle()),
            tokenFile: nil, fixedTokens: TokenFile(parsing: Array("s3cret,alice,1\n".utf8)), eventLoopCount: 1,
            limits: HTTPServerLimits(responseTimeout: .seconds(3)), auditLogPath: auditLogPath)
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "service-tests")
        logger.logLevel = .critical
        return logger
    }

    @Test("an anonymous GET of a 15 KB path is refused and audited in one line of at most 4096 bytes")
    func longPathAuditLine() throws {
        let dir = try TemporaryDirectory("service-audit")
        defer { dir.remove() }
        let service = try HelmCertService(configuration: Self.configuration(auditLogPath: dir.file("audit.log")),
                                          logger: Self.quietLogger)
        try service.start()
        defer {
            service.shutdown(gracePeriod: .seconds(1))
            service.waitUntilStopped()
        }
        let path = "/v1/" + String(repeating: "A", count: 15_000)
        #expect(try curl("http://127.0.0.1:\(service.localPort)\(path)").status == 401)
        let lines = try dir.read("audit.log").split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.count + 1 <= 4096, "\(line.count + 1) bytes")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
        #expect((object["path"] as? String)?.hasSuffix("...[cut: 15004 bytes in all]") == true)
        #expect(object["status"] as? Int == 401)
    }

    @Test("a stalled audit destination: key.pem is refused with 503 at once, never handed out; /healthz keeps being served")
    func stalledAuditDestination() throws {
        let fifo = try StalledFIFO()
        defer { fifo.close() }
        var configuration = try Self.configuration(auditLogPath: fifo.path)
        configuration.auditQueueCapacity = 2
        let service = try HelmCertService(configuration: configuration, logger: Self.quietLogger)
        try service.start()
        defer {
            fifo.drain(for: 0.5)   // lets the blocked writer finish before the read end closes
            service.shutdown(gracePeriod: .seconds(1))
            service.waitUntilStopped()
        }
        let base = "http://127.0.0.1:\(service.localPort)"

        // Anonymous requests with 15 KB paths: their lines fill the one-page pipe, block the writer, fill the queue.
        // On threads of their own: `curl` waits on Dispatch's pool, which a handful of blocked tasks starve.
        let finished = DispatchSemaphore(value: 0)
        for _ in 0..<8 {
            Thread.detachNewThread {
                _ = try? curl(base + "/v1/" + String(repeating: "A", count: 15_000), extra: ["--max-time", "5"])
                finished.signal()
            }
        }
        var refusal: CurlResponse?
        var handedOut = 0
        let deadline = Date().addingTimeInterval(5)
        while refusal == nil && Date() < deadline {
            // A probe whose line is queued waits (and times out here); once the queue is full it is refused at once.
            // One that raced ahead of the others may get the key: only after its line was written (checked below).
            guard let answer = try? curl(base + "/v1/bundles/helm/key.pem", headers: ["Authorization: Bearer s3cret"],
                                         extra: ["--max-time", "1"]) else { continue }
            if answer.status == 200 { handedOut += 1 } else { refusal = answer }
        }
        let answer = try #require(refusal, "key.pem was never refused")
        #expect(answer.status == 503)
        #expect(answer.bodyText.contains("not keeping up"))
        #expect(!answer.bodyText.contains("PRIVATE KEY"))
        #expect(answer.header("retry-after") == "5")

        // A loop that wrote audit lines itself would be stuck in write(2) for as long as the stall lasts: these
        // would never be answered.
        for _ in 0..<5 {
            #expect(try curl(base + "/healthz", extra: ["--max-time", "5"]).status == 200)
        }
        let metrics = try curl(base + "/metrics").bodyText
        #expect(metrics.contains(#"helm_cert_server_audit_failures_total{reason="queue_full"}"#))
        let lines = String(decoding: fifo.drain(for: 0.5), as: UTF8.self).split(separator: "\n")
        let recordedKeys = lines.filter { $0.contains(#""file":"key.pem","status":200"#) }.count
        #expect(recordedKeys >= handedOut, "\(handedOut) keys handed out, \(recordedKeys) recorded")
        for _ in 0..<8 { finished.wait() }
    }
}
