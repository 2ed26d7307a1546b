import CLibSSL
import CSSLShims
import CText
import FileContents

/// One OpenSSL `SSL_CTX` built from a ``TLSConfiguration``, shared by every loop thread.
///
/// `SSL_new` takes its own reference to the context, so a context replaced by `reloadTLS` lives on
/// until its last connection ends. `SSL_CTX` is safe to use from several threads for `SSL_new`.
final class TLSContext: @unchecked Sendable {
    let pointer: OpaquePointer
    /// Whether client certificates are requested and verified.
    let verifiesClients: Bool
    /// The ring the context encrypts session tickets with. The `SSL_CTX` only points at it: connections still
    /// open on a replaced context rely on the current context (which every loop's state holds) keeping the same
    /// ring alive, as `reloadTLS` makes sure.
    let ticketKeys: SessionTicketKeys
    /// What the sessions of this context are bound to: the SHA-256 of the client CA file's bytes (with a CRL
    /// file: of both files' digests), or ``sessionBindingWithoutClientCA``. Two contexts with the same binding
    /// trust the same client certificates; a connection compares its context's with the server's current one
    /// before each request (``clientTrust(carriesOverTo:)``).
    /// (Set last in `init`; a `var` so that every stored property is set before anything can throw, and
    /// `deinit` frees the `SSL_CTX`.)
    private(set) var sessionBinding = TLSContext.sessionBindingWithoutClientCA
    /// The earliest nextUpdate of the client CRLs (seconds since the epoch), nil without one. Past it a full
    /// handshake with a client certificate fails (the CRL is out of date), no session with one resumes
    /// (`session_binding.h`), and a kept-alive connection's client certificate no longer names its client.
    private(set) var clientCRLsNextUpdate: Int?

    /// Whether the client CRLs are current (before their earliest nextUpdate), or there are none.
    var clientCRLsAreCurrent: Bool { clientCRLsNextUpdate.map { time(nil) < $0 } ?? true }

    /// The TLS 1.2 ciphers, in the server's order of preference: ECDHE with AES-GCM or ChaCha20-Poly1305
    /// (ECDSA and RSA certificates), AES-128-GCM first: Mozilla's "intermediate" configuration (guidelines 5.4)
    /// in its order, without its two DHE-RSA ciphers (key exchange is ECDHE only).
    static let tls12Ciphers = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    /// The TLS 1.3 cipher suites, in the server's order of preference: OpenSSL's three defaults with
    /// AES-128-GCM-SHA256 first (OpenSSL's own order puts AES-256-GCM-SHA384 first), as Mozilla's
    /// "intermediate" configuration orders them (Go's TLS stack, too, puts AES-128-GCM first on CPUs with AES
    /// instructions). SHA-256 drives the handshake's transcript hash and key schedule, and CPUs with SHA
    /// extensions (SHA-NI) compute it in hardware where SHA-384 is software, so each handshake costs the server
    /// less CPU (`bench/handshake_cost`; the figures are in docs/benchmark.md, "The handshake rows"). Clients
    /// that offer only AES-256-GCM or ChaCha20 get those, and so do clients that list ChaCha20 first
    /// (`SSL_OP_PRIORITIZE_CHACHA`).
    static let tls13Ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

    /// The key-exchange groups, in the server's order of preference: Mozilla's "intermediate" configuration
    /// (X25519, P-256, P-384), nothing else. OpenSSL's default list also offers X448, P-521 and (TLS 1.3) the
    /// finite-field groups, which sslyze's `--mozilla_config=intermediate` check flags. The server's order
    /// decides in TLS 1.2 (`SSL_OP_CIPHER_SERVER_PREFERENCE`); in TLS 1.3 a key share the client already sent
    /// for one of these groups is used rather than asking for another (a HelloRetryRequest costs a round trip).
    static let groups = "X25519:P-256:P-384"

    /// TLS 1.3 session tickets sent after a full handshake (a resumption always gets one). OpenSSL sends two
    /// by default, so that a client can open two connections that each resume; Go's TLS server sends one.
    /// The clients of this service keep one session per server anyway (curl 7.88's session cache keeps the
    /// newest per host, Go's `tls.LRUClientSessionCache` one per server name), and each resumption brings a
    /// fresh ticket, so a second one is CPU spent on every full handshake for nothing (`bench/handshake_cost`;
    /// docs/benchmark.md, "The handshake rows").
    static let ticketsPerFullHandshake = 1

    /// The most TLS 1.2 sessions one context's session-ID cache keeps (OpenSSL's default: 20,480, ~1.1 KiB each,
    /// ~22 MiB full): 2,048, ~2.2 MiB. Only TLS 1.2 clients that do not take tickets use it (TLS 1.3 resumes by
    /// ticket, which the server does not store); beyond it OpenSSL evicts the oldest, and such a client gets a
    /// full handshake.
    static let sessionCacheSize = 2_048

    /// Loads certificate chain, key (checked to match) and optional client CA from `configuration`; session
    /// tickets are encrypted with `ticketKeys`.
    ///
    /// - Throws: ``HTTPServerError`` naming the file and OpenSSL's reason, e.g.
    ///   `could not load certificate chain from /tls/tls.crt: …`.
    init(_ configuration: TLSConfiguration, ticketKeys: SessionTicketKeys) throws(HTTPServerError) {
        ERR_clear_error()
        guard let ctx = SSL_CTX_new(TLS_server_method()) else {
            throw Self.error("SSL_CTX_new", "could not create a TLS context")
        }
        pointer = ctx
        verifiesClients = configuration.clientCAFile != nil
        self.ticketKeys = ticketKeys
        // From here on, `deinit` frees `ctx` if we throw.
        guard cshim_SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 else {
            throw Self.error("SSL_CTX_set_min_proto_version", "could not require TLS 1.2")
        }
        guard SSL_CTX_set_cipher_list(ctx, Self.tls12Ciphers) == 1 else {
            throw Self.error("SSL_CTX_set_cipher_list", "could not set ciphers \(Self.tls12Ciphers)")
        }
        guard SSL_CTX_set_ciphersuites(ctx, Self.tls13Ciphersuites) == 1 else {
            throw Self.error("SSL_CTX_set_ciphersuites", "could not set cipher suites \(Self.tls13Ciphersuites)")
        }
        guard cshim_SSL_CTX_set1_groups_list(ctx, Self.groups) == 1 else {
            throw Self.error("SSL_CTX_set1_groups_list", "could not set key-exchange groups \(Self.groups)")
        }
        guard SSL_CTX_set_num_tickets(ctx, Self.ticketsPerFullHandshake) == 1 else {
            throw Self.error("SSL_CTX_set_num_tickets", "could not set the number of session tickets")
        }
        // Server preference, except that a client listing ChaCha20-Poly1305 first (one without AES instructions,
        // typically) gets it, as Go's server does.
        _ = SSL_CTX_set_options(
            ctx,
            cshim_SSL_OP_NO_COMPRESSION | cshim_SSL_OP_NO_RENEGOTIATION | cshim_SSL_OP_CIPHER_SERVER_PREFERENCE
                | cshim_SSL_OP_PRIORITIZE_CHACHA)
        _ = cshim_SSL_CTX_set_mode(ctx, Int(SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // Read whole socket buffers, not each record's 5-byte header and then its body in two read(2) calls
        // (nginx sets the same; docs/benchmark.md, "Where the time goes", counts the calls). Records read ahead
        // wait in OpenSSL, where epoll cannot see them; `HTTPConnection.drive` reads until SSL_read wants more,
        // and a connection that stops early (read budget) is driven again without waiting for epoll.
        _ = cshim_SSL_CTX_set_read_ahead(ctx, 1)
        _ = cshim_SSL_CTX_set_session_cache_mode(ctx, Int(SSL_SESS_CACHE_SERVER))
        _ = cshim_SSL_CTX_sess_set_cache_size(ctx, Self.sessionCacheSize)
        guard cshim_SSL_CTX_use_ticket_keys(ctx, ticketKeys.pointer) == 1 else {
            throw Self.error("SSL_CTX_set_tlsext_ticket_key_evp_cb", "could not set the session ticket keys")
        }

        let chain = configuration.certificateChainFile
        let chainPEM = try Self.read(chain, "could not load certificate chain from \(chain)")
        guard chainPEM.withUnsafeBufferPointer({ cshim_SSL_CTX_use_certificate_chain_pem(ctx, $0.baseAddress, $0.count) }) == 1 else {
            throw Self.error("PEM_read_bio_X509", "could not load certificate chain from \(chain)")
        }
        let key = configuration.privateKeyFile
        let keyPEM = try Self.read(key, "could not load private key from \(key)")
        guard keyPEM.withUnsafeBufferPointer({ cshim_SSL_CTX_use_private_key_pem(ctx, $0.baseAddress, $0.count) }) == 1 else {
            throw Self.error(
                "PEM_read_bio_PrivateKey",
                "could not load private key from \(key) (an encrypted key is not supported), or it does not match the certificate in \(chain)")
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw Self.error(
                "SSL_CTX_check_private_key", "private key \(key) does not match the certificate in \(chain)")
        }
        if configuration.clientCRLFile != nil && configuration.clientCAFile == nil {
            throw HTTPServerError(call: "TLS configuration", message: "a client CRL file needs a client CA file")
        }
        // Every session made under this context is bound to the SHA-256 of the client CA file's bytes (with a CRL
        // file: the SHA-256 of both files' digests): one verified under other bytes does not resume here, nor
        // does one whose client certificate has expired since (`session_binding.h`).
        var sessionBinding = Self.sessionBindingWithoutClientCA
        var verifyMode = SSL_VERIFY_NONE
        if let caFile = configuration.clientCAFile {
            let pem = try Self.read(caFile, "could not load client CA certificates from \(caFile)")
            guard pem.withUnsafeBufferPointer({ cshim_SSL_CTX_load_client_CAs(ctx, $0.baseAddress, $0.count) }) > 0 else {
                throw Self.error("PEM_read_bio_X509", "could not load client CA certificates from \(caFile)")
            }
            sessionBinding = Self.sha256(pem)
            if let crlFile = configuration.clientCRLFile {
                let crls = try Self.read(crlFile, "could not load client CRLs from \(crlFile)")
                guard crls.withUnsafeBufferPointer({ cshim_SSL_CTX_load_client_CRLs(ctx, $0.baseAddress, $0.count) }) > 0 else {
                    throw Self.error("PEM_read_bio_X509_CRL", "could not load client CRLs from \(crlFile)")
                }
                sessionBinding = Self.sha256(sessionBinding + Self.sha256(crls))
            }
            // Request, don't require: no SSL_VERIFY_FAIL_IF_NO_PEER_CERT.
            verifyMode = SSL_VERIFY_PEER
        }
        let bound = sessionBinding.withUnsafeBufferPointer {
            cshim_SSL_CTX_bind_sessions(ctx, $0.baseAddress, $0.count, verifyMode)
        }
        guard bound == 1 else {
            throw Self.error("SSL_CTX_set_session_id_context", "could not bind TLS sessions to the client CA")
        }
        self.sessionBinding = sessionBinding
        let end = cshim_SSL_CTX_sessions_end(ctx)
        clientCRLsNextUpdate = end == 0 ? nil : Int(end)
        ERR_clear_error()
    }

    /// Whether a client certificate verified under this context is still trusted under `current` (the server's
    /// context now): the same client CA and CRL bytes. A reload that changed neither (a new serving
    /// certificate, say) keeps client identities; a new CA or CRL ends them.
    func clientTrust(carriesOverTo current: TLSContext?) -> Bool {
        guard let current else { return false }
        return current === self || current.sessionBinding == sessionBinding
    }

    /// The most bytes read from each TLS file (chain, key, client CA, client CRL): 1 MiB, room for a CA bundle of several
    /// hundred certificates. The files are read here, with this bound, and loaded from the bytes read.
    static let fileLimit = 1 << 20

    /// The bytes of `path` (at most ``fileLimit``).
    private static func read(_ path: String, _ what: String) throws(HTTPServerError) -> [UInt8] {
        do {
            return try readFileContents(path, limit: fileLimit)
        } catch {
            throw HTTPServerError(call: what, errno: error.errno, message: "\(error.reason) (\(error.call))")
        }
    }

    /// The session ID context when no client certificates are asked for.
    static let sessionBindingWithoutClientCA: [UInt8] = Array("helm-cert-server".utf8)

    /// SHA-256 of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        bytes.withUnsafeBytes { cshim_sha256($0.baseAddress, $0.count, &digest) }
        return digest
    }

    deinit { SSL_CTX_free(pointer) }

    /// An error for a failed OpenSSL call, with the thread's OpenSSL error queue as the message.
    static func error(_ call: String, _ what: String) -> HTTPServerError {
        HTTPServerError(call: what, errno: 0, message: "\(openSSLErrors()) (\(call))")
    }

    /// Empties this thread's OpenSSL error queue, as `SSL_get_error` needs before each TLS call. Peeks first:
    /// the queue is almost always empty, and `ERR_clear_error` walks all its slots, twice per keep-alive request
    /// (its cost: docs/benchmark.md, "Where the time goes").
    @inline(__always) static func clearErrorQueue() {
        if ERR_peek_error() != 0 { ERR_clear_error() }
    }

    /// Drains this thread's OpenSSL error queue into one line.
    static func openSSLErrors() -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        let count = cshim_drain_error_queue(&buffer, buffer.count)
        return count == 0 ? "no OpenSSL error recorded" : String(cText: buffer)
    }

    /// The peer's certificate on `ssl`, if it sent one, it verified, and it is still within its validity now (a
    /// resumed session carries the result of a verification made earlier; the session binding already refuses to
    /// resume one past notAfter, and this makes sure of it): its subject CN and its certificatePolicies. A
    /// certificate whose certificatePolicies extension does not decode verifies nobody (fail closed: a responder
    /// may refuse identities by policy).
    static func verifiedPeer(_ ssl: OpaquePointer) -> VerifiedPeer? {
        guard let cert = SSL_get0_peer_certificate(ssl) else { return nil }
        guard SSL_get_verify_result(ssl) == X509_V_OK, cshim_X509_is_current(cert) == 1 else { return nil }
        guard let name = X509_get_subject_name(cert) else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index),
            let data = X509_NAME_ENTRY_get_data(entry), let bytes = ASN1_STRING_get0_data(data)
        else { return nil }
        let length = Int(ASN1_STRING_length(data))
        let commonName = String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
        var policies = [CChar](repeating: 0, count: VerifiedPeer.policyBufferBytes)
        guard cshim_X509_policy_identifiers(cert, &policies, Int32(policies.count)) >= 0 else { return nil }
        let identifiers = String(cText: policies).split(separator: "\n").map(String.init)
        return VerifiedPeer(commonName: commonName, policyIdentifiers: identifiers)
    }
}
