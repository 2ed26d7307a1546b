import FuzzSupport
@testable import HelmBundle

/// A certificate signing request as `POST /v1/bundles/helm/certificates` receives it: the body →
/// `CertificateSigningRequest(pem:)`, and for an accepted one, a personal certificate from a development CA.
///
/// Properties beyond "no crash": an accepted request is at most `maximumPEMSize` bytes and one PEM block with a
/// CSR label; the certificate issued for it carries the request's public key and chains to the CA; a refusal
/// always tells the sender how to make a good request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCertificateSigningRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = inputBytes(data, size)
    let request: CertificateSigningRequest
    do {
        request = try CertificateSigningRequest(pem: bytes)
    } catch {
        require(
            error.description.contains(CertificateSigningRequestError.exampleCommand)
                || error.description.contains("never send a private key"),
            "a refusal that does not say how to make a good request: \(error)")
        return 0
    }
    require(bytes.count <= CertificateSigningRequest.maximumPEMSize, "accepted \(bytes.count) bytes")
    let labels = PEMContents(scanning: bytes).labels
    require(labels.count == 1 && CertificateSigningRequest.pemLabels.contains(labels[0]), "accepted PEM blocks \(labels)")

    let issued: IssuedCertificate
    do {
        issued = try authority.issueClientCertificate(commonName: "fuzz", publicKey: request.publicKey, ttl: .seconds(3600))
    } catch {
        require(false, "an accepted request could not be issued: \(error)")
        return 0
    }
    guard let leaf = try? Certificate.all(fromPEM: issued.pem, key: "cert.pem").first else {
        require(false, "the issued certificate does not parse")
        return 0
    }
    require(leaf.carries(publicKey: request.publicKey.pointer), "issued for another key")
    require(chainVerifies(leaf: leaf, intermediates: [], anchors: anchors), "the issued certificate does not chain to the CA")
    return 0
}

/// One development CA per fuzzing process.
let pki: DevelopmentPKI = {
    do { return try DevelopmentPKI.generate() } catch { fatalError("\(error)") }
}()
let authority: CertificateAuthority = {
    do { return try CertificateAuthority(secretData: pki.issuerSecretData, bundleCA: pki.bundle.ca) } catch { fatalError("\(error)") }
}()
/// libFuzzer runs inputs on one thread.
nonisolated(unsafe) let anchors: [Certificate] = {
    do { return try Certificate.all(fromPEM: pki.bundle.ca, key: "ca.pem") } catch { fatalError("\(error)") }
}()
