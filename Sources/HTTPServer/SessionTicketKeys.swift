import CSSLShims

/// The session-ticket keys of one server: every TLS context it makes (the first, and each `reloadTLS`) uses
/// the same ring, so a certificate reload does not cost clients their sessions.
///
/// New tickets are encrypted with a key replaced every ``TLSConfiguration/ticketKeyRotation``; a ticket is
/// accepted while its key could have made it within ``TLSConfiguration/sessionLifetime``, and replaced by a new
/// one at every TLS 1.3 resumption (for TLS 1.2: when its key is no longer the current one). Keys are random,
/// live only in this process's memory and are never logged, so another replica or a restart means a full
/// handshake. See `ticket_keys.h`.
final class SessionTicketKeys: @unchecked Sendable {
    let pointer: OpaquePointer

    /// - Throws: ``HTTPServerError`` when a period is under one second or OpenSSL can't make the keys.
    init(rotation: Duration, lifetime: Duration) throws(HTTPServerError) {
        let rotationSeconds = rotation.components.seconds
        let lifetimeSeconds = lifetime.components.seconds
        guard rotationSeconds >= 1, lifetimeSeconds >= 1 else {
            throw HTTPServerError(
                call: "session ticket keys",
                message: "ticketKeyRotation and sessionLifetime must be at least 1 second (got \(rotation), \(lifetime))")
        }
        guard let pointer = cshim_ticket_keys_new(rotationSeconds, lifetimeSeconds) else {
            throw TLSContext.error("cshim_ticket_keys_new", "could not make session ticket keys")
        }
        self.pointer = pointer
    }

    deinit { cshim_ticket_keys_free(pointer) }
}
