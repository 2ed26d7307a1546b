import FileContents
import Logging

/// `--token-file`, watched: new bytes replace the token table (malformed records skipped, each named once in
/// the log and in `/readyz`); a file that cannot be read empties it, so every static token gets 401 until the
/// file is back: a token is never accepted because of a file that is gone.
enum TokenFileWatch {
    /// The most skipped lines (and the most warnings) named in the log and `/readyz` per version of the file;
    /// the rest are counted.
    static let maxProblemsShown = 20

    /// The watch of `path`, feeding `authenticator`.
    static func make(
        path: String, authenticator: StaticTokenAuthenticator, logger: Logger, metrics: ServiceMetrics?
    ) -> FileWatch<[UInt8]> {
        FileWatch(
            .tokenFile, logger: logger, metrics: metrics,
            read: {
                do {
                    return try readFileContents(path, limit: WatchedFileLimits.tokenFile)
                } catch {
                    throw WatchedFileError(cause: error, meanwhile: "no static tokens are accepted until it can be read")
                }
            },
            apply: { bytes in
                let file = TokenFile(parsing: bytes)
                authenticator.replace(with: file)
                metrics?.recordStaticTokens(file.entries.count)
                for warning in file.warnings.prefix(maxProblemsShown) { logger.warning("token file \(path): \(warning)") }
                logger.info(
                    "token file loaded",
                    metadata: [
                        "path": "\(path)", "tokens": "\(file.entries.count)", "skippedLines": "\(file.skipped.count)",
                        "warnings": "\(file.warnings.count)",
                    ])
                let shown = file.skipped.prefix(maxProblemsShown).map(\.description)
                let more = file.skipped.count - shown.count
                return shown + (more > 0 ? ["\(more) more malformed line(s) skipped (not listed)"] : [])
            },
            failed: { error in
                authenticator.replace(with: .empty)
                metrics?.recordStaticTokens(0)
                logger.error("token file: \(error)", metadata: ["file": "\(WatchedFile.tokenFile.rawValue)"])
            })
    }
}
