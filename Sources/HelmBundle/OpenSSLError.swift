import CLibSSL
import CSSLShims
import CText

/// An OpenSSL call that failed, with the reasons OpenSSL queued for it.
public struct OpenSSLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The OpenSSL function that failed, e.g. `"X509_sign"`.
    public var function: String
    /// OpenSSL's queued error strings, joined by `"; "` (may be empty).
    public var detail: String

    /// - Parameters:
    ///   - function: the OpenSSL function that failed.
    ///   - detail: what OpenSSL said about it.
    public init(function: String, detail: String) {
        self.function = function
        self.detail = detail
    }

    /// The error for `function`, taking (and clearing) this thread's OpenSSL error queue as its detail.
    static func failed(_ function: String) -> OpenSSLError {
        OpenSSLError(function: function, detail: drainErrorQueue())
    }

    public var description: String {
        detail.isEmpty ? "\(function) failed" : "\(function) failed: \(detail)"
    }
}

/// Empties this thread's OpenSSL error queue, returning its entries as text (`cshim_drain_error_queue`).
@discardableResult
func drainErrorQueue() -> String {
    var buffer = [CChar](repeating: 0, count: 1024)
    _ = cshim_drain_error_queue(&buffer, buffer.count)
    return String(cText: buffer)
}
