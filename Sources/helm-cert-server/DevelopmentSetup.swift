import HTTPServer
import HelmBundle
import HelmCertServer

#if canImport(Glibc)
import Glibc
#endif

/// `--dev`: a generated PKI, a random token, and the files the TLS server reads (it loads and reloads its
/// certificate from files), in a private temporary directory (mode 0700) that the command removes on every
/// exit: stop signals, a failed start, an error. Only SIGKILL or a crash leaves it behind; the welcome names it.
struct DevelopmentSetup {
    let pki: DevelopmentPKI
    let directory: String
    let token: String

    /// What the service is configured with: the PKI, the TLS files and the token.
    var material: DevelopmentMaterial {
        DevelopmentMaterial(
            pki: pki,
            tls: TLSConfiguration(certificateChainFile: "\(directory)/server.pem", privateKeyFile: "\(directory)/server-key.pem"),
            // A generated token is hex, so it needs no CSV quoting. The developer runs this server, so reads the ledger.
            tokens: TokenFile(parsing: Array("\(token),developer,developer,\"\(HelmCertResponder.ledgerReadersGroup)\"\n".utf8)))
    }

    /// - Parameter temporaryDirectory: where to make the directory (``ServicePlan/Development/temporaryDirectory``).
    static func create(temporaryDirectory: String) throws -> DevelopmentSetup {
        let pki = try DevelopmentPKI.generate()
        var template = Array("\(temporaryDirectory)/helm-cert-server-dev-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw ServiceError("--dev: cannot create a temporary directory: \(String(cString: strerror(errno)))")
        }
        let setup = DevelopmentSetup(pki: pki, directory: String(cString: made), token: hexString(randomBytes(24)))
        do {
            try write(pki.serverCertificateChainPEM, to: "\(setup.directory)/server.pem", mode: 0o644)
            try write(pki.serverKeyPEM, to: "\(setup.directory)/server-key.pem", mode: 0o600)
            try write(pki.bundle.ca, to: "\(setup.directory)/ca.pem", mode: 0o644)
        } catch {
            setup.remove()
            throw error
        }
        return setup
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
            files: \(directory) (server certificate, its key, CA; removed when this process exits)

            Fetch the bundle into the Helm 2 client's home:
              mkdir -p "${HELM_HOME:-$HOME/.helm}"
              curl -fsS \(cacert)-H "Authorization: Bearer \(token)" \(base)/v1/bundles/helm/bundle.tar.gz | tar -xz -C "${HELM_HOME:-$HOME/.helm}"
            Or get a personal certificate of your own (valid 8h; ?ttl=30m for less), signed by the same CA:
              curl -fsS -X POST \(cacert)-H "Authorization: Bearer \(token)" \(base)/v1/bundles/helm/personal.tar.gz | tar -xz -C "${HELM_HOME:-$HOME/.helm}"
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
