import HelmBundle
import Logging
import Synchronization

/// Feeds a `BundleStore` from a directory holding the secret's keys as files (a mounted secret volume).
///
/// Kubelet updates mounted secrets by swapping a `..data` symlink, which inotify reports unreliably, so the
/// directory is simply re-read every `interval` (three small files) and offered when the bytes changed; a read
/// that finds them unchanged confirms the bundle (``BundleStore/confirm(now:)``).
public final class DirectorySource: Sendable {
    private let directory: String
    private let store: BundleStore
    private let last = Mutex<LastRead>(LastRead())
    private let task: Mutex<PeriodicTask?> = Mutex(nil)
    private let interval: Duration

    /// What was last seen, so that unchanged files are not validated again and a failure is logged once.
    private struct LastRead: Sendable {
        var files: BundleFiles?
        var error: String?
    }

    /// - Parameters:
    ///   - directory: the folder with `global.helm.ca.crt`… (or `ca.crt`, `tls.crt`, `tls.key`).
    ///   - interval: how often to look again.
    ///   - store: where bundles go.
    public init(directory: String, interval: Duration = .seconds(2), store: BundleStore) {
        self.directory = directory
        self.store = store
        self.interval = interval
    }

    /// Reads the directory now (so readiness does not wait a whole interval), then keeps watching it.
    public func start() {
        readOnce()
        let task = PeriodicTask(label: "directory-source", interval: interval) { [self] in readOnce() }
        self.task.withLock { $0 = task }
        task.start()
    }

    /// Stops looking.
    public func stop() { task.withLock { $0 }?.stop() }

    /// Reads the files once and offers them if they changed.
    func readOnce() {
        let origin = "directory \(directory)"
        do {
            let files = try BundleFiles(directory: directory)
            let changed = last.withLock { last -> Bool in
                last.error = nil
                guard files != last.files else { return false }
                last.files = files
                return true
            }
            if changed { store.offer(files, origin: origin) } else { store.confirm() }
        } catch {
            let text = "\(error)"
            let isNew = last.withLock { last -> Bool in
                guard text != last.error else { return false }
                last.error = text
                last.files = nil
                return true
            }
            if isNew { store.refuse(error, origin: origin) }
        }
    }
}
