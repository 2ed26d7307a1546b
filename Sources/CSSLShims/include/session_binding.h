#ifndef CSSLSHIMS_SESSION_BINDING_H
#define CSSLSHIMS_SESSION_BINDING_H
#include <stddef.h>
#include <time.h>
#include <openssl/ssl.h>

/// Binds the TLS sessions of `ctx` to what verified their client certificates, so that revoking trust takes
/// effect on resumption too:
///
/// - The session ID context becomes `binding` (`binding_length` ≤ 32 bytes, e.g. the SHA-256 of the client CA
///   bundle). Every session records the context it was made in; one made under another CA does not resume
///   (a full handshake follows, which verifies the certificate again). TLS 1.2 session IDs live in one
///   context's cache; tickets carry the binding inside their encrypted state, and OpenSSL compares it with the
///   context's when it decrypts one (TLS 1.2 and 1.3).
/// - A session ticket resumes only while the client certificate it was verified with is within its validity
///   (notBefore ≤ now < notAfter); otherwise the client gets a full handshake.
/// - Every session with a client certificate (a new one, a session-ID cache entry, each ticket issued, on a
///   resumption too) lives no longer than the certificate's notAfter, nor past the earliest nextUpdate of the
///   CRLs already loaded into `ctx` (past it a full handshake fails: `X509_V_FLAG_CRL_CHECK` refuses a CRL
///   that is out of date), and a ticket presented after that nextUpdate does not resume. Load the CRLs first.
///
/// Sets `verify_mode` (`SSL_VERIFY_PEER` and friends) with the callback that does the last point. Returns 1, or 0
/// when OpenSSL refuses the settings.
int cshim_SSL_CTX_bind_sessions(SSL_CTX *ctx, const unsigned char *binding, size_t binding_length, int verify_mode);

/// The earliest nextUpdate (seconds since the epoch) of the CRLs `ctx` had when its sessions were bound: no
/// session with a client certificate lasts past it. 0 when there is none (no CRL, or none with a nextUpdate).
time_t cshim_SSL_CTX_sessions_end(const SSL_CTX *ctx);

/// Whether `cert` is within its validity now (notBefore ≤ now < notAfter).
int cshim_X509_is_current(X509 *cert);
#endif
