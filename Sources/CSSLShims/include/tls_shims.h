#ifndef CSSLSHIMS_TLS_H
#define CSSLSHIMS_TLS_H
#include <stdint.h>
#include <openssl/ssl.h>

/// `SSL_OP_*` are `SSL_OP_BIT(n)` casts in OpenSSL 3, invisible to Swift.
extern const uint64_t cshim_SSL_OP_NO_COMPRESSION;
extern const uint64_t cshim_SSL_OP_NO_RENEGOTIATION;
extern const uint64_t cshim_SSL_OP_CIPHER_SERVER_PREFERENCE;
extern const uint64_t cshim_SSL_OP_PRIORITIZE_CHACHA;

int cshim_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
long cshim_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
long cshim_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
/// `SSL_CTX_sess_set_cache_size` is a macro: the most sessions the server-side cache keeps.
long cshim_SSL_CTX_sess_set_cache_size(SSL_CTX *ctx, long size);
/// `SSL_CTX_sess_get_cache_size` is a macro: the bound set above.
long cshim_SSL_CTX_sess_get_cache_size(SSL_CTX *ctx);
/// `SSL_CTX_set_read_ahead` is a macro: read as much as the socket holds, not one record at a time.
long cshim_SSL_CTX_set_read_ahead(SSL_CTX *ctx, int yes);
/// `SSL_CTX_set1_groups_list` is a macro: the key-exchange groups offered, in the server's order, e.g.
/// "X25519:P-256:P-384". Returns 1, or 0 when a name is unknown.
long cshim_SSL_CTX_set1_groups_list(SSL_CTX *ctx, const char *groups);
#endif
