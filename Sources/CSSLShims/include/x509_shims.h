#ifndef CSSLSHIMS_X509_H
#define CSSLSHIMS_X509_H
#include <openssl/x509.h>
#include <openssl/evp.h>
#include <openssl/bio.h>

/// `BIO_get_mem_data` is a macro: returns the length and points `*data` at the BIO's bytes.
long cshim_BIO_get_mem_data(BIO *bio, char **data);
/// `EVP_EC_gen` expands to the variadic `EVP_PKEY_Q_keygen`: generates a key on the named curve.
EVP_PKEY *cshim_EVP_EC_gen(const char *curve);
/// `EVP_RSA_gen` likewise.
EVP_PKEY *cshim_EVP_RSA_gen(unsigned int bits);
/// `sk_X509_num` / `sk_X509_value` are macros.
int cshim_sk_X509_num(const STACK_OF(X509) *stack);
X509 *cshim_sk_X509_value(const STACK_OF(X509) *stack, int index);
#endif
