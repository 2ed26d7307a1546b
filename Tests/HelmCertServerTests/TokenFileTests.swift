import Testing
@testable import HelmCertServer

@Suite("Static token file (kube-apiserver --token-auth-file format)")
struct TokenFileTests {
    private func parse(_ text: String) -> TokenFile { TokenFile(parsing: Array(text.utf8)) }

    @Test("token,user,uid lines give users; a quoted fourth field gives groups")
    func parsesUsersAndGroups() throws {
        let file = parse("""
            abc123,alice,1001
            def456,ci-bot,1002,"system:ci,developers"
            """)
        #expect(file.entries.count == 2)
        #expect(file.entries[0].token == "abc123")
        #expect(file.entries[0].user == TokenUser(name: "alice", uid: "1001", groups: []))
        #expect(file.entries[1].user == TokenUser(name: "ci-bot", uid: "1002", groups: ["system:ci", "developers"]))
    }

    @Test("blank lines and CRLF line ends are accepted")
    func blankLinesAndCRLF() throws {
        let file = parse("\r\na,alice,1\r\n\r\nb,bob,2\r\n")
        #expect(file.entries.map(\.user.name) == ["alice", "bob"])
    }

    @Test("quoted fields may hold commas and escaped quotes")
    func quotedFields() throws {
        let file = parse("\"to,ken\",\"al\"\"ice\",1\n")
        #expect(file.entries.first?.token == "to,ken")
        #expect(file.entries.first?.user.name == "al\"ice")
    }

    @Test("a repeated token keeps its last line and is reported without the token")
    func duplicateTokens() throws {
        let file = parse("tok,alice,1\ntok,bob,2\n")
        #expect(file.entries.count == 1)
        #expect(file.entries[0].user.name == "bob")
        #expect(file.warnings == ["line 2: duplicate token, this line replaces an earlier one"])
        #expect(!file.warnings.joined().contains("tok,"))
    }

    @Test("an empty token is skipped with a warning")
    func emptyToken() throws {
        let file = parse(",alice,1\nb,bob,2\n")
        #expect(file.entries.map(\.user.name) == ["bob"])
        #expect(file.warnings == ["line 1: empty token, line skipped"])
    }

    @Test(
        "a malformed record is skipped naming its line, never its token, and the lines after it apply",
        arguments: [
            // (file, the line named, the users that remain)
            ("secret-token-1,alice\nb,bob,2\n", 1, ["bob"]),
            ("a,alice,1\nsecret-token-2\nc,carol,3\n", 2, ["alice", "carol"]),
            // A quote inside an unquoted field (Go: ErrBareQuote), also after a leading space.
            ("a,alice,1\nsecret\"token,bob,2\nc,carol,3\n", 2, ["alice", "carol"]),
            ("a,alice,1\n \"secret-token\",bob,2\n", 2, ["alice"]),
            // Text after a closing quote (Go: ErrQuote).
            ("\"secret\"x,alice,1\nb,bob,2\n", 1, ["bob"]),
            ("a,alice,1\n\"secret\" ,bob,2\nc,carol,3\n", 2, ["alice", "carol"]),
            // A quote never closed runs to the end of the file, as Go's reader reads it: fewer tokens, never more.
            ("a,alice,1\n\"secret-token-3,bob,2\nc,carol,3\n", 2, ["alice"]),
        ])
    func malformedRecordSkipped(text: String, line: Int, remaining: [String]) {
        let file = parse(text)
        #expect(file.entries.map(\.user.name) == remaining)
        #expect(file.skipped.map(\.line) == [line])
        #expect(file.skipped.allSatisfy { !$0.description.contains("secret") && $0.description.contains("line \(line)") })
    }

    @Test("quoting as Go's encoding/csv: a quoted field may span lines; CRLF inside it counts as LF")
    func quotedLineBreaks() {
        let file = parse("a,\"al\r\nice\",1\nb,bob,2,\"x,\ny\"\n")
        #expect(file.entries.map(\.user.name) == ["al\nice", "bob"])
        #expect(file.entries[1].user.groups == ["x", "\ny"])
        #expect(file.skipped.isEmpty)
    }

    @Test("a whitespace-only line is a record (too few fields), not a blank line; a final CR is dropped")
    func whitespaceLines() {
        let file = parse("a,alice,1\n \nb,bob,2\r")
        #expect(file.entries.map(\.user.uid) == ["1", "2"])
        #expect(file.skipped.map(\.line) == [2])
    }

    @Test("a record that is not UTF-8 is skipped rather than matched against a mangled token")
    func invalidUTF8() {
        let file = TokenFile(parsing: Array("a,alice,1\n".utf8) + [0x74, 0xFF, 0x2C] + Array("bob,2\n".utf8))
        #expect(file.entries.map(\.user.name) == ["alice"])
        #expect(file.skipped.map(\.line) == [2])
    }
}

@Suite("Bearer token checks")
struct StaticTokenAuthenticatorTests {
    @Test("known tokens map to their user; unknown, empty and prefix tokens do not")
    func lookup() throws {
        let file = TokenFile(parsing: Array("abc123,alice,1\nxyz789,bob,2,admins\n".utf8))
        let auth = StaticTokenAuthenticator(tokenFile: file)
        #expect(auth.user(forToken: "abc123")?.name == "alice")
        #expect(auth.user(forToken: "xyz789")?.groups == ["admins"])
        #expect(auth.user(forToken: "abc12") == nil)
        #expect(auth.user(forToken: "abc1234") == nil)
        #expect(auth.user(forToken: "") == nil)
    }

    @Test("replacing the table drops old tokens")
    func replace() throws {
        let auth = StaticTokenAuthenticator(tokenFile: TokenFile(parsing: Array("old,alice,1\n".utf8)))
        auth.replace(with: TokenFile(parsing: Array("new,alice,1\n".utf8)))
        #expect(auth.user(forToken: "old") == nil)
        #expect(auth.user(forToken: "new")?.name == "alice")
    }
}
