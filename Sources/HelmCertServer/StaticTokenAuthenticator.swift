import HelmBundle
import Synchronization

/// Checks bearer tokens against a `TokenFile`, in constant time, keeping only the tokens' SHA-256 digests.
///
/// Every lookup hashes the presented token once and compares the digest with every entry using
/// `CRYPTO_memcmp`, without stopping at a match, so timing tells nothing about which tokens exist or how much
/// of a guess was right. `replace(with:)` swaps the table atomically (the file was edited or re-mounted).
public final class StaticTokenAuthenticator: Sendable {
    private struct Table: Sendable {
        var digests: [[UInt8]]
        var users: [TokenUser]
    }
    private let table: Mutex<Table>

    /// - Parameter tokenFile: the parsed file; its tokens are hashed here and not kept.
    public init(tokenFile: TokenFile) {
        table = Mutex(Self.makeTable(tokenFile))
    }

    /// Replaces the known tokens (for a reloaded token file).
    public func replace(with tokenFile: TokenFile) {
        let new = Self.makeTable(tokenFile)
        table.withLock { $0 = new }
    }

    /// How many tokens are known.
    public var count: Int { table.withLock { $0.users.count } }

    /// The user whose token this is, or nil.
    public func user(forToken token: some StringProtocol) -> TokenUser? {
        let digest = SHA256.digest(utf8: token)
        return table.withLock { table in
            var found: Int? = nil
            for i in table.digests.indices where constantTimeEqual(table.digests[i], digest) {
                found = i
            }
            return found.map { table.users[$0] }
        }
    }

    private static func makeTable(_ file: TokenFile) -> Table {
        Table(digests: file.entries.map { SHA256.digest(Array($0.token.utf8)) }, users: file.entries.map(\.user))
    }
}
