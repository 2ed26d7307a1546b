#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

import FileContents

extension BundleFiles {
    /// The most bytes read from each file of a directory: 64 KiB. A CA, a certificate and a key are a few KiB
    /// each (a chain with intermediates perhaps 10); anything larger is not a Helm bundle, and reading it every
    /// two seconds would cost memory and time for nothing.
    public static let directoryFileLimit = 64 << 10

    /// A bundle from files named by the secret's keys in `directory` — a mounted secret volume, whose files
    /// hold the raw bytes (not base64).
    ///
    /// Each file is looked up as Kyma's key (`global.helm.ca.crt`, …) and, where that file does not exist,
    /// as the `kubernetes.io/tls` key (`ca.crt`, …).
    ///
    /// - Parameter directory: the volume's mount path, e.g. `/etc/helm-secret`.
    /// - Throws: `BundleError` naming the key whose file was missing, unreadable, larger than
    ///   ``directoryFileLimit``, or not the right kind of PEM.
    public init(directory: String) throws(BundleError) {
        let (caKey, ca) = try Self.fileContents(directory, kyma: BundleKeys.kyma.ca, fallback: BundleKeys.kubernetesTLS.ca)
        let (certificateKey, certificate) = try Self.fileContents(
            directory, kyma: BundleKeys.kyma.certificate, fallback: BundleKeys.kubernetesTLS.certificate)
        let (keyKey, key) = try Self.fileContents(directory, kyma: BundleKeys.kyma.key, fallback: BundleKeys.kubernetesTLS.key)
        self = try BundleFiles(
            ca: ca, certificate: certificate, key: key,
            keys: BundleKeys(ca: caKey, certificate: certificateKey, key: keyKey)
        ).checkingPEMBlocks()
    }

    /// The key whose file was read and its bytes.
    private static func fileContents(
        _ directory: String, kyma: String, fallback: String
    ) throws(BundleError) -> (String, [UInt8]) {
        for key in [kyma, fallback] {
            do {
                return (key, try readFileContents("\(directory)/\(key)", limit: directoryFileLimit))
            } catch where error.errno == ENOENT {
                continue
            } catch where error.errno == EFBIG {
                throw BundleError(
                    key: key,
                    reason: "in \(directory) is larger than \(directoryFileLimit / 1024) KiB, so it is not read; a Helm bundle's files are a few KiB each.")
            } catch {
                throw BundleError(
                    key: key,
                    reason: "could not be read from \(directory): \(error.call) failed: \(error.reason); check the volume mount and the file's permissions.")
            }
        }
        throw BundleError(
            key: kyma,
            reason: "is missing from \(directory) (and so is \(fallback)); mount the secret that holds global.helm.ca.crt, global.helm.tls.crt and global.helm.tls.key (or ca.crt, tls.crt, tls.key) there.")
    }
}
