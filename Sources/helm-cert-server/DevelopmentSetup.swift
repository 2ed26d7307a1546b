import HTTPServer
import HelmBundle
import HelmCertServer

#if canImport(Glibc)
import Glibc
#endif

/// `--dev`: a generated PKI, a random token, and the files the TLS server reads, in a private temporary
/// directory (mode 0700) that is removed at exit.
struct DevelopmentSetup {
    let pki: DevelopmentPKI
    let directory: String
    let token: String

    var tls: TLSConfiguration {
        TLSConfiguration(certificateChainFile: "\(directory)/server.pem", privateKeyFile: "\(directory)/server-key.pem")
    }
    var tokens: TokenFile {
        // A generated token is hex, so it needs no CSV quoting.
        TokenFile(parsing: Array("\(token),developer,developer\n".utf8))
    }

    static func create() throws -> DevelopmentSetup {
        let pki = try DevelopmentPKI.generate()
        var template = Array("/tmp/helm-cert-server-dev-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ServiceError("--dev: cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: made)
        try write(pki.serverCertificateChainPEM, to: "\(directory)/server.pem", mode: 0o644)
        try write(pki.serverKeyPEM, to: "\(directory)/server-key.pem", mode: 0o600)
        try write(pki.bundle.ca, to: "\(directory)/ca.pem", mode: 0o644)
        let token = hexString(randomBytes(24))
        return DevelopmentSetup(pki: pki, directory: directory, token: token)
    }

    /// Prints the token and a ready-to-paste curl line on standard output.
    func printWelcome(port: Int, scheme: String, host: String) {
        let shownHost = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : (host.contains(":") ? "[\(host)]" : host)
        let base = "\(scheme)://\(shownHost):\(port)"
        let cacert = scheme == "https" ? "--cacert \(directory)/ca.pem " : ""
        let text = """
            helm-cert-server --dev: serving a generated Helm TLS bundle (no cluster needed) on \(base)
            token: \(token)
            server CA: \(directory)/ca.pem

            Fetch the bundle into a Helm home:
              mkdir -p "$(helm home 2>/dev/null || echo ./helm-home)"
              curl -fsS \(cacert)-H "Authorization: Bearer \(token)" \(base)/v1/bundles/helm/bundle.tar.gz | tar -xz -C "$(helm home 2>/dev/null || echo ./helm-home)"
            One file, or the metadata:
              curl -fsS \(cacert)-H "Authorization: Bearer \(token)" \(base)/v1/bundles/helm/ca.pem
              curl -fsS \(cacert)-H "Authorization: Bearer \(token)" \(base)/v1/bundles/helm

            """
        print(text)
        fflush(nil)
    }

    /// Deletes the temporary directory.
    func remove() {
        for name in ["server.pem", "server-key.pem", "ca.pem"] { unlink("\(directory)/\(name)") }
        rmdir(directory)
    }

    private static func write(_ bytes: [UInt8], to path: String, mode: mode_t) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ServiceError("--dev: cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard writeAll(fd, bytes) else {
            throw ServiceError("--dev: cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
