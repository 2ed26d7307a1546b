import Foundation
import Logging
import TestSupport
@testable import KubernetesClient

let helmNamespace = "kyma-installer"
let helmSecretName = "helm-secret"
let helmData: [String: [UInt8]] = [
    "global.helm.ca.crt": Array("-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n".utf8),
    "global.helm.tls.crt": Array("-----BEGIN CERTIFICATE-----\nTLS\n-----END CERTIFICATE-----\n".utf8),
    "global.helm.tls.key": Array("-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n".utf8),
]

/// A double holding `helm-secret` in `kyma-installer`.
func startDoubleWithHelmSecret(data: [String: [UInt8]] = helmData) throws -> KubernetesAPIDouble {
    try KubernetesAPIDouble.start(secrets: [.init(namespace: helmNamespace, name: helmSecretName, data: data)])
}

/// A client for `api`, with its timeouts adjusted by `adjust`.
func makeClient(for api: KubernetesAPIDouble, adjust: (inout KubernetesConfiguration) -> Void = { _ in }) -> KubernetesClient {
    var configuration = KubernetesConfiguration(apiServer: api.url, tokenFile: api.tokenFile, caFile: api.caFile)
    adjust(&configuration)
    var logger = Logger(label: "kubernetes-client-tests")
    logger.logLevel = .critical
    return KubernetesClient(configuration: configuration, logger: logger)
}

/// `data` as the API holds it: base64 values.
func base64(_ data: [String: [UInt8]]) -> [String: String] {
    data.mapValues { Data($0).base64EncodedString() }
}

/// Collects a watcher's events, thread-safely, and lets a test wait for one.
final class EventRecorder: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [(event: SecretWatcher.Event, at: ContinuousClock.Instant)] = []

    func record(_ event: SecretWatcher.Event) {
        condition.lock()
        events.append((event, .now))
        condition.broadcast()
        condition.unlock()
    }

    var all: [SecretWatcher.Event] {
        condition.lock()
        defer { condition.unlock() }
        return events.map(\.event)
    }

    /// Waits until an event after index `from` matches; returns it and when it arrived.
    func next(after from: Int = 0, within timeout: Duration = .seconds(5),
              where matches: (SecretWatcher.Event) -> Bool) -> (index: Int, event: SecretWatcher.Event, at: ContinuousClock.Instant)? {
        let deadline = Date().addingTimeInterval(timeout.timeInterval)
        condition.lock()
        defer { condition.unlock() }
        var checked = from
        while true {
            while checked < events.count {
                if matches(events[checked].event) { return (checked, events[checked].event, events[checked].at) }
                checked += 1
            }
            if !condition.wait(until: deadline) { return nil }
        }
    }
}

extension SecretWatcher.Event {
    /// The secret's decoded value for `key`, when this is `.updated`.
    func value(_ key: String) -> String? {
        guard case .updated(let secret) = self, let encoded = secret.data?[key],
              let bytes = Data(base64Encoded: encoded) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    var isDeleted: Bool { if case .deleted = self { return true } else { return false } }
    var isFailure: Bool { if case .failed = self { return true } else { return false } }
    var isWatchRestart: Bool { if case .watchRestarted = self { return true } else { return false } }
    var isConfirmation: Bool { self == .confirmed }
    /// A change of what the consumer knows: `.updated` or `.deleted` (not a failure, restart or confirmation).
    var isChange: Bool { if case .updated = self { return true } else { return isDeleted } }
    /// The reason, when this is `.watchRestarted`.
    var restartReason: String? { if case .watchRestarted(let reason) = self { return reason } else { return nil } }
}
