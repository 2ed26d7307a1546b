#include "tls_material.h"
#include <stdint.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/// A read-only memory BIO over `pem`, or NULL.
static BIO *memory(const unsigned char *pem, size_t length) {
    return length > INT32_MAX ? NULL : BIO_new_mem_buf(pem, (int)length);
}

/// After reading PEM blocks until none is left: true if the only error since `ERR_set_mark` is the expected
/// "no start line" at the end of the input (then cleared).
static int ended_cleanly(void) {
    unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
        ERR_pop_to_mark();
        return 1;
    }
    ERR_clear_last_mark();
    return 0;
}

/// Refuses to ask for a passphrase: an encrypted key fails to load instead of reading from a terminal.
static int no_passphrase(char *buffer, int size, int rwflag, void *user) {
    (void)buffer;
    (void)size;
    (void)rwflag;
    (void)user;
    return 0;
}

int cshim_SSL_CTX_use_certificate_chain_pem(SSL_CTX *ctx, const unsigned char *pem, size_t length) {
    BIO *bio = memory(pem, length);
    if (bio == NULL) return 0;
    X509 *leaf = PEM_read_bio_X509_AUX(bio, NULL, no_passphrase, NULL);
    int ok = leaf != NULL && SSL_CTX_use_certificate(ctx, leaf) == 1 && SSL_CTX_clear_chain_certs(ctx) == 1;
    X509_free(leaf);
    if (ok) {
        ERR_set_mark();
        X509 *issuer;
        while (ok && (issuer = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
            // add0: the context takes the reference.
            if (SSL_CTX_add0_chain_cert(ctx, issuer) != 1) {
                X509_free(issuer);
                ok = 0;
            }
        }
        ok = ok ? ended_cleanly() : (ERR_clear_last_mark(), 0);
    }
    BIO_free(bio);
    return ok;
}

int cshim_SSL_CTX_use_private_key_pem(SSL_CTX *ctx, const unsigned char *pem, size_t length) {
    BIO *bio = memory(pem, length);
    if (bio == NULL) return 0;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
    BIO_free(bio);
    int ok = key != NULL && SSL_CTX_use_PrivateKey(ctx, key) == 1;
    EVP_PKEY_free(key);
    return ok;
}

/// Reads one PEM object from `bio` and adds it to `ctx`: 1 when one was added, 0 when none is left (or one
/// does not parse), -1 when adding failed.
typedef int (*add_next)(SSL_CTX *ctx, BIO *bio);

/// Adds every PEM object of `pem` to `ctx` with `add`; how many, or 0 when there is none or one does not parse.
static int add_all(SSL_CTX *ctx, const unsigned char *pem, size_t length, add_next add) {
    BIO *bio = memory(pem, length);
    if (bio == NULL) return 0;
    int count = 0, added;
    ERR_set_mark();
    while ((added = add(ctx, bio)) == 1) count++;
    BIO_free(bio);
    if (added < 0 || count == 0) {
        ERR_clear_last_mark();  // keep the errors: a failed add, or "no start line" when there was nothing
        return 0;
    }
    return ended_cleanly() ? count : 0;
}

static int add_client_CA(SSL_CTX *ctx, BIO *bio) {
    X509 *cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
    if (cert == NULL) return 0;
    int added = X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), cert) && SSL_CTX_add_client_CA(ctx, cert);
    X509_free(cert);
    return added ? 1 : -1;
}

static int add_client_CRL(SSL_CTX *ctx, BIO *bio) {
    X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, no_passphrase, NULL);
    if (crl == NULL) return 0;
    int added = X509_STORE_add_crl(SSL_CTX_get_cert_store(ctx), crl);
    X509_CRL_free(crl);
    return added ? 1 : -1;
}

int cshim_SSL_CTX_load_client_CAs(SSL_CTX *ctx, const unsigned char *pem, size_t length) {
    return add_all(ctx, pem, length, add_client_CA);
}

int cshim_SSL_CTX_load_client_CRLs(SSL_CTX *ctx, const unsigned char *pem, size_t length) {
    int count = add_all(ctx, pem, length, add_client_CRL);
    if (count == 0 || X509_STORE_set_flags(SSL_CTX_get_cert_store(ctx), X509_V_FLAG_CRL_CHECK) != 1) return 0;
    return count;
}
