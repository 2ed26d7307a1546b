import CLibSSL

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lowercase hex of `bytes`.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
    return String(decoding: out, as: UTF8.self)
}

/// Compares two equally long byte arrays in time independent of where they differ (`CRYPTO_memcmp`).
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 } }
}

/// `count` cryptographically random bytes (`RAND_bytes`).
public func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    let ok = RAND_bytes(&bytes, Int32(count))
    precondition(ok == 1, "RAND_bytes failed: OpenSSL's random generator is not seeded")
    return bytes
}

/// Writes all of `bytes` to `fd` (retrying on `EINTR` and short writes); false if the descriptor refused.
/// One call per log or audit line, so lines from different threads never interleave.
@discardableResult
public func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
    let written = bytes.withContiguousStorageIfAvailable { writeAll(fd, buffer: UnsafeRawBufferPointer($0)) }
    return written ?? Array(bytes).withUnsafeBytes { writeAll(fd, buffer: $0) }
}

private func writeAll(_ fd: Int32, buffer: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < buffer.count {
        let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return false }
        offset += n
    }
    return true
}
