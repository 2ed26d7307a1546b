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

int cshim_SSL_CTX_load_client_CAs(SSL_CTX *ctx, const unsigned char *pem, size_t length) {
    BIO *bio = memory(pem, length);
    if (bio == NULL) return 0;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int count = 0;
    X509 *cert;
    ERR_set_mark();
    while ((cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL)) != NULL) {
        int added = X509_STORE_add_cert(store, cert) && SSL_CTX_add_client_CA(ctx, cert);
        X509_free(cert);
        if (!added) {
            ERR_clear_last_mark();
            BIO_free(bio);
            return 0;
        }
        count++;
    }
    BIO_free(bio);
    if (count == 0) {
        ERR_clear_last_mark();  // keep "no start line": there was no certificate at all
        return 0;
    }
    return ended_cleanly() ? count : 0;
}


int cshim_SSL_CTX_load_client_CRLs(SSL_CTX *ctx, const unsigned char *pem, size_t length) {
    BIO *bio = memory(pem, length);
    if (bio == NULL) return 0;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int count = 0;
    X509_CRL *crl;
    ERR_set_mark();
    while ((crl = PEM_read_bio_X509_CRL(bio, NULL, no_passphrase, NULL)) != NULL) {
        int added = X509_STORE_add_crl(store, crl);
        X509_CRL_free(crl);
        if (!added) {
            ERR_clear_last_mark();
            BIO_free(bio);
            return 0;
        }
        count++;
    }
    BIO_free(bio);
    if (count == 0) {
        ERR_clear_last_mark();
        return 0;
    }
    if (!ended_cleanly() || X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK) != 1) return 0;
    return count;
}
