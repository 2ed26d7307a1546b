/// The server's certificate and key, and optionally a CA to verify client certificates against.
///
/// The server allows TLS 1.2 and 1.3 only: ECDHE with AES-GCM or ChaCha20-Poly1305 for TLS 1.2, OpenSSL's
/// three TLS 1.3 suites, AES-128-GCM preferred by the server in both (Mozilla's "intermediate" order) unless
/// the client lists ChaCha20-Poly1305 first; key exchange over X25519, P-256 or P-384 only, in that order
/// (Mozilla's "intermediate" groups); no compression or renegotiation; one session ticket per TLS 1.3
/// handshake (under keys rotated every ``ticketKeyRotation``) and a server-side session cache for TLS 1.2
/// session IDs.
public struct TLSConfiguration: Sendable {
    /// PEM file with the certificate chain, leaf first. Each TLS file is read (at most 1 MiB) when a context is
    /// made, and loaded from the bytes read.
    public var certificateChainFile: String
    /// PEM file with the private key matching the leaf certificate, not encrypted.
    public var privateKeyFile: String
    /// PEM file with CA certificates. When set, the server requests (but does not require) a client
    /// certificate and verifies it against these; a verified certificate's subject CN is passed on as
    /// ``HTTPRequest/clientCertificateSubjectCN``. A client certificate that fails verification fails
    /// the handshake. TLS sessions are bound to this file's SHA-256 and to the client certificate's validity:
    /// a session verified under other bytes, or whose certificate has expired, does not resume, and sessions
    /// end by the certificate's notAfter.
    public var clientCAFile: String?
    /// PEM file with CRLs from the ``clientCAFile``'s CAs (needs it). When set, a client certificate whose serial
    /// is listed is refused, and so is every certificate of a CA without a CRL here or whose CRL has passed its
    /// nextUpdate (fail closed). Sessions are bound to this file's bytes too: a new CRL means a full handshake.
    public var clientCRLFile: String?
    /// How long a TLS session can be resumed: the TLS 1.3 ticket lifetime and the TLS 1.2 session cache
    /// timeout. Two hours, OpenSSL's default.
    public var sessionLifetime: Duration
    /// How often the key that encrypts new session tickets is replaced; older keys still decrypt tickets
    /// for ``sessionLifetime`` after they were replaced. One hour: a key read from this process's memory opens
    /// only the tickets made in its hour, and none once they have expired.
    public var ticketKeyRotation: Duration

    /// The default ``sessionLifetime``: two hours.
    public static let defaultSessionLifetime: Duration = .seconds(2 * 3600)
    /// The default ``ticketKeyRotation``: one hour.
    public static let defaultTicketKeyRotation: Duration = .seconds(3600)

    /// A TLS configuration from file paths.
    public init(
        certificateChainFile: String, privateKeyFile: String, clientCAFile: String? = nil, clientCRLFile: String? = nil,
        sessionLifetime: Duration = defaultSessionLifetime, ticketKeyRotation: Duration = defaultTicketKeyRotation
    ) {
        self.certificateChainFile = certificateChainFile
        self.privateKeyFile = privateKeyFile
        self.clientCAFile = clientCAFile
        self.clientCRLFile = clientCRLFile
        self.sessionLifetime = sessionLifetime
        self.ticketKeyRotation = ticketKeyRotation
    }
}
