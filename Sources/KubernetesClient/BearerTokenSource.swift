import FileContents
import Glibc
import Synchronization

/// The bearer token, read from its file and re-read once it is `maxAge` old (projected tokens rotate) or on
/// demand after a 401. Never logs or prints the token.
final class BearerTokenSource: Sendable {
    private let path: String
    private let maxAge: Duration
    private let cached = Mutex<(token: String, readAt: ContinuousClock.Instant)?>(nil)

    init(path: String, maxAge: Duration) {
        self.path = path
        self.maxAge = maxAge
    }

    /// The current token, from the cache when it is younger than `maxAge`.
    func token() throws(KubernetesError) -> String {
        let now = ContinuousClock.now
        if let entry = cached.withLock({ $0 }), now - entry.readAt < maxAge { return entry.token }
        return try reload()
    }

    /// Reads the file again (after a 401) and caches the result.
    @discardableResult
    func reload() throws(KubernetesError) -> String {
        let bytes: [UInt8]
        do {
            bytes = try readFileContents(path, limit: .max)
        } catch {
            throw .configuration(.unreadableTokenFile(path: path, call: error.call, reason: error.reason))
        }
        var token = String(decoding: bytes, as: UTF8.self)
        while let last = token.last, last.isWhitespace { token.removeLast() }
        while let first = token.first, first.isWhitespace { token.removeFirst() }
        guard !token.isEmpty else {
            throw .configuration(.emptyTokenFile(path: path))
        }
        let entry = (token: token, readAt: ContinuousClock.now)
        cached.withLock { $0 = entry }
        return token
    }
}
