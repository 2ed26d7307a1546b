import HelmBundle
import Testing

@Suite("SHA256")
struct SHA256Tests {
    @Test(
        "matches the FIPS 180-2 test vectors",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (
                "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
            ),
            (
                String(repeating: "a", count: 1_000_000),
                "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
            ),
        ])
    func vectors(input: String, expected: String) {
        #expect(SHA256.hex(Array(input.utf8)) == expected)
        #expect(SHA256.digest(utf8: input) == SHA256.digest(Array(input.utf8)))
    }

    @Test("a token inside a larger string (a Substring) hashes like the token alone")
    func substring() {
        let header = "Bearer 0fcbb116bf9acbe236b547ddf14609cdd8d63aca28a7225c"
        let token = header.dropFirst(7)
        #expect(SHA256.digest(utf8: token) == SHA256.digest(Array("0fcbb116bf9acbe236b547ddf14609cdd8d63aca28a7225c".utf8)))
        #expect(SHA256.digest(utf8: token).count == 32)
    }
}
