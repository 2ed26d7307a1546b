import Foundation
import HelmBundle
import Testing
import TestSupport

@Suite("BundleFiles(directory:) reads a mounted secret volume")
struct BundleFilesDirectoryTests {
    /// Lays `files` out as a kubelet does: `..data/KEY` files and `KEY -> ..data/KEY` symlinks.
    private func mount(_ files: BundleFiles, keys: BundleKeys) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory("secret-volume")
        try FileManager.default.createDirectory(atPath: directory.file("..data"), withIntermediateDirectories: true)
        for (name, bytes) in [(keys.ca, files.ca), (keys.certificate, files.certificate), (keys.key, files.key)] {
            try directory.write("..data/\(name)", bytes, mode: 0o644)
            try FileManager.default.createSymbolicLink(atPath: directory.file(name), withDestinationPath: "..data/\(name)")
        }
        return directory
    }

    @Test("reads raw (not base64) files named by Kyma's keys, through symlinks", arguments: [BundleKeys.kyma, .kubernetesTLS])
    func readsKeys(_ keys: BundleKeys) throws {
        let files = try PKIFixtures.goodBundle(.rsa)
        let directory = try mount(files, keys: keys)
        defer { directory.remove() }
        let read = try BundleFiles(directory: directory.path)
        #expect(read == files)
        #expect(read.keys == keys)
    }

    @Test("a file larger than 64 KiB is not read: the error names its key and the bound")
    func oversizedFile() throws {
        let files = try PKIFixtures.goodBundle()
        let directory = try mount(files, keys: .kyma)
        defer { directory.remove() }
        let padded = files.ca + [UInt8](repeating: UInt8(ascii: "\n"), count: BundleFiles.directoryFileLimit + 1 - files.ca.count)
        try directory.write("..data/global.helm.ca.crt", padded)
        let error = try #require(throws: BundleError.self) { try BundleFiles(directory: directory.path) }
        #expect(error.key == "global.helm.ca.crt")
        #expect(error.reason.contains("larger than 64 KiB"))
        // One byte less is within the bound (and still a valid PEM file).
        try directory.write("..data/global.helm.ca.crt", Array(padded.dropLast()))
        #expect(try BundleFiles(directory: directory.path).ca.count == BundleFiles.directoryFileLimit)
    }

    @Test("names the missing file's Kyma key when neither name exists")
    func missingFile() throws {
        let files = try PKIFixtures.goodBundle()
        let directory = try mount(files, keys: .kyma)
        defer { directory.remove() }
        try FileManager.default.removeItem(atPath: directory.file("global.helm.tls.crt"))
        let error = try #require(throws: BundleError.self) { try BundleFiles(directory: directory.path) }
        #expect(error.key == "global.helm.tls.crt")
        #expect(error.reason.contains("missing from \(directory.path)"))
    }

    @Test("names the key, the failing call and the reason when a file is there but cannot be read")
    func unreadableFile() throws {
        let files = try PKIFixtures.goodBundle()
        let directory = try mount(files, keys: .kyma)
        defer { directory.remove() }
        // A directory where the key file should be: open succeeds, read fails with EISDIR (even for root).
        try FileManager.default.removeItem(atPath: directory.file("global.helm.tls.key"))
        try FileManager.default.createDirectory(atPath: directory.file("global.helm.tls.key"), withIntermediateDirectories: false)
        let error = try #require(throws: BundleError.self) { try BundleFiles(directory: directory.path) }
        #expect(error.key == "global.helm.tls.key")
        #expect(error.reason == "could not be read from \(directory.path): read failed: Is a directory; check the volume mount and the file's permissions.")
    }

    @Test("checks PEM contents like the secret decoder does")
    func checksPEM() throws {
        let files = try PKIFixtures.goodBundle()
        let directory = try mount(BundleFiles(ca: files.key, certificate: files.certificate, key: files.key), keys: .kyma)
        defer { directory.remove() }
        let error = try #require(throws: BundleError.self) { try BundleFiles(directory: directory.path) }
        #expect(error.key == "global.helm.ca.crt")
        #expect(error.reason.contains("private key, not a certificate"))
    }
}
