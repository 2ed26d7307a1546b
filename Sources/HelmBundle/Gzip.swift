import CZlib

/// gzip (RFC 1952) through zlib, with reproducible bytes: header mtime 0, no file name, OS byte 3 (Unix).
enum Gzip {
    /// The OS byte written into every header, whatever platform zlib was built for.
    static let operatingSystem: Int32 = 3

    /// `bytes` compressed as one gzip member at the best compression level.
    ///
    /// - Throws: `BundleError` naming the zlib call that failed (in practice: out of memory).
    static func compress(_ bytes: [UInt8]) throws(BundleError) -> [UInt8] {
        var stream = z_stream()
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
        var input = bytes
        let written: Int = try input.withUnsafeMutableBufferPointer { inputBuffer throws(BundleError) -> Int in
            try output.withUnsafeMutableBufferPointer { outputBuffer throws(BundleError) -> Int in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                let status = deflate(&stream, Z_FINISH)
                guard status == Z_STREAM_END else { throw failure("deflate", status) }
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output.prefix(written))
    }

    private static func failure(_ call: String, _ status: Int32) -> BundleError {
        BundleError(key: nil, reason: "could not build bundle.tar.gz: zlib's \(call) returned \(status); the process is probably out of memory.")
    }
}
