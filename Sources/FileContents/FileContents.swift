#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole (small) file with POSIX calls, following symlinks (a mounted secret's files are symlinks into
/// `..data/`): token files, mounted secret keys, the service-account token. The one file reader of the
/// service's modules, none of which uses Foundation for I/O.
///
/// - Parameters:
///   - path: the file to read.
///   - limit: the most bytes accepted; a larger file is an error (`read`, `EFBIG`). A token file is never
///     megabytes.
/// - Throws: `FileReadError` naming the path, the call that failed and its `errno`.
public func readFileContents(_ path: String, limit: Int = 1 << 20) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(path: path, call: "open", errno: errno) }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 8192)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileReadError(path: path, call: "read", errno: errno)
        }
        if n == 0 { break }
        result.append(contentsOf: chunk[0..<n])
        if result.count > limit { throw FileReadError(path: path, call: "read", errno: EFBIG) }
    }
    return result
}

/// A file could not be read; says which, in which call, and why.
public struct FileReadError: Error, CustomStringConvertible {
    public var path: String
    /// `open` or `read`.
    public var call: String
    public var errno: Int32
    /// `strerror` of `errno`, e.g. `No such file or directory`.
    public var reason: String { String(cString: strerror(errno)) }
    public var description: String { "cannot read \(path): \(reason)" }
}
