extension String {
    /// The text a C function wrote into `buffer`: the bytes up to the first NUL, or all of `buffer` when it
    /// holds none. Never reads past the end of `buffer` (unlike `String(cString:)`, which trusts a NUL to be
    /// there), and bytes that are not UTF-8 are replaced by U+FFFD rather than trusted, so error text from
    /// OpenSSL, libcurl or the resolver cannot crash or overread whatever it holds.
    ///
    /// - Parameter buffer: the `[CChar]` (or an `UnsafeBufferPointer<CChar>` over a C-allocated buffer, with its
    ///   real capacity) that was passed to the C function.
    @inlinable  // specialized for `[CChar]` in the caller: it runs for every accepted connection's peer address.
    public init(cText buffer: some Collection<CChar>) {
        self.init(decoding: buffer.prefix { $0 != 0 }.lazy.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
