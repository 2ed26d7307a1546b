import FileContents
import Logging
import Synchronization

/// Re-reads `--token-file` and swaps the token table when the file's bytes changed (a re-mounted Secret).
/// Malformed records are skipped (logged with their line numbers) and the rest applies; a file that cannot be
/// read means no static tokens at all until it can be read again, never the old table.
final class TokenFileReloader: Sendable {
    private let path: String
    private let loaded: Mutex<[UInt8]?>
    private let authenticator: StaticTokenAuthenticator
    private let logger: Logger

    init(path: String, loaded: [UInt8], authenticator: StaticTokenAuthenticator, logger: Logger) {
        self.path = path
        self.loaded = Mutex(loaded)
        self.authenticator = authenticator
        self.logger = logger
    }

    /// Reads the file; if it changed, its tokens replace the old ones.
    func reloadIfChanged() {
        let bytes: [UInt8]
        do { bytes = try readFileContents(path) } catch {
            let wasLoaded = loaded.withLock { loaded in
                defer { loaded = nil }
                return loaded != nil
            }
            authenticator.replace(with: .empty)
            if wasLoaded { logger.error("cannot re-read the token file; no static tokens are accepted until it can be read: \(error)") }
            return
        }
        guard loaded.withLock({ $0 != bytes }) else { return }
        loaded.withLock { $0 = bytes }
        let file = TokenFile(parsing: bytes)
        authenticator.replace(with: file)
        for skipped in file.skipped { logger.error("\(path): \(skipped)") }
        logger.info("token file reloaded", metadata: ["path": "\(path)", "tokens": "\(file.entries.count)"])
    }
}
