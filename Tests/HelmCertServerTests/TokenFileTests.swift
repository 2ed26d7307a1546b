import Testing
@testable import HelmCertServer

@Suite("Static token file (kube-apiserver --token-auth-file format)")
struct TokenFileTests {
    private func parse(_ text: String) throws -> TokenFile { try TokenFile(parsing: Array(text.utf8)) }

    @Test("token,user,uid lines give users; a quoted fourth field gives groups")
    func parsesUsersAndGroups() throws {
        let file = try parse("""
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
        let file = try parse("\r\na,alice,1\r\n\r\nb,bob,2\r\n")
        #expect(file.entries.map(\.user.name) == ["alice", "bob"])
    }

    @Test("quoted fields may hold commas and escaped quotes")
    func quotedFields() throws {
        let file = try parse("\"to,ken\",\"al\"\"ice\",1\n")
        #expect(file.entries.first?.token == "to,ken")
        #expect(file.entries.first?.user.name == "al\"ice")
    }

    @Test("a repeated token keeps its last line and is reported without the token")
    func duplicateTokens() throws {
        let file = try parse("tok,alice,1\ntok,bob,2\n")
        #expect(file.entries.count == 1)
        #expect(file.entries[0].user.name == "bob")
        #expect(file.warnings == ["line 2: duplicate token, this line replaces an earlier one"])
        #expect(!file.warnings.joined().contains("tok,"))
    }

    @Test("an empty token is skipped with a warning")
    func emptyToken() throws {
        let file = try parse(",alice,1\nb,bob,2\n")
        #expect(file.entries.map(\.user.name) == ["bob"])
        #expect(file.warnings == ["line 1: empty token, line skipped"])
    }

    @Test(
        "malformed files are refused naming the line, never the token",
        arguments: [
            ("secret-token-1,alice\n", 1),
            ("a,alice,1\nsecret-token-2\n", 2),
            ("a,alice,1\n\"secret-token-3,bob,2\n", 2),
            ("\"secret\"x,alice,1\n", 1),
        ])
    func malformed(text: String, line: Int) {
        #expect {
            try TokenFile(parsing: Array(text.utf8))
        } throws: { error in
            guard let error = error as? TokenFileError else { return false }
            return error.line == line && !error.description.contains("secret")
        }
    }
}

@Suite("Bearer token checks")
struct StaticTokenAuthenticatorTests {
    @Test("known tokens map to their user; unknown, empty and prefix tokens do not")
    func lookup() throws {
        let file = try TokenFile(parsing: Array("abc123,alice,1\nxyz789,bob,2,admins\n".utf8))
        let auth = StaticTokenAuthenticator(tokenFile: file)
        #expect(auth.user(forToken: "abc123")?.name == "alice")
        #expect(auth.user(forToken: "xyz789")?.groups == ["admins"])
        #expect(auth.user(forToken: "abc12") == nil)
        #expect(auth.user(forToken: "abc1234") == nil)
        #expect(auth.user(forToken: "") == nil)
    }

    @Test("replacing the table drops old tokens")
    func replace() throws {
        let auth = StaticTokenAuthenticator(tokenFile: try TokenFile(parsing: Array("old,alice,1\n".utf8)))
        auth.replace(with: try TokenFile(parsing: Array("new,alice,1\n".utf8)))
        #expect(auth.user(forToken: "old") == nil)
        #expect(auth.user(forToken: "new")?.name == "alice")
    }
}
