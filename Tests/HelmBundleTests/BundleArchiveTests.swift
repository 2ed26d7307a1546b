import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("ValidatedBundle.archive() renders a reproducible bundle.tar.gz")
struct BundleArchiveTests {
    /// A validated good bundle and its archive written to `bundle.tar.gz` in a fresh directory.
    private func archived(_ algorithm: PKIFixtures.Algorithm = .ecdsa) throws -> (ValidatedBundle, TemporaryDirectory) {
        let bundle = try ValidatedBundle(validating: PKIFixtures.goodBundle(algorithm))
        let directory = try TemporaryDirectory("bundle-archive")
        try directory.write("bundle.tar.gz", bundle.archive())
        return (bundle, directory)
    }

    @Test("lists ca.pem, cert.pem 0644 and key.pem 0600, owned by root, dated the cert's notBefore (tar -tvzf)")
    func listedByTar() throws {
        let (bundle, directory) = try archived()
        defer { directory.remove() }
        let listing = try runCommand(["tar", "-tvzf", directory.file("bundle.tar.gz")], environment: ["TZ": "UTC"])
        #expect(listing.status == 0, "\(listing.stderrText)")
        #expect(listing.stderrText.isEmpty, "tar warned: \(listing.stderrText)")

        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        let date = formatter.string(from: try #require(bundle.metadata.certificates["cert.pem"]).notBefore)
        let rows = listing.stdoutText.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows == [
            ["-rw-r--r--", "root/root", "\(bundle.files.ca.count)", date.components(separatedBy: " ")[0], date.components(separatedBy: " ")[1], "ca.pem"],
            ["-rw-r--r--", "root/root", "\(bundle.files.certificate.count)", date.components(separatedBy: " ")[0], date.components(separatedBy: " ")[1], "cert.pem"],
            ["-rw-------", "root/root", "\(bundle.files.key.count)", date.components(separatedBy: " ")[0], date.components(separatedBy: " ")[1], "key.pem"],
        ])
    }

    @Test("extracts to files byte-identical to the bundle (tar -xzf)")
    func extractedByTar() throws {
        let (bundle, directory) = try archived(.rsa)
        defer { directory.remove() }
        try FileManager.default.createDirectory(atPath: directory.file("out"), withIntermediateDirectories: true)
        let extraction = try runCommand(["tar", "-xzf", directory.file("bundle.tar.gz"), "-C", directory.file("out")])
        #expect(extraction.status == 0, "\(extraction.stderrText)")
        #expect(try directory.read("out/ca.pem") == bundle.files.ca)
        #expect(try directory.read("out/cert.pem") == bundle.files.certificate)
        #expect(try directory.read("out/key.pem") == bundle.files.key)
        let keyMode = try FileManager.default.attributesOfItem(atPath: directory.file("out/key.pem"))[.posixPermissions] as? Int
        #expect(keyMode == 0o600)
    }

    @Test("reads back with Python's tarfile: names, modes, regular files, owner, mtime, bytes")
    func readByPythonTarfile() throws {
        let (bundle, directory) = try archived()
        defer { directory.remove() }
        let script = """
            import json, sys, tarfile
            with tarfile.open(sys.argv[1], "r:gz") as archive:
                print(json.dumps([
                    {"name": m.name, "mode": m.mode, "regular": m.type == tarfile.REGTYPE, "uid": m.uid, "gid": m.gid,
                     "uname": m.uname, "gname": m.gname, "mtime": m.mtime, "hex": archive.extractfile(m).read().hex()}
                    for m in archive.getmembers()]))
            """
        let result = try runCommand(["python3", "-c", script, directory.file("bundle.tar.gz")])
        #expect(result.status == 0, "\(result.stderrText)")

        struct Member: Decodable, Equatable {
            var name: String, mode: Int, regular: Bool, uid: Int, gid: Int, uname: String, gname: String, mtime: Int, hex: String
        }
        let members = try JSONDecoder().decode([Member].self, from: Data(result.stdout))
        let mtime = Int(try #require(bundle.metadata.certificates["cert.pem"]).notBefore.timeIntervalSince1970)
        func member(_ name: String, _ mode: Int, _ bytes: [UInt8]) -> Member {
            Member(name: name, mode: mode, regular: true, uid: 0, gid: 0, uname: "root", gname: "root", mtime: mtime,
                   hex: bytes.map { String(format: "%02x", $0) }.joined())
        }
        #expect(members == [
            member("ca.pem", 0o644, bundle.files.ca),
            member("cert.pem", 0o644, bundle.files.certificate),
            member("key.pem", 0o600, bundle.files.key),
        ])
    }

    @Test("gives the same bytes every time and on every replica")
    func reproducible() throws {
        let files = try PKIFixtures.goodBundle()
        let first = try ValidatedBundle(validating: files)
        let second = try ValidatedBundle(validating: files)  // as another replica would, from the same secret
        #expect(first.archive() == first.archive())
        #expect(first.archive() == second.archive())
        #expect(first.metadataJSON() == second.metadataJSON())
    }

    @Test("is gzip with header mtime 0 and OS byte 3, ending in two zero blocks")
    func gzipHeaderAndTrailer() throws {
        let (bundle, directory) = try archived()
        defer { directory.remove() }
        let archive = bundle.archive()
        #expect(Array(archive.prefix(4)) == [0x1F, 0x8B, 0x08, 0x00], "gzip magic, deflate, no flags")
        #expect(Array(archive[4..<8]) == [0, 0, 0, 0], "header mtime 0")
        #expect(archive[9] == 3, "OS byte: Unix")

        let tar = try runCommand(["gzip", "-dc", directory.file("bundle.tar.gz")])
        #expect(tar.status == 0)
        let padded = { (count: Int) in (count + 511) / 512 * 512 }
        let expectedSize = 3 * 512 + padded(bundle.files.ca.count) + padded(bundle.files.certificate.count)
            + padded(bundle.files.key.count) + 2 * 512
        #expect(tar.stdout.count == expectedSize)
        #expect(tar.stdout.suffix(1024).allSatisfy { $0 == 0 })
        #expect(String(decoding: tar.stdout[257..<263], as: UTF8.self) == "ustar\0")
    }
}
