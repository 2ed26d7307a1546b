import CLibSSL
import CSSLShims

/// A PKCS#10 certificate signing request, checked: one PEM block, signature valid, key of an allowed kind, not
/// asking for a CA. Only its public key is used: the subject and the extensions of a personal certificate are
/// the service's to set (the caller's identity, clientAuth), so whatever else the request asks for is ignored.
public struct CertificateSigningRequest: Sendable {
    /// The most bytes a PEM request may have: 16 KiB. A CSR for an RSA-8192 key (the largest accepted) with a
    /// subject of three attributes is 3,065 bytes, so this leaves room to spare while bounding what is buffered
    /// and parsed per request.
    public static let maximumPEMSize = 16 * 1024

    /// The PEM labels accepted: `CERTIFICATE REQUEST`, and `NEW CERTIFICATE REQUEST` as Netscape-era tools
    /// (and some Windows ones) still write it.
    public static let pemLabels: Set<String> = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"]

    /// The key to issue the certificate for.
    public let publicKey: PublicKey

    /// Parses and checks a PEM request.
    ///
    /// Order matters for cost and for the message: size first (nothing larger is even scanned), then PEM
    /// structure, then parsing, then the key's kind (before the signature, so an oversized RSA key costs no
    /// verification), then the signature, then the CA question.
    ///
    /// - Parameter pem: the request body.
    /// - Throws: ``CertificateSigningRequestError``, whose description is fit for the sender.
    public init(pem: [UInt8]) throws(CertificateSigningRequestError) {
        guard pem.count <= Self.maximumPEMSize else { throw .tooLarge(bytes: pem.count) }
        guard pem.contains(where: { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }) else { throw .empty }
        let labels = PEMContents(scanning: pem).labels
        guard !labels.isEmpty else { throw .notPEM }
        guard labels.count == 1 else { throw .severalPEMBlocks(count: labels.count) }
        guard Self.pemLabels.contains(labels[0]) else { throw .wrongPEMLabel(labels[0]) }

        let request = withOptionalReadingBIO(pem) { bio in PEM_read_bio_X509_REQ(bio, nil, nil, nil) } ?? nil
        guard let request else { throw .unreadable(drainErrorQueue()) }
        defer { X509_REQ_free(request) }
        drainErrorQueue()

        guard let key = X509_REQ_get_pubkey(request) else { throw .unreadable(drainErrorQueue()) }
        publicKey = try PublicKey.checked(owning: key)
        guard X509_REQ_verify(request, publicKey.pointer) == 1 else {
            drainErrorQueue()
            throw .badSignature
        }
        switch cshim_X509_REQ_requests_ca(request) {
        case 0: break
        case 1: throw .requestsCertificateAuthority
        default:
            drainErrorQueue()
            throw .unreadableExtensions
        }
    }
}
