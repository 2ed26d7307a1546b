import CLibSSL
import CSSLShims

/// Runs `body` with a read-only memory BIO over `bytes`; the BIO is freed afterwards.
///
/// - Throws: `BundleError` when no BIO could be allocated, or what `body` throws.
func withReadingBIO<Value>(
    _ bytes: [UInt8], _ body: (OpaquePointer) throws(BundleError) -> Value
) throws(BundleError) -> Value {
    guard let value = try withOptionalReadingBIO(bytes, body) else {
        throw BundleError(key: nil, reason: "could not allocate an OpenSSL memory BIO (\(drainErrorQueue()))")
    }
    return value
}

/// Runs `body` with a read-only memory BIO over `bytes`; the BIO is freed afterwards. `nil` when no BIO could
/// be allocated (OpenSSL's error queue says why).
func withOptionalReadingBIO<Value, Failure: Error>(
    _ bytes: [UInt8], _ body: (OpaquePointer) throws(Failure) -> Value
) throws(Failure) -> Value? {
    // BIO_new_mem_buf does not copy: keep `bytes` alive (and unmoved) for the BIO's lifetime.
    let result: Result<Value, Failure>? = bytes.withUnsafeBytes { buffer in
        guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
        defer { BIO_free(bio) }
        do throws(Failure) {
            return .success(try body(bio))
        } catch {
            return .failure(error)
        }
    }
    return try result?.get()
}

/// Runs `write` against a fresh writable memory BIO and returns what it wrote.
///
/// - Parameters:
///   - secure: for key material: the BIO's buffer comes from OpenSSL's secure heap (plain memory when no secure
///     heap was set up) and is cleared whenever it is grown or freed (`BIO_s_secmem`).
///   - write: writes to the BIO, returning whether it succeeded.
/// - Returns: the bytes, or `nil` if `write` reported failure or no BIO could be allocated.
func writtenToBIO(secure: Bool = false, _ write: (OpaquePointer) -> Bool) -> [UInt8]? {
    guard let bio = BIO_new(secure ? BIO_s_secmem() : BIO_s_mem()) else { return nil }
    defer { BIO_free(bio) }
    guard write(bio) else { return nil }
    var data: UnsafeMutablePointer<CChar>?
    let count = cshim_BIO_get_mem_data(bio, &data)
    guard count >= 0 else { return nil }
    guard let data, count > 0 else { return [] }
    return data.withMemoryRebound(to: UInt8.self, capacity: count) { [UInt8](UnsafeBufferPointer(start: $0, count: count)) }
}
