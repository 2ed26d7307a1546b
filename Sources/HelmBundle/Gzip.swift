import CLibSSL
import CZlib
import Glibc

/// gzip (RFC 1952) through zlib, with reproducible bytes: header mtime 0, no file name, OS byte 3 (Unix).
enum Gzip {
    /// The OS byte written into every header, whatever platform zlib was built for.
    static let operatingSystem: Int32 = 3

    /// `bytes` compressed as one gzip member at the best compression level.
    ///
    /// It may hold a private key (`personal.tar.gz`): `bytes` is read in place (never copied), zlib's working
    /// memory (its window holds the input) is cleared before it is freed, and the answer is the output buffer
    /// itself, cut to length, so no copy of the input or the output is left behind in freed memory.
    ///
    /// - Throws: `BundleError` naming the zlib call that failed (in practice: out of memory).
    static func compress(_ bytes: [UInt8]) throws(BundleError) -> [UInt8] {
        var stream = z_stream()
        stream.zalloc = clearingAllocate
        stream.zfree = clearingFree
        // windowBits 15 + 16: a gzip wrapper instead of zlib's.
        var status = deflateInit2_(
            &stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw failure("deflateInit2", status) }
        defer { deflateEnd(&stream) }

        // zlib keeps a pointer to the header until it has written it: it must outlive the deflate calls.
        let header = UnsafeMutablePointer<gz_header>.allocate(capacity: 1)
        defer { header.deallocate() }
        header.initialize(to: gz_header())
        header.pointee.time = 0
        header.pointee.os = operatingSystem
        status = deflateSetHeader(&stream, header)
        guard status == Z_OK else { throw failure("deflateSetHeader", status) }

        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        let written: Int = try bytes.withUnsafeBufferPointer { inputBuffer throws(BundleError) -> Int in
            try output.withUnsafeMutableBufferPointer { outputBuffer throws(BundleError) -> Int in
                // zlib's next_in is not const, but deflate only reads it.
                stream.next_in = UnsafeMutablePointer(mutating: inputBuffer.baseAddress)
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                let status = deflate(&stream, Z_FINISH)
                guard status == Z_STREAM_END else { throw failure("deflate", status) }
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(written...)
        return output
    }

    /// How many bytes in front of each zlib allocation record its size, for `clearingFree`: 16, so the block zlib
    /// gets keeps malloc's alignment.
    static let sizePrefixBytes = 16

    private static func failure(_ call: String, _ status: Int32) -> BundleError {
        BundleError(key: nil, reason: "could not build bundle.tar.gz: zlib's \(call) returned \(status); the process is probably out of memory.")
    }
}

/// zlib's allocator for ``Gzip/compress(_:)``: `malloc`, with the size kept in front of the block.
private let clearingAllocate: alloc_func = { _, items, size in
    let bytes = Int(items) * Int(size)
    guard let block = malloc(bytes + Gzip.sizePrefixBytes) else { return nil }
    block.storeBytes(of: bytes, as: Int.self)
    return block + Gzip.sizePrefixBytes
}

/// zlib's deallocator for ``Gzip/compress(_:)``: clears the block (`OPENSSL_cleanse`, which the compiler cannot
/// leave out) before `free`.
private let clearingFree: free_func = { _, address in
    guard let address else { return }
    let block = address - Gzip.sizePrefixBytes
    OPENSSL_cleanse(address, block.load(as: Int.self))
    free(block)
}
