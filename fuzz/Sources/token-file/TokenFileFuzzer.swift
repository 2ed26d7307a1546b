import FuzzSupport
import HelmCertServer

/// The static token file (kube-apiserver `--token-auth-file` CSV), as `TokenFileReloader` reads it, and the
/// authenticator built from it.
///
/// Properties beyond "no crash":
/// - every entry's token authenticates as that entry's user (so the parser's entries and the digest table
///   agree, duplicates included);
/// - no warning and no skipped record's error names a token: a first field that looks like a real token (16
///   or more letters, digits, `.`, `_` or `-`) never appears in their text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    let file = TokenFile(parsing: bytes)
    let tokens = tokenLikeFirstFields(bytes)
    for error in file.skipped {
        require(error.line >= 1, "a skipped record on line \(error.line)")
        for token in tokens { require(!error.description.contains(token), "a skip names a token: \(error)") }
    }
    let authenticator = StaticTokenAuthenticator(tokenFile: file)
    require(authenticator.count == file.entries.count, "\(authenticator.count) users for \(file.entries.count) entries")
    for entry in file.entries {
        require(
            authenticator.user(forToken: entry.token) == entry.user,
            "an entry's token does not authenticate as its user \(entry.user.name)")
    }
    for token in tokens {
        for warning in file.warnings { require(!warning.contains(token), "a warning names a token: \(warning)") }
    }
    return 0
}

/// The first comma-separated field of every line (quotes removed) that looks like a real bearer token.
func tokenLikeFirstFields(_ bytes: [UInt8]) -> [String] {
    bytes.split(separator: UInt8(ascii: "\n")).compactMap { line in
        let field = line.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)[0]
            .filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\r") }
        guard field.count >= 16, field.allSatisfy(isTokenByte) else { return nil }
        return String(decoding: field, as: UTF8.self)
    }
}

func isTokenByte(_ c: UInt8) -> Bool {
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
}
