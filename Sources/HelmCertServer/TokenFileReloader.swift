import FileContents
import Logging
import Synchronization

/// Re-reads `--token-file` and swaps the token table when the file's bytes changed (a re-mounted Secret).
/// A file that no longer parses is logged and ignored: the tokens already loaded stay.
final class TokenFileReloader: Sendable {
    private let path: String
    private let loaded: Mutex<[UInt8]>
    private let authenticator: StaticTokenAuthenticator
    private let logger: Logger

    init(path: String, loaded: [UInt8], authenticator: StaticTokenAuthenticator, logger: Logger) {
        self.path = path
        self.loaded = Mutex(loaded)
        self.authenticator = authenticator
        self.logger = logger
    }

    /// Reads the file; if it changed and parses, its tokens replace the old ones.
    func reloadIfChanged() {
        let bytes: [UInt8]
        do { bytes = try readFileContents(path) } catch {
            logger.error("cannot re-read the token file; keeping the tokens already loaded: \(error)")
            return
        }
        guard loaded.withLock({ $0 != bytes }) else { return }
        loaded.withLock { $0 = bytes }
        do {
            let file = try TokenFile(parsing: bytes)
            authenticator.replace(with: file)
            logger.info("token file reloaded", metadata: ["path": "\(path)", "tokens": "\(file.entries.count)"])
        } catch {
            logger.error(
                "token file changed but does not parse; keeping the tokens already loaded: \(error)",
                metadata: ["path": "\(path)"])
        }
    }
}
