#if canImport(Glibc)
import Glibc
#endif

/// Bytes held in an anonymous in-memory file (`memfd_create`), readable by path (`/proc/self/fd/N`) while this
/// object lives: how the service hands the TLS layer, which loads files by path, a serving certificate and key it
/// read before, without writing key bytes anywhere on disk (the image's root file system is read-only anyway).
final class MemoryFile {
    let path: String
    private let fd: Int32

    /// `memfd_create`, which Glibc's Swift module does not declare (it needs `_GNU_SOURCE`).
    private typealias Create = @convention(c) (UnsafePointer<CChar>, UInt32) -> Int32
    private static let create: Create? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memfd_create")
        .map { unsafeBitCast($0, to: Create.self) }

    /// - Throws: ``ServiceError`` when the file cannot be made or written.
    init(_ bytes: [UInt8], name: String) throws(ServiceError) {
        guard let create = Self.create else { throw ServiceError("memfd_create is not available") }
        let fd = create(name, 1 /* MFD_CLOEXEC */)
        guard fd >= 0 else { throw ServiceError("memfd_create: \(String(cString: strerror(errno)))") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                close(fd)
                throw ServiceError("writing an in-memory copy of \(name): \(String(cString: strerror(errno)))")
            }
            offset += n
        }
        self.fd = fd
        path = "/proc/self/fd/\(fd)"
    }

    deinit { close(fd) }
}
