#ifndef CSSLSHIMS_X509_H
#define CSSLSHIMS_X509_H
#include <openssl/x509.h>
#include <openssl/x509v3.h>
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
/// `sk_X509_new_null` / `sk_X509_push` / `sk_X509_pop_free(…, X509_free)` are macros.
STACK_OF(X509) *cshim_sk_X509_new_null(void);
/// Pushes `cert` onto `stack`; the stack takes the caller's reference. Returns the new count, 0 on failure.
int cshim_sk_X509_push(STACK_OF(X509) *stack, X509 *cert);
/// Frees the stack and every certificate on it.
void cshim_sk_X509_pop_free(STACK_OF(X509) *stack);
/// `MBSTRING_ASC` is `(MBSTRING_FLAG|1)`: exported as a constant.
extern const int cshim_MBSTRING_ASC;
/// `MBSTRING_UTF8` is `MBSTRING_FLAG`: exported as a constant (subject names from UTF-8 text).
extern const int cshim_MBSTRING_UTF8;
/// `XN_FLAG_RFC2253` is an expression of casts and ORs: exported as a constant.
extern const unsigned long cshim_XN_FLAG_RFC2253;
/// Adds the X509v3 extension `nid` with the `openssl.cnf`-style `value` (e.g. "critical,CA:TRUE",
/// "keyid:always", "DNS:localhost,IP:127.0.0.1") to `cert`, issued by `issuer` (may be `cert` itself).
/// `X509V3_set_ctx_nodb` is a macro and `X509V3_CTX` is best kept on the C side. Returns 1 on success.
int cshim_X509_add_conf_extension(X509 *cert, X509 *issuer, int nid, const char *value);
/// Whether the CSR's extension request asks for a CA certificate (basicConstraints CA:TRUE): 1 if it does, 0 if it
/// does not (no extension request, or no basicConstraints in it, or CA:FALSE), -1 if the request carries an
/// extension request or a basicConstraints that does not decode, or more than one basicConstraints.
/// `sk_X509_EXTENSION_pop_free` is a macro, so the whole check lives here.
int cshim_X509_REQ_requests_ca(X509_REQ *req);
/// Adds a non-critical certificatePolicies extension naming the policies in `oids` (dotted, comma-separated), with
/// no qualifiers. `X509V3_EXT_conf_nid` wants a config database for certificatePolicies, and `sk_POLICYINFO_*` are
/// macros. Returns 1 on success, 0 on failure (an identifier that does not parse).
int cshim_X509_add_certificate_policies(X509 *cert, const char *oids);
/// The policy identifiers of `cert`'s certificatePolicies extension, dotted (`OBJ_obj2txt`), each followed by a
/// newline, in `buffer` (NUL-terminated; identifiers that do not fit are left out). Returns how many the extension
/// holds (0 without it), or -1 if it does not decode or appears twice. `sk_POLICYINFO_*` are macros.
int cshim_X509_policy_identifiers(X509 *cert, char *buffer, int length);
#endif
