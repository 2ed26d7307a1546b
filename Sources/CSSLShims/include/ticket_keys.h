#ifndef CSSLSHIMS_TICKET_KEYS_H
#define CSSLSHIMS_TICKET_KEYS_H
#include <stdint.h>
#include <openssl/ssl.h>

/// Session-ticket keys for a server's TLS contexts, rotated on a schedule.
///
/// OpenSSL's own ticket keys are made once per `SSL_CTX` and kept for its life, so one stolen key would
/// decrypt every ticket of the process's lifetime, and reloading the certificate makes every client do a full
/// handshake again. A key ring instead encrypts new tickets with a key that is replaced every
/// `rotation_seconds`, and accepts a ticket as long as its key could still have made a live one: until
/// `lifetime_seconds` after the key's successor was made (so at least `rotation_seconds + lifetime_seconds`).
/// A TLS 1.3 resumption always gets a new ticket (as with OpenSSL's own keys); a TLS 1.2 ticket under an older
/// key than the current one is replaced by a new one. Keys (16-byte name, 32-byte AES-256-CBC key, 32-byte
/// HMAC-SHA256 key, from `RAND_bytes`) live only in this process's memory. Safe to use from several threads;
/// every context that uses a ring must be freed before it.
typedef struct cshim_ticket_keys cshim_ticket_keys;

/// A ring whose first key is made now; NULL when out of memory or when OpenSSL can't provide AES-256-CBC,
/// HMAC or random bytes. `rotation_seconds` and `lifetime_seconds` must be positive.
cshim_ticket_keys *cshim_ticket_keys_new(int64_t rotation_seconds, int64_t lifetime_seconds);
void cshim_ticket_keys_free(cshim_ticket_keys *keys);

/// Makes `ctx` encrypt and decrypt session tickets with `keys`, and sets its session lifetime (the TLS 1.2
/// session cache timeout and the TLS 1.3 ticket lifetime) to the ring's. Returns 1, or 0 on failure.
int cshim_SSL_CTX_use_ticket_keys(SSL_CTX *ctx, cshim_ticket_keys *keys);
#endif
