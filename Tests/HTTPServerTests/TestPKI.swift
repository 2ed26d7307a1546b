import TestSupport

/// Throwaway ECDSA P-256 certificates made with the real `openssl` CLI, in a temporary directory.
struct TestPKI: Sendable {
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory("http-server-pki") }

    /// A self-signed CA; returns the paths of its certificate and key.
    func makeCA(_ name: String) throws -> (certificate: String, key: String) {
        let cert = directory.file("\(name).pem"), key = directory.file("\(name).key")
        try run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-subj", "/CN=\(name)", "-days", "2",
        ])
        return (cert, key)
    }

    /// A leaf certificate for `commonName` signed by `ca`: for a server (SAN 127.0.0.1, localhost) or a
    /// client (clientAuth). Returns the paths of its certificate and key.
    func issue(
        _ name: String, commonName: String, ca: (certificate: String, key: String), client: Bool = false
    ) throws -> (certificate: String, key: String) {
        let cert = directory.file("\(name).pem"), key = directory.file("\(name).key")
        let csr = directory.file("\(name).csr"), ext = directory.file("\(name).ext")
        try directory.write(
            "\(name).ext",
            client
                ? "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n"
                : "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
        try run([
            "openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=\(commonName)",
        ])
        try run([
            "openssl", "x509", "-req", "-in", csr, "-CA", ca.certificate, "-CAkey", ca.key,
            "-set_serial", "\(UInt32.random(in: 1...UInt32.max))", "-days", "2", "-extfile", ext, "-out", cert,
        ])
        return (cert, key)
    }

    func remove() { directory.remove() }

    private func run(_ arguments: [String]) throws {
        let result = try runCommand(arguments)
        guard result.status == 0 else { throw PKIError(command: arguments.joined(separator: " "), output: result.stderrText) }
    }
}

struct PKIError: Error, CustomStringConvertible {
    var command: String
    var output: String
    var description: String { "\(command) failed: \(output)" }
}
