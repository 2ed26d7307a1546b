import HelmBundle
import KubernetesClient
import Logging

/// Feeds a `BundleStore` from one Kubernetes Secret: LIST, then WATCH (through `SecretWatcher`), so a rotated
/// secret is served within seconds and bundle requests never call the API.
///
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
    ///   - store: where bundles go.
    ///   - logger: for source events.
    ///   - metrics: where watch restarts are counted.
    public init(
        client: KubernetesClient, namespace: String, name: String, store: BundleStore, logger: Logger,
        metrics: ServiceMetrics? = nil
    ) {
        let what = "secret \(namespace)/\(name)"
        watcher = SecretWatcher(client: client, namespace: namespace, name: name, logger: logger) { event in
            switch event {
            case .updated(let secret):
                let origin = "\(what) (resourceVersion \(secret.metadata.resourceVersion ?? "?"))"
                do throws(BundleError) {
                    let files = try BundleFiles(secretData: secret.data ?? [:])
                    store.offer(files, origin: origin)
                } catch {
                    store.refuse(error, origin: origin)
                }
            case .confirmed:
                store.confirm()
            case .deleted:
                store.withdraw(
                    reason: "\(what) does not exist (deleted or not yet created); create it, e.g. by re-running the Kyma installer")
            case .failed(let error):
                store.reportSourceProblem("cannot read \(what) from the Kubernetes API: \(error)")
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
