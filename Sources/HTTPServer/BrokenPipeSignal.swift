#if canImport(Glibc)
import Glibc
#endif

/// Ignores `SIGPIPE` for the whole process, so that a write to a socket or pipe whose reader has gone fails
/// with `EPIPE` instead of ending the process. The one place it is done.
///
/// ``HTTPServer/start()`` calls it, so the library is safe on its own: plain connections write with
/// `send(…, MSG_NOSIGNAL)`, but TLS connections write through OpenSSL, which uses `write(2)` on the socket
/// (`SSL_set_fd`) and cannot pass that flag; a client that leaves in the middle of an answer would otherwise
/// kill the server. A program that writes to pipes it does not control before the server starts (its log on
/// standard error, audit lines on standard output) calls it itself first. Signal dispositions belong to the
/// process, so calling it again changes nothing.
public func ignoreBrokenPipeSignal() {
    signal(SIGPIPE, SIG_IGN)
}
