#if canImport(Glibc)
import Glibc
#endif

/// How an event loop may write audit lines to the destination itself without ever waiting, decided once from
/// what the destination is. The writer thread (``AuditLog``) takes whatever this cannot.
///
/// - A pipe or FIFO (standard output under a container runtime is a pipe) is opened again through
///   `/proc/self/fd/N` with `O_NONBLOCK`: a file description of its own, so the flag does not change the
///   descriptor others share. The reopened pipe must be the same one (device and inode), and a pipe takes a write
///   of at most `PIPE_BUF` bytes (every chunk of lines) whole or not at all (`EAGAIN`: the rest goes to the thread).
/// - A socket takes `send(MSG_DONTWAIT)`.
/// - Everything else is `.unavailable`: the writer thread writes every line. A regular file, because a write to
///   one can wait for as long as the file system makes it (a frozen file system during a snapshot, dirty-page
///   throttling, a network file system), and Linux's `RWF_NOWAIT`, which would say so, is not supported for
///   buffered writes on ext4; a character device, because reopening a terminal's master through `/proc` makes a
///   new terminal, and a terminal takes non-blocking writes in parts.
enum AuditDirectWrite: Equatable {
    /// A non-blocking descriptor of its own for a pipe or FIFO (closed by ``close()``).
    case nonBlocking(Int32)
    /// A socket: `send(MSG_DONTWAIT)` on the shared descriptor.
    case send(Int32)
    case unavailable

    /// What `fd` (the writer thread's descriptor) allows.
    init(for fd: Int32) {
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            self = .unavailable
            return
        }
        switch status.st_mode & S_IFMT {
        case S_IFIFO:
            let reopened = open("/proc/self/fd/\(fd)", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            guard reopened >= 0 else {
                self = .unavailable
                return
            }
            var again = stat()
            guard fstat(reopened, &again) == 0, again.st_dev == status.st_dev, again.st_ino == status.st_ino,
                again.st_mode & S_IFMT == S_IFIFO
            else {
                Glibc.close(reopened)
                self = .unavailable
                return
            }
            self = .nonBlocking(reopened)
        case S_IFSOCK:
            self = .send(fd)
        default:
            self = .unavailable
        }
    }

    /// What one attempt did.
    enum Outcome: Equatable {
        /// This many bytes went out (possibly fewer than asked, possibly 0: the rest must wait).
        case wrote(Int)
        /// This way of writing cannot work here: never try it again.
        case unsupported
    }

    /// Writes what it can of `bytes` now, without waiting for a reader.
    func attempt(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        while true {
            let written: Int
            switch self {
            case .nonBlocking(let fd): written = write(fd, bytes.baseAddress, bytes.count)
            case .send(let fd):
                written = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            case .unavailable: return .unsupported
            }
            if written >= 0 { return .wrote(written) }
            switch errno {
            case EINTR: continue
            case ENOTSOCK, EINVAL, EOPNOTSUPP: return .unsupported
            // EAGAIN, or a real failure (EPIPE, …): the writer thread writes it, and reports a failure.
            default: return .wrote(0)
            }
        }
    }

    /// Closes a descriptor of its own.
    func close() {
        if case .nonBlocking(let fd) = self { _ = Glibc.close(fd) }
    }
}
