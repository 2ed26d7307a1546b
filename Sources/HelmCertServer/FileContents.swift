#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole (small) file with POSIX calls: token files, mounted secret keys.
///
/// - Parameters:
///   - path: the file to read.
///   - limit: the most bytes accepted; a larger file is an error (a token file is never megabytes).
/// - Throws: `FileReadError` naming the path and `strerror`.
public func readFileContents(_ path: String, limit: Int = 1 << 20) throws(FileReadError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(path: path, errno: errno) }
    defer { close(fd) }
    var result: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 8192)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw FileReadError(path: path, errno: errno)
        }
        if n == 0 { break }
        result.append(contentsOf: chunk[0..<n])
        if result.count > limit { throw FileReadError(path: path, errno: EFBIG) }
    }
    return result
}

/// A file could not be read; says which and why.
public struct FileReadError: Error, CustomStringConvertible {
    public var path: String
    public var errno: Int32
    public var description: String { "cannot read \(path): \(String(cString: strerror(errno)))" }
}
