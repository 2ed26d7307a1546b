import Logging
import Synchronization

/// The files the service watches on disk, as logs, `/readyz` and the `file` label of
/// `helm_cert_server_watched_file_ok` name them.
public enum WatchedFile: String, Sendable, CaseIterable, CustomStringConvertible {
    /// `--token-file`.
    case tokenFile = "token_file"
    /// `--tls-cert` and `--tls-key`.
    case servingCertificate = "serving_certificate"
    /// `--client-ca`, with `--client-crl` if given.
    case clientCA = "client_ca"
    /// The files of `--source directory` in `--source-dir`.
    case sourceDirectory = "source_directory"

    public var description: String {
        switch self {
        case .tokenFile: "token file"
        case .servingCertificate: "serving certificate"
        case .clientCA: "client CA"
        case .sourceDirectory: "source directory"
        }
    }
}

/// The most bytes read from one watched file; a larger file is an error (`File too large`), logged and shown
/// in `/readyz` like any other.
public enum WatchedFileLimits {
    /// `--token-file`: 1 MiB, some 10,000 lines of 100 bytes.
    public static let tokenFile = 1 << 20
    /// `--tls-cert`, `--tls-key`, `--client-ca`, `--client-crl`: 1 MiB, room for a CA bundle of several hundred certificates.
    public static let tlsFile = 1 << 20
}

/// A watched file's failure and what it means meanwhile, as logs and `/readyz` say it:
/// `cannot read /tokens/tokens.csv: No such file or directory; no static tokens are accepted until it can be read`.
struct WatchedFileError: Error, CustomStringConvertible {
    var cause: any Error
    var meanwhile: String
    var description: String { "\(cause); \(meanwhile)" }
}

/// How a watched file stands after the last look.
public enum FileWatchState: Sendable, Equatable {
    /// Not looked at yet.
    case unread
    /// The last bytes read were applied; `problems` are what was skipped on the way (a malformed token line).
    case applied(problems: [String])
    /// The files could not be read, or what was read could not be applied: `reason` says what and what
    /// happens meanwhile (no static tokens; the old certificate is still served).
    case failing(reason: String)
}

/// What one look at a watched file did (returned for tests and for `SIGHUP`'s log line).
enum FileWatchOutcome: Equatable {
    /// The bytes were the same as last time: nothing was done.
    case unchanged
    /// New bytes were applied.
    case applied
    /// Reading or applying failed; the watch is in ``FileWatchState/failing(reason:)``.
    case failed
}

/// The one way the service follows files on disk: read them, compare with the bytes last seen, apply them if
/// they differ, and log each distinct error once.
///
/// Each ``check()`` is one look; nothing here sleeps or reads a clock, so tests drive a watch by calling
/// `check()` as the ``FileWatches`` timer (every 2 s) and `SIGHUP` do. Reading is the caller's `read`, which
/// must bound every file it reads (``WatchedFileLimits``). After a read fails, the next successful read
/// is applied even if its bytes are the ones applied before the failure, because `failed` may have undone
/// them (the token file: no file, no tokens). A failed apply is not retried with the same bytes (they would
/// fail the same way); changed bytes are.
final class FileWatch<Contents: Equatable & Sendable>: Sendable {
    let file: WatchedFile
    private let read: @Sendable () throws -> Contents
    private let apply: @Sendable (Contents) throws -> [String]
    private let failed: (@Sendable (any Error) -> Void)?
    private let unchanged: (@Sendable () -> Void)?
    private let logger: Logger
    private let metrics: ServiceMetrics?
    private let memory = Mutex(Memory())

    private struct Memory: Sendable {
        /// The bytes last applied or last refused by `apply`; nil after a read failure.
        var last: Contents?
        var state: FileWatchState = .unread
        /// Every message already logged since the last clean apply, so each is logged once; at most
        /// ``rememberedMessages`` (then it starts afresh, and a message may be logged a second time).
        var logged: Set<String> = []

        mutating func remember(_ message: String) -> Bool {
            if logged.count >= FileWatch.rememberedMessages { logged.removeAll() }
            return logged.insert(message).inserted
        }
    }

    /// The most distinct messages remembered as logged: a file that keeps failing in new ways (edited again and
    /// again) costs at most this much memory.
    static var rememberedMessages: Int { 64 }

    /// - Parameters:
    ///   - file: which file this is (logs, `/readyz`, metric label).
    ///   - read: reads the files, each with a size bound; throws when one is missing, unreadable or too large.
    ///   - apply: puts new contents to use; returns problems that did not stop it (logged once each), throws
    ///     when nothing could be applied (the previous contents stay in use).
    ///   - failed: called once per distinct failure (of `read` or `apply`, told apart by their messages)
    ///     instead of logging it, to log it and do what a failure means (empty the token table; mark the
    ///     bundle source failing). Without it, the watch logs the failure and changes nothing.
    ///   - unchanged: called when a look finds the bytes last seen (the directory source confirms its bundle).
    ///   - metrics: `helm_cert_server_watched_file_ok{file}` is set after each look.
    ///   - initial: contents already in use (loaded before the watch existed), so the first look does not apply
    ///     them again.
    init(
        _ file: WatchedFile, logger: Logger, metrics: ServiceMetrics? = nil, initial: Contents? = nil,
        read: @escaping @Sendable () throws -> Contents,
        apply: @escaping @Sendable (Contents) throws -> [String],
        failed: (@Sendable (any Error) -> Void)? = nil,
        unchanged: (@Sendable () -> Void)? = nil
    ) {
        self.file = file
        self.unchanged = unchanged
        memory.withLock {
            $0.last = initial
            if initial != nil { $0.state = .applied(problems: []) }
        }
        self.read = read
        self.apply = apply
        self.failed = failed
        self.logger = logger
        self.metrics = metrics
        if initial != nil { metrics?.recordWatchedFile(file, ok: true) }
    }

    /// The state after the last look.
    var state: FileWatchState { memory.withLock { $0.state } }

    /// Looks once: reads, compares, applies if changed.
    @discardableResult
    func check() -> FileWatchOutcome {
        let contents: Contents
        do {
            contents = try read()
        } catch {
            memory.withLock { $0.last = nil }
            return fail(error)
        }
        guard memory.withLock({ $0.last != contents }) else {
            unchanged?()
            return .unchanged
        }
        do {
            let problems = try apply(contents)
            let fresh = memory.withLock { memory -> [String] in
                memory.last = contents
                memory.state = .applied(problems: problems)
                memory.logged = memory.logged.intersection(problems)
                return problems.filter { memory.remember($0) }
            }
            metrics?.recordWatchedFile(file, ok: true)
            for problem in fresh { logger.error("\(file): \(problem)", metadata: ["file": "\(file.rawValue)"]) }
            return .applied
        } catch {
            memory.withLock { $0.last = contents }
            return fail(error)
        }
    }

    private func fail(_ error: any Error) -> FileWatchOutcome {
        let reason = "\(error)"
        let isNew = memory.withLock { memory -> Bool in
            memory.state = .failing(reason: reason)
            return memory.remember(reason)
        }
        metrics?.recordWatchedFile(file, ok: false)
        if isNew {
            if let failed {
                failed(error)
            } else {
                logger.error("\(file): \(reason)", metadata: ["file": "\(file.rawValue)"])
            }
        }
        return .failed
    }
}

/// A watch of any contents, for ``FileWatches``.
protocol AnyFileWatch: Sendable {
    var file: WatchedFile { get }
    var state: FileWatchState { get }
    @discardableResult func check() -> FileWatchOutcome
}

extension FileWatch: AnyFileWatch {}

/// All the service's watches, looked at together every `interval` on a thread of their own, and at once on
/// `SIGHUP` (``checkNow()``).
final class FileWatches: Sendable {
    let watches: [any AnyFileWatch]
    private let task: PeriodicTask
    private let looking: Serializer

    /// Serialises the timer's looks with `SIGHUP`'s, so one watch never runs twice at once.
    private final class Serializer: Sendable {
        let mutex = Mutex(())
    }

    /// - Parameters:
    ///   - watches: looked at in this order (the serving certificate before the client CA: both reload TLS).
    ///   - interval: the pause between looks (2 s in the service).
    ///   - alsoEachTime: other housekeeping run on the same timer.
    init(_ watches: [any AnyFileWatch], interval: Duration, alsoEachTime: @escaping @Sendable () -> Void = {}) {
        self.watches = watches
        let looking = Serializer()
        self.looking = looking
        task = PeriodicTask(label: "file-watches", interval: interval) {
            looking.mutex.withLock { _ in for watch in watches { watch.check() } }
            alsoEachTime()
        }
    }

    /// Looks at every watch now (start-up, `SIGHUP`); returns each watch's outcome.
    @discardableResult
    func checkNow() -> [(WatchedFile, FileWatchOutcome)] {
        looking.mutex.withLock { _ in watches.map { ($0.file, $0.check()) } }
    }

    /// What is wrong with the watched files now, one line each, for `/readyz`. The source directory is left
    /// out: the bundle store reports its problems itself (`source problem: …`).
    var problems: [String] {
        watches.filter { $0.file != .sourceDirectory }.flatMap { watch -> [String] in
            switch watch.state {
            case .unread: []
            case .applied(let problems): problems.map { "\(watch.file): \($0)" }
            case .failing(let reason): ["\(watch.file): \(reason)"]
            }
        }
    }

    /// Starts looking every interval.
    /// - Throws: ``BackgroundThread/StartError`` when no thread can be started.
    func start() throws { try task.start() }
    func stop() { task.stop() }
}
