/// A POSIX ustar archive writer for a handful of small regular files, with reproducible bytes.
///
/// Every header has uid/gid 0, uname/gname `root`, the same modification time, and no device numbers;
/// the archive ends with two zero blocks (no padding to a 10 KiB record: readers don't need it).
enum TarArchive {
    /// One regular file in the archive.
    struct Entry: Equatable {
        /// The path inside the archive (at most 100 bytes; we only write root-level names).
        var name: String
        /// The permission bits, e.g. `0o644`.
        var mode: Int
        /// The file's contents.
        var contents: [UInt8]
    }

    static let blockSize = 512

    /// The uncompressed archive of `entries`, in order.
    ///
    /// - Parameters:
    ///   - entries: the files; names must be at most 100 bytes of UTF-8.
    ///   - modificationTime: seconds since 1970 for every entry (clamped to what the 12-byte field holds).
    static func archive(_ entries: [Entry], modificationTime: Int64) -> [UInt8] {
        // Sized once, exactly: growing would leave copies of the contents (a private key) in freed memory.
        var archive: [UInt8] = []
        archive.reserveCapacity(size(of: entries))
        for entry in entries {
            archive += header(for: entry, modificationTime: modificationTime)
            archive += entry.contents
            let remainder = entry.contents.count % blockSize
            if remainder != 0 { archive += [UInt8](repeating: 0, count: blockSize - remainder) }
        }
        archive += [UInt8](repeating: 0, count: 2 * blockSize)
        return archive
    }

    /// The bytes ``archive(_:modificationTime:)`` makes of `entries`: a header and the padded contents each, and
    /// two zero blocks.
    static func size(of entries: [Entry]) -> Int {
        entries.reduce(2 * blockSize) { total, entry in
            total + blockSize + (entry.contents.count + blockSize - 1) / blockSize * blockSize
        }
    }

    /// The 512-byte ustar header for `entry`.
    static func header(for entry: Entry, modificationTime: Int64) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: blockSize)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            precondition(bytes.count <= width, "tar header field overflow")
            header.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        }
        let name = Array(entry.name.utf8)
        precondition(name.count <= 100 && !name.isEmpty, "tar entry names are 1…100 bytes")
        let maximumTime: Int64 = 0o77777777777
        put(name, at: 0, width: 100)
        put(octal(Int64(entry.mode), digits: 7), at: 100, width: 8)                          // mode
        put(octal(0, digits: 7), at: 108, width: 8)                                          // uid
        put(octal(0, digits: 7), at: 116, width: 8)                                          // gid
        put(octal(Int64(entry.contents.count), digits: 11), at: 124, width: 12)              // size
        put(octal(min(max(modificationTime, 0), maximumTime), digits: 11), at: 136, width: 12) // mtime
        put(Array("        ".utf8), at: 148, width: 8)                                       // chksum, as spaces
        header[156] = UInt8(ascii: "0")                                                      // typeflag: regular file
        put(Array("ustar\0".utf8), at: 257, width: 6)                                        // magic
        put(Array("00".utf8), at: 263, width: 2)                                             // version
        put(Array("root".utf8), at: 265, width: 32)                                          // uname
        put(Array("root".utf8), at: 297, width: 32)                                          // gname
        put(octal(0, digits: 7), at: 329, width: 8)                                          // devmajor
        put(octal(0, digits: 7), at: 337, width: 8)                                          // devminor
        let checksum = header.reduce(0) { $0 + Int64($1) }
        put(octal(checksum, digits: 6) + [0x20], at: 148, width: 8)                          // "%06o\0 "
        return header
    }

    /// `value` as zero-padded octal digits followed by a NUL.
    private static func octal(_ value: Int64, digits: Int) -> [UInt8] {
        var text = Array(String(value, radix: 8).utf8)
        precondition(text.count <= digits, "\(value) does not fit \(digits) octal digits")
        text.insert(contentsOf: [UInt8](repeating: UInt8(ascii: "0"), count: digits - text.count), at: 0)
        return text + [0]
    }
}
