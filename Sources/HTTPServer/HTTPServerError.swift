#if canImport(Glibc)
import Glibc
#endif

/// A failed system or OpenSSL call while setting up or running the server.
///
/// `description` names the call, what it was for and why it failed, e.g.
/// `bind(0.0.0.0:8443) failed: errno 98 (Address already in use)` or
/// `could not load certificate chain from /tls/tls.crt: error:…:PEM routines::no start line`.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// The call that failed with its subject, e.g. `"bind(0.0.0.0:8443)"`.
    public var call: String
    /// `errno` at the failure, or 0 when not a system call.
    public var errno: Int32
    /// `strerror(errno)` or OpenSSL's error queue text.
    public var message: String

    /// An error from explicit parts.
    public init(call: String, errno: Int32 = 0, message: String) {
        self.call = call
        self.errno = errno
        self.message = message
    }

    /// The error of a system call that just failed, reading the current `errno`.
    static func system(_ call: String) -> HTTPServerError {
        let code = Glibc.errno
        return HTTPServerError(call: call, errno: code, message: String(cString: strerror(code)))
    }

    public var description: String {
        errno != 0 ? "\(call) failed: errno \(errno) (\(message))" : "\(call): \(message)"
    }
}
