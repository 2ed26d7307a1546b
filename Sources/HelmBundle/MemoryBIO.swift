import CLibSSL
import CSSLShims

/// Runs `body` with a read-only memory BIO over `bytes`; the BIO is freed afterwards.
func withReadingBIO<Value>(
    _ bytes: [UInt8], _ body: (OpaquePointer) throws(BundleError) -> Value
) throws(BundleError) -> Value {
    // BIO_new_mem_buf does not copy: keep `bytes` alive (and unmoved) for the BIO's lifetime.
    let result: Result<Value, BundleError> = bytes.withUnsafeBytes { buffer in
        guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
            return .failure(BundleError(key: nil, reason: "could not allocate an OpenSSL memory BIO (\(drainErrorQueue()))"))
        }
        defer { BIO_free(bio) }
        do throws(BundleError) {
            return .success(try body(bio))
        } catch {
            return .failure(error)
        }
    }
    return try result.get()
}

/// Runs `write` against a fresh writable memory BIO and returns what it wrote.
///
/// - Returns: the bytes, or `nil` if `write` reported failure or no BIO could be allocated.
func writtenToBIO(_ write: (OpaquePointer) -> Bool) -> [UInt8]? {
    guard let bio = BIO_new(BIO_s_mem()) else { return nil }
    defer { BIO_free(bio) }
    guard write(bio) else { return nil }
    var data: UnsafeMutablePointer<CChar>?
    let count = cshim_BIO_get_mem_data(bio, &data)
    guard count >= 0 else { return nil }
    guard let data, count > 0 else { return [] }
    return data.withMemoryRebound(to: UInt8.self, capacity: count) { [UInt8](UnsafeBufferPointer(start: $0, count: count)) }
}
