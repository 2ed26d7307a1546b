import HelmBundle
import Logging

/// Feeds a `BundleStore` from a directory holding the secret's keys as files (a mounted secret volume).
///
/// Kubelet updates mounted secrets by swapping a `..data` symlink, which inotify reports unreliably, so the
/// directory is a ``FileWatch`` like the service's other files: re-read at every look (three small files, each
/// at most `BundleFiles.directoryFileLimit`) and offered to the store when the bytes changed. The store logs
/// and reports what it refuses; a directory that cannot be read is refused once per distinct error. A look
/// that finds the bytes unchanged confirms the bundle (``BundleStore/confirm(now:)``: the last-sync metric).
enum DirectorySource {
    /// The watch of `directory`, feeding `store`.
    static func watch(directory: String, store: BundleStore, logger: Logger, metrics: ServiceMetrics?) -> FileWatch<BundleFiles> {
        let origin = "directory \(directory)"
        return FileWatch(
            .sourceDirectory, logger: logger, metrics: metrics,
            read: { () throws(BundleError) in try BundleFiles(directory: directory) },
            apply: { files in
                guard store.offer(files, origin: origin) else { throw RefusedBundle(problem: store.sourceProblem) }
                return []
            },
            failed: { error in
                // A refused bundle was reported by `offer` already.
                if let error = error as? BundleError { store.refuse(error, origin: origin) }
            },
            unchanged: { store.confirm() })
    }

    /// The store refused what the directory holds (it logged why).
    struct RefusedBundle: Error, CustomStringConvertible {
        var problem: SourceProblem?
        var description: String { problem?.description ?? "the files do not form a valid bundle" }
    }
}
