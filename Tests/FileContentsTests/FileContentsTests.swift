import FileContents
import Glibc
import Testing
import TestSupport

@Suite("readFileContents: small files read with POSIX calls")
struct FileContentsTests {
    @Test("reads every byte, through a symlink; refuses a file over the limit with EFBIG")
    func readsAndLimits() throws {
        let directory = try TemporaryDirectory("file-contents")
        defer { directory.remove() }
        let bytes = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try directory.write("data", bytes)
        #expect(symlink("data", directory.file("link")) == 0)
        #expect(try readFileContents(directory.file("link")) == bytes)
        #expect(try readFileContents(directory.file("data"), limit: 20_000) == bytes)
        let error = try #require(throws: FileReadError.self) { try readFileContents(directory.file("data"), limit: 19_999) }
        #expect(error.call == "read" && error.errno == EFBIG)
    }

    @Test("says which file, which call and why")
    func errors() throws {
        let missing = try #require(throws: FileReadError.self) { try readFileContents("/nonexistent/token") }
        #expect(missing.call == "open" && missing.errno == ENOENT)
        #expect(missing.description == "cannot read /nonexistent/token: No such file or directory")
        let directory = try #require(throws: FileReadError.self) { try readFileContents("/") }
        #expect(directory.call == "read" && directory.errno == EISDIR)
    }
}
