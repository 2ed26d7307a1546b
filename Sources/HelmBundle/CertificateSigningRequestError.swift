/// Why a certificate signing request was refused. Each ``description`` is written for the person who sent the
/// CSR (an HTTP 400 problem `detail`): what was wrong, and how to make a right one. Never echoes the request.
public enum CertificateSigningRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body was empty (or only whitespace).
    case empty
    /// The body was larger than ``CertificateSigningRequest/maximumPEMSize``; carries its size in bytes.
    case tooLarge(bytes: Int)
    /// The body held no complete PEM block (DER, other text, or a block cut short).
    case notPEM
    /// The body held more than one PEM block; carries how many.
    case severalPEMBlocks(count: Int)
    /// The one PEM block was not a CSR; carries its label, e.g. `"CERTIFICATE"`.
    case wrongPEMLabel(String)
    /// The PEM block's contents did not parse as a PKCS#10 request; carries OpenSSL's reason.
    case unreadable(String)
    /// The request's signature does not verify with its own public key (it was altered, or is not a CSR).
    case badSignature
    /// The key is neither RSA nor ECDSA; carries OpenSSL's short name, e.g. `"ED25519"`.
    case unsupportedKeyType(String)
    /// The ECDSA key is on a curve other than P-256 or P-384; carries the curve's name.
    case unsupportedCurve(String)
    /// The RSA key has fewer than ``PublicKey/minimumRSABits`` or more than ``PublicKey/maximumRSABits`` bits.
    case rsaKeySize(bits: Int)
    /// The request asks for a CA certificate (basicConstraints CA:TRUE).
    case requestsCertificateAuthority
    /// The request's extension request (or its basicConstraints) does not decode.
    case unreadableExtensions

    /// The command that makes a good request, quoted in every description.
    public static let exampleCommand =
        "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=me -keyout key.pem -out req.csr"

    private static let howTo =
        "Make one with: \(exampleCommand) (the subject is ignored: the certificate names you as you signed in), and send req.csr, never key.pem."

    public var description: String {
        switch self {
        case .empty:
            "The request body is empty; it must be a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST-----). \(Self.howTo)"
        case .tooLarge(let bytes):
            "The certificate signing request is \(bytes) bytes; at most \(CertificateSigningRequest.maximumPEMSize) are accepted (a CSR for an RSA-8192 key is about 3,000). \(Self.howTo)"
        case .notPEM:
            "The request body holds no complete PEM block; it must be a PEM certificate signing request (-----BEGIN CERTIFICATE REQUEST----- … -----END CERTIFICATE REQUEST-----), not DER or a truncated file. \(Self.howTo)"
        case .severalPEMBlocks(let count):
            "The request body holds \(count) PEM blocks; send exactly one certificate signing request and nothing else. \(Self.howTo)"
        case .wrongPEMLabel(let label) where PEMContents.privateKeyLabels.contains(label) || label == "ENCRYPTED PRIVATE KEY":
            "The request body is a private key (\(label)); never send a private key anywhere. Send a certificate signing request made from it: openssl req -new -key key.pem -subj /CN=me -out req.csr."
        case .wrongPEMLabel(let label):
            "The request body is a PEM \(label), not a CERTIFICATE REQUEST. \(Self.howTo)"
        case .unreadable(let reason):
            "The certificate signing request does not parse as PKCS#10 (\(reason)); it may be truncated or corrupted. \(Self.howTo)"
        case .badSignature:
            "The certificate signing request's signature does not verify with its own public key, so it was altered after it was signed. Send the file openssl wrote, unchanged. \(Self.howTo)"
        case .unsupportedKeyType(let type):
            "The certificate signing request is for a key of type \(type); only ECDSA (P-256, P-384) and RSA (\(PublicKey.minimumRSABits)–\(PublicKey.maximumRSABits) bits) keys are accepted. \(Self.howTo)"
        case .unsupportedCurve(let curve):
            "The certificate signing request is for an ECDSA key on curve \(curve); only P-256 (prime256v1) and P-384 (secp384r1) are accepted. \(Self.howTo)"
        case .rsaKeySize(let bits):
            "The certificate signing request is for a \(bits)-bit RSA key; RSA keys must have \(PublicKey.minimumRSABits) to \(PublicKey.maximumRSABits) bits (e.g. -newkey rsa:3072). \(Self.howTo)"
        case .requestsCertificateAuthority:
            "The certificate signing request asks for a CA certificate (basicConstraints CA:TRUE); only client certificates are issued. Make the request without -addext basicConstraints or a CA extension section. \(Self.howTo)"
        case .unreadableExtensions:
            "The certificate signing request's requested extensions do not decode (or name basicConstraints twice); extensions are ignored anyway, so make the request without them. \(Self.howTo)"
        }
    }
}
