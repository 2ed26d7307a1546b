import CEventShims
#if canImport(Glibc)
import Glibc
#endif

/// How an event loop may write audit lines to the destination itself without ever waiting long, decided once
/// from what the destination is. The writer thread (``AuditLog``) takes whatever this cannot.
///
/// - A pipe, FIFO or character device (standard output under a container runtime is a pipe) is opened again
///   through `/proc/self/fd/N` with `O_NONBLOCK`: a file description of its own, so the flag does not change
///   the descriptor others share. A pipe takes a write of at most `PIPE_BUF` bytes (every chunk of lines)
///   whole or not at all (`EAGAIN`: the rest goes to the thread).
/// - A socket takes `send(MSG_DONTWAIT)`.
/// - A regular file on a local file system (ext4, XFS, Btrfs, tmpfs, overlayfs, F2FS, ZFS) takes an ordinary
///   `write(2)`: it lands in the page cache, as nginx's `access_log` does for every request. Linux's
///   `RWF_NOWAIT` would say when such a write must wait, but ext4 does not support it for buffered writes.
/// - Anything else — a network file system (NFS, SMB, FUSE, …) that can stall for as long as its server does,
///   an unknown file system, a failed reopen — is `.unavailable`: the writer thread writes everything.
enum AuditDirectWrite: Equatable {
    /// A non-blocking descriptor of its own for a pipe, FIFO or character device (closed by ``close()``).
    case nonBlocking(Int32)
    /// A socket: `send(MSG_DONTWAIT)` on the shared descriptor.
    case send(Int32)
    /// A regular file on a local file system: `write(2)` on the shared descriptor.
    case localFile(Int32)
    case unavailable

    /// File systems whose writes go to the page cache of this machine (`statfs`'s `f_type`).
    static let localFileSystems: Set<Int> = [
        0xEF53,  // ext2, ext3, ext4
        0x5846_5342,  // XFS
        0x9123_683E,  // Btrfs
        0x0102_1994,  // tmpfs
        0x794C_7630,  // overlayfs (a container's own file system)
        0xF2F5_2010,  // F2FS
        0x2FC1_2FC1,  // ZFS
        0x8584_58F6,  // ramfs
    ]

    /// What `fd` (the writer thread's descriptor) allows.
    init(for fd: Int32) {
        var status = stat()
        guard fstat(fd, &status) == 0 else {
            self = .unavailable
            return
        }
        switch status.st_mode & S_IFMT {
        case S_IFIFO, S_IFCHR:
            let reopened = open("/proc/self/fd/\(fd)", O_WRONLY | O_NONBLOCK | O_CLOEXEC)
            self = reopened >= 0 ? .nonBlocking(reopened) : .unavailable
        case S_IFSOCK:
            self = .send(fd)
        case S_IFREG:
            let local = Self.localFileSystems.contains(cshim_file_system_type(fd))
            self = local ? .localFile(fd) : .unavailable
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
            case .nonBlocking(let fd), .localFile(let fd): written = write(fd, bytes.baseAddress, bytes.count)
            case .send(let fd):
                written = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            case .unavailable: return .unsupported
            }
            if written >= 0 { return .wrote(written) }
            switch errno {
            case EINTR: continue
            case ENOTSOCK, EINVAL, EOPNOTSUPP: return .unsupported
            // EAGAIN, or a real failure (EPIPE, ENOSPC, …): the writer thread writes it, and reports a failure.
            default: return .wrote(0)
            }
        }
    }

    /// Closes a descriptor of its own.
    func close() {
        if case .nonBlocking(let fd) = self { _ = Glibc.close(fd) }
    }
}
