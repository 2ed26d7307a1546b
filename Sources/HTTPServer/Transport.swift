import CLibSSL
import CSSLShims

#if canImport(Glibc)
import Glibc
#endif

/// What one handshake, read or write step on a ``Transport`` did.
enum TransportResult: Equatable, Sendable {
    /// Bytes moved (`count` of them; 0 for a finished handshake).
    case progress(Int)
    /// Nothing more now: wait until the socket is readable (for TLS also when writing: a renegotiation or
    /// key update wants the peer's records first).
    case wantRead
    /// Nothing more now: wait until the socket is writable (for TLS also when reading).
    case wantWrite
    /// The peer ended the stream (read) or the connection failed: close it.
    case closed
}

/// A connection's byte stream: plain TCP or TLS over it, so the HTTP code never asks which.
///
/// Reads and writes never block. A transport owns its socket from `init` to ``close()``.
protocol Transport: AnyObject {
    /// The socket.
    var fd: Int32 { get }
    /// Takes the handshake one step: `.progress(0)` once it is done (plain TCP: at once).
    func handshake() -> TransportResult
    /// Reads into `buffer`: `.progress(n)` with n > 0, or why not.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult
    /// Writes from `bytes`: `.progress(n)` with n > 0, or why not. After `.wantRead`/`.wantWrite` the next
    /// call must pass at least as many bytes, starting with the same ones (TLS retries the same record).
    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult
    /// Says the server has finished sending: TLS close_notify (best effort), then `shutdown(SHUT_WR)`.
    func finishSending()
    /// The client certificate that verified (TLS with a client CA), else nil.
    var verifiedPeer: VerifiedPeer? { get }
    /// Whether the client certificate that verified at the handshake still stands now, with `current` the
    /// server's TLS context now: it is within its validity, the client CA and CRL it was verified under are still
    /// the ones in force (``TLSContext/clientTrust(carriesOverTo:)``) and that CRL is not past its nextUpdate.
    /// False without one.
    func verifiedPeerStillTrusted(current: TLSContext?) -> Bool
    /// Why the last step returned `.closed`, when the transport knows more than "the peer ended the stream"
    /// (OpenSSL's error queue); for debug logs.
    var failureReason: String? { get }
    /// Frees everything and closes the socket. Idempotent.
    func close()
}

extension Transport {
    /// Reads raw socket bytes into `buffer` and forgets them (a closing connection waiting for the peer's end
    /// of stream): `.progress(n)`, `.wantRead` or `.closed`.
    func discard(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        PlainTransport.interpret(recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT)), wouldBlock: .wantRead)
    }
}

/// What a connection knows of a client certificate that verified at its handshake: what ``HTTPRequest`` hands
/// the responder (``HTTPRequest/clientCertificateSubjectCN``, ``HTTPRequest/clientCertificatePolicies``).
struct VerifiedPeer: Equatable {
    /// The subject common name.
    var commonName: String
    /// The certificatePolicies policy identifiers, dotted; empty without the extension.
    var policyIdentifiers: [String]
    /// Room for the dotted identifiers: 1 KiB, a few dozen policies (one is usual); identifiers beyond it are not
    /// handed on.
    static let policyBufferBytes = 1024
}

/// Plain TCP.
final class PlainTransport: Transport {
    let fd: Int32
    private var isOpen = true

    /// Takes ownership of the connected, non-blocking socket `fd`.
    init(fd: Int32) { self.fd = fd }

    deinit { close() }

    func handshake() -> TransportResult { .progress(0) }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        while true {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            return Self.interpret(count, wouldBlock: .wantRead)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        while true {
            let count = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count < 0 && errno == EINTR { continue }
            return Self.interpret(count, wouldBlock: .wantWrite)
        }
    }

    func finishSending() { _ = shutdown(fd, Int32(SHUT_WR)) }

    var verifiedPeer: VerifiedPeer? { nil }

    func verifiedPeerStillTrusted(current: TLSContext?) -> Bool { false }

    var failureReason: String? { nil }

    func close() {
        guard isOpen else { return }
        isOpen = false
        _ = Glibc.close(fd)
    }

    /// What a `read`/`send`/`recv` result means: bytes, would block (`EAGAIN`), or closed (end of stream or
    /// any other error).
    static func interpret(_ count: Int, wouldBlock: TransportResult) -> TransportResult {
        if count > 0 { return .progress(count) }
        if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return wouldBlock }
        return .closed
    }
}

/// TLS through OpenSSL on a socket (`SSL_set_fd`, so OpenSSL reads and writes the socket itself).
///
/// ``interpret(_:)`` is the one place that reads `SSL_get_error`, as nginx's `ngx_ssl_handle_recv` is: a read
/// can want a write and a write a read. OpenSSL reads ahead (see ``TLSContext``): records it has read wait
/// inside it where epoll cannot see them, so a caller reads until `.wantRead`.
final class TLSTransport: Transport {
    let fd: Int32
    private var ssl: OpaquePointer?
    private var handshakeDone = false
    private(set) var failureReason: String?
    /// After `SSL_write` asked for a retry: the length it must be retried with (OpenSSL requires the same).
    private var pendingWriteLength = 0

    /// Keeps the context (and through it the session-ticket keys its `SSL_CTX` points at) alive while the
    /// connection lives, whatever `reloadTLS` does meanwhile.
    private let context: TLSContext

    /// A server-side TLS transport on `fd` for `context`, or nil when OpenSSL can't make one (`fd` is then
    /// still the caller's). Takes ownership of `fd` otherwise.
    init?(fd: Int32, context: TLSContext) {
        guard let ssl = SSL_new(context.pointer) else { return nil }
        guard SSL_set_fd(ssl, fd) == 1 else {
            SSL_free(ssl)
            return nil
        }
        SSL_set_accept_state(ssl)
        self.fd = fd
        self.ssl = ssl
        self.context = context
    }

    deinit { close() }

    func handshake() -> TransportResult {
        guard let ssl else { return .closed }
        if handshakeDone { return .progress(0) }
        TLSContext.clearErrorQueue()
        let result = SSL_do_handshake(ssl)
        guard result == 1 else { return interpret(result) }
        handshakeDone = true
        return .progress(0)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        guard let ssl else { return .closed }
        TLSContext.clearErrorQueue()
        let count = SSL_read(ssl, buffer.baseAddress, Int32(clamping: buffer.count))
        return count > 0 ? .progress(Int(count)) : interpret(count)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        guard let ssl else { return .closed }
        let length = pendingWriteLength > 0 ? pendingWriteLength : min(bytes.count, Int(Int32.max))
        precondition(length <= bytes.count, "a TLS write was retried with fewer bytes than before")
        TLSContext.clearErrorQueue()
        let written = SSL_write(ssl, bytes.baseAddress, Int32(length))
        guard written > 0 else {
            let result = interpret(written)
            if result == .wantRead || result == .wantWrite { pendingWriteLength = length }
            return result
        }
        pendingWriteLength = 0
        return .progress(Int(written))
    }

    func finishSending() {
        if let ssl, handshakeDone {
            TLSContext.clearErrorQueue()
            _ = SSL_shutdown(ssl)
            ERR_clear_error()
        }
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    var verifiedPeer: VerifiedPeer? { ssl.flatMap { handshakeDone ? TLSContext.verifiedPeer($0) : nil } }

    func verifiedPeerStillTrusted(current: TLSContext?) -> Bool {
        guard let ssl, handshakeDone, let certificate = SSL_get0_peer_certificate(ssl) else { return false }
        return context.clientTrust(carriesOverTo: current) && context.clientCRLsAreCurrent
            && cshim_X509_is_current(certificate) == 1
    }

    func close() {
        guard let ssl else { return }
        SSL_free(ssl)
        self.ssl = nil
        _ = Glibc.close(fd)
    }

    /// What a TLS call that returned `result` (≤ 0) means. Anything but "wants to read/write" ends the
    /// connection: a clean close_notify, an end of stream without one, a protocol or verification error.
    private func interpret(_ result: Int32) -> TransportResult {
        guard let ssl else { return .closed }
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        default:
            if ERR_peek_error() != 0 { failureReason = TLSContext.openSSLErrors() }  // drains the queue
            return .closed
        }
    }
}
