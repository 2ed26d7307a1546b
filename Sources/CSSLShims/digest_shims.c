#define OPENSSL_SUPPRESS_DEPRECATED
#include "digest_shims.h"
#include <openssl/crypto.h>
#include <openssl/sha.h>

void cshim_sha256(const void *data, size_t length, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, data, length);
    SHA256_Final(out, &context);
    OPENSSL_cleanse(&context, sizeof(context));
}
