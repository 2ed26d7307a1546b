#ifndef DIGEST_SHIMS_H
#define DIGEST_SHIMS_H
#include <stddef.h>

/// SHA-256 of `length` bytes at `data` into `out` (32 bytes), through OpenSSL's low-level SHA256_* functions.
///
/// For short inputs hashed on every request (bearer tokens): `EVP_Digest` costs about as much again as the
/// hashing itself in OpenSSL 3 (a context allocated, the provider's context created and freed). The low-level
/// functions are deprecated in OpenSSL 3.0 but still exported; only this file uses them.
void cshim_sha256(const void *data, size_t length, unsigned char *out);
#endif
