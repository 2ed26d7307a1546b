#if canImport(Glibc)
import Glibc
#endif
import FuzzSupport
import HelmBundle
@testable import HTTPServer

/// PEM files from disk: the directory source (a mounted secret volume: `BundleFiles(directory:)`, then
/// validation) and the server's own loaders (`--tls-cert`/`--tls-key` and `--client-ca`, as `TLSContext`
/// loads them at start and on every reload).
///
/// The input is up to three files separated by a line `--8<--`: the CA, the certificate (chain), the key.
/// They are written to a scratch directory under the Kyma key names or the `kubernetes.io/tls` ones (a choice
/// drawn from the input), then read back by both paths.
///
/// Properties beyond "no crash": the directory source returns exactly the bytes on disk; a bundle that
/// validates says its key matches.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPEMFiles(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    var random = bytes.withUnsafeBytes { InputRandom(seeding: $0) }
    let parts = split(bytes, separator: Array("\n--8<--\n".utf8), maxParts: 3)
    let (ca, certificate, key) = (parts[0], parts.count > 1 ? parts[1] : [], parts.count > 2 ? parts[2] : [])
    let names = random.next(below: 2) == 0 ? BundleKeys.kyma : BundleKeys.kubernetesTLS
    for name in [names.ca, names.certificate, names.key, BundleKeys.kyma.ca, BundleKeys.kyma.certificate, BundleKeys.kyma.key] {
        unlink("\(scratchDirectory)/\(name)")
    }
    write(ca, to: "\(scratchDirectory)/\(names.ca)")
    write(certificate, to: "\(scratchDirectory)/\(names.certificate)")
    write(key, to: "\(scratchDirectory)/\(names.key)")

    if let files = try? BundleFiles(directory: scratchDirectory) {
        require(
            files.ca == ca && files.certificate == certificate && files.key == key,
            "the directory source did not return the bytes on disk")
        if let bundle = try? ValidatedBundle(validating: files) {
            require(bundle.metadata.key.matchesCertificate, "a validated bundle whose key does not match")
        }
    }

    let configuration = TLSConfiguration(
        certificateChainFile: "\(scratchDirectory)/\(names.certificate)",
        privateKeyFile: "\(scratchDirectory)/\(names.key)",
        clientCAFile: "\(scratchDirectory)/\(names.ca)")
    _ = try? TLSContext(configuration, ticketKeys: ticketKeys)
    return 0
}

/// One scratch directory per fuzzing process.
let scratchDirectory: String = {
    var template = Array("/tmp/helm-cert-server-fuzz-XXXXXX".utf8CString)
    guard let path = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
    return String(cString: path)
}()

let ticketKeys: SessionTicketKeys = {
    do { return try SessionTicketKeys(rotation: .seconds(3600), lifetime: .seconds(7200)) }
    catch { fatalError("\(error)") }
}()

func write(_ bytes: [UInt8], to path: String) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fatalError("cannot create \(path): errno \(errno)") }
    defer { close(fd) }
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n > 0 else { fatalError("cannot write \(path): errno \(errno)") }
        written += n
    }
}

/// `bytes` cut at the first `maxParts - 1` occurrences of `separator`.
func split(_ bytes: [UInt8], separator: [UInt8], maxParts: Int) -> [[UInt8]] {
    var parts: [[UInt8]] = []
    var start = 0
    var i = 0
    while i + separator.count <= bytes.count, parts.count < maxParts - 1 {
        if bytes[i..<i + separator.count].elementsEqual(separator) {
            parts.append(Array(bytes[start..<i]))
            i += separator.count
            start = i
        } else {
            i += 1
        }
    }
    parts.append(Array(bytes[start...]))
    return parts
}
