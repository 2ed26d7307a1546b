import CText
import Testing

/// `String(cText:)`: what the server reads back from the C buffers it hands to OpenSSL, libcurl and the resolver.
@Suite struct CTextTests {
    static func buffer(_ bytes: [UInt8]) -> [CChar] { bytes.map { CChar(bitPattern: $0) } }

    @Test func theTextEndsAtTheFirstNUL() {
        #expect(String(cText: Self.buffer(Array("127.0.0.1".utf8) + [0, 0x41, 0x42, 0])) == "127.0.0.1")
    }

    @Test func aBufferWithoutNULIsReadToItsEndAndNoFurther() {
        let memory = Self.buffer(Array("abcdef".utf8))
        #expect(String(cText: memory) == "abcdef")
        memory.withUnsafeBufferPointer { all in
            // A C buffer of capacity 3 inside larger memory: the bytes after it are never read.
            #expect(String(cText: UnsafeBufferPointer(rebasing: all[..<3])) == "abc")
        }
        #expect(String(cText: memory[2..<4]) == "cd")
    }

    @Test func anEmptyBufferAndALeadingNULAreTheEmptyString() {
        #expect(String(cText: [CChar]()) == "")
        #expect(String(cText: Self.buffer([0, 0x41])) == "")
    }

    @Test func invalidUTF8IsRepairedNotTrusted() {
        // A lone continuation byte, a truncated two-byte sequence, an overlong encoding of "/".
        let text = String(cText: Self.buffer([0x61, 0x80, 0x62, 0xC3, 0x00]))
        #expect(text == "a\u{FFFD}b\u{FFFD}")
        #expect(String(cText: Self.buffer([0xC0, 0xAF, 0x7A])) == "\u{FFFD}\u{FFFD}z")
    }

    @Test func multiByteUTF8IsKept() {
        #expect(String(cText: Self.buffer(Array("CN=Jürgen 😀".utf8) + [0])) == "CN=Jürgen 😀")
    }
}
