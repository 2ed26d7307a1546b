import HelmBundle
import KubernetesClient
import Logging

/// What a watched Secret feeds: the bundle (``BundleStore``) or the issuing CA (``IssuerStore``).
public protocol SecretConsumer: Sendable {
    /// The Secret holds `data` now (its values base64, as on the wire). `origin` names it and its
    /// resourceVersion, for logs.
    func secretChanged(_ data: [String: String], origin: String)
    /// The source looked again and nothing changed (a bookmark, an unchanged re-list).
    func secretConfirmed()
    /// The Secret does not exist (deleted, or not yet created); `what` names it (`secret NS/NAME`).
    func secretDeleted(_ what: String)
    /// The Secret (`what`: `secret NS/NAME`) cannot be read: the API answered `error`; what was read before stays.
    func secretUnreadable(_ what: String, error: KubernetesError)
}

/// Feeds a ``SecretConsumer`` from one Kubernetes Secret: LIST, then WATCH (through `SecretWatcher`), so a
/// rotated secret takes effect within seconds and requests never call the API.
///
/// For the bundle (``BundleStore``):
/// - A secret that decodes and validates replaces the bundle.
/// - A secret that does not (bad base64, not PEM, key not matching) is refused, naming the key; the last good
///   bundle stays.
/// - A deleted secret withdraws the bundle: bundle endpoints and `/readyz` answer 503 naming the secret.
/// - API errors keep the last good bundle and are logged; with no bundle yet, `/readyz` says why.
public final class KubernetesSecretSource: Sendable {
    private let watcher: SecretWatcher

    /// - Parameters:
    ///   - client: the API client (in-cluster service account, or flags).
    ///   - namespace: the secret's namespace (`kyma-installer`).
    ///   - name: the secret's name (`helm-secret`).
    ///   - consumer: where what is read goes.
    ///   - logger: for source events.
    ///   - metrics: where watch restarts are counted.
    public init(
        client: KubernetesClient, namespace: String, name: String, consumer: any SecretConsumer, logger: Logger,
        metrics: ServiceMetrics? = nil
    ) {
        let what = "secret \(namespace)/\(name)"
        watcher = SecretWatcher(client: client, namespace: namespace, name: name, logger: logger) { event in
            switch event {
            case .updated(let secret):
                consumer.secretChanged(
                    secret.data ?? [:], origin: "\(what) (resourceVersion \(secret.metadata.resourceVersion ?? "?"))")
            case .confirmed:
                consumer.secretConfirmed()
            case .deleted:
                consumer.secretDeleted(what)
            case .failed(let error):
                consumer.secretUnreadable(what, error: error)
            case .watchRestarted(let reason):
                metrics?.countWatchRestart()
                logger.debug("watch of \(what) restarting: \(reason)")
            }
        }
    }

    /// Starts listing and watching on the watcher's own thread.
    public func start() { watcher.start() }

    /// Stops watching; returns promptly.
    public func stop() { watcher.stop() }
}

extension BundleStore: SecretConsumer {
    public func secretChanged(_ data: [String: String], origin: String) {
        do throws(BundleError) {
            offer(try BundleFiles(secretData: data), origin: origin)
        } catch {
            refuse(error, origin: origin)
        }
    }

    public func secretConfirmed() { confirm() }

    public func secretDeleted(_ what: String) { withdraw(because: .secretNotFound(secret: what)) }

    public func secretUnreadable(_ what: String, error: KubernetesError) {
        reportSourceProblem(.kubernetesAPIFailing(secret: what, error))
    }
}
