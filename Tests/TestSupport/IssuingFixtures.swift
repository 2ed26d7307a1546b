// Fixtures for personal client certificates (issue 16): CSRs and issuer Secrets, made by the real `openssl`.
import Foundation
import HelmBundle

extension PKIFixtures {
    /// An `openssl.cnf` for `req` with nothing in it: no extensions from the system's configuration come along.
    private static let emptyRequestConfiguration = "[ req ]\ndistinguished_name = dn\n[ dn ]\n"

    /// `openssl verify -CAfile ca.pem -purpose sslclient cert.pem`: whether `certificatePEM` chains to `caPEM` as a
    /// TLS client certificate, as Tiller checks it.
    public static func verifyClientCertificate(_ certificatePEM: [UInt8], caPEM: [UInt8]) throws -> CommandResult {
        let directory = try TemporaryDirectory("verify-client")
        defer { directory.remove() }
        try directory.write("ca.pem", caPEM)
        try directory.write("cert.pem", certificatePEM)
        return try runCommand(["openssl", "verify", "-CAfile", directory.file("ca.pem"), "-purpose", "sslclient", directory.file("cert.pem")])
    }

    /// An issuer Secret's decoded `data` holding `authority` under `keys` (`ca.crt` + `ca.key` by default).
    public static func issuerSecretData(
        _ authority: Credential, keys: IssuerSecretKeys = .certificateAuthority
    ) -> [String: [UInt8]] {
        [keys.certificate: authority.certificatePEM, keys.key: authority.keyPEM]
    }

    /// A PEM certificate signing request made by `openssl req -new`, with its key.
    ///
    /// - Parameters:
    ///   - newKey: `openssl req -newkey`'s argument and options, e.g. `["ec", "-pkeyopt",
    ///     "ec_paramgen_curve:P-256"]` (the default), `["rsa:2048"]`, `["ed25519"]`.
    ///   - subject: the requested subject (ignored by the service).
    ///   - extensions: `-addext` values, e.g. `["basicConstraints=critical,CA:TRUE"]`.
    public static func certificateSigningRequest(
        newKey: [String] = ["ec", "-pkeyopt", "ec_paramgen_curve:P-256"], subject: String = "/CN=me",
        extensions: [String] = []
    ) throws -> (csrPEM: [UInt8], keyPEM: [UInt8]) {
        let directory = try TemporaryDirectory("csr-fixture")
        defer { directory.remove() }
        try directory.write("openssl.cnf", emptyRequestConfiguration)
        try openssl(
            ["req", "-new", "-config", directory.file("openssl.cnf"), "-newkey"] + newKey
                + ["-nodes", "-subj", subject, "-keyout", directory.file("key.pem"), "-out", directory.file("req.csr")]
                + extensions.flatMap { ["-addext", $0] })
        return (try directory.read("req.csr"), try directory.read("key.pem"))
    }

    /// A self-signed certificate made by `openssl req -x509` with exactly `extensions` (`-addext` values, none
    /// from the system's configuration), and its ECDSA P-256 key.
    public static func selfSigned(subject: String = "/O=kyma/CN=tiller-ca", extensions: [String]) throws -> Credential {
        let directory = try TemporaryDirectory("self-signed-fixture")
        defer { directory.remove() }
        try directory.write("openssl.cnf", emptyRequestConfiguration)
        try openssl(
            ["req", "-x509", "-new", "-config", directory.file("openssl.cnf"), "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-subj", subject, "-days", "30", "-sha256",
             "-keyout", directory.file("key.pem"), "-out", directory.file("cert.pem")]
                + extensions.flatMap { ["-addext", $0] })
        return Credential(certificatePEM: try directory.read("cert.pem"), keyPEM: try directory.read("key.pem"))
    }

    /// `authority`'s certificate made again from its key and subject (a renewal): new serial and validity,
    /// same subject and public key.
    public static func renewed(_ authority: Credential, subject: String = "/O=kyma/CN=tiller-ca") throws -> Credential {
        let directory = try TemporaryDirectory("renewed-fixture")
        defer { directory.remove() }
        try directory.write("ca.key", authority.keyPEM)
        try directory.write(
            "openssl.cnf",
            emptyRequestConfiguration + "[ ca ]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n")
        try openssl([
            "req", "-x509", "-new", "-config", directory.file("openssl.cnf"), "-extensions", "ca",
            "-key", directory.file("ca.key"), "-subj", subject, "-days", "100", "-sha256", "-out", directory.file("ca.pem"),
        ])
        return Credential(certificatePEM: try directory.read("ca.pem"), keyPEM: authority.keyPEM)
    }
}
