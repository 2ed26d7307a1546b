#ifndef CSSLSHIMS_TLS_MATERIAL_H
#define CSSLSHIMS_TLS_MATERIAL_H
#include <stddef.h>
#include <openssl/ssl.h>

/// Loading a server's TLS files from bytes already read (each with a size bound), so that what is loaded is
/// exactly what was read and compared, never a file that changed in between. Each returns 0 with OpenSSL's
/// error queue saying why when the bytes do not parse.

/// The certificate chain in `pem`: the first certificate is the leaf, the others its chain.
int cshim_SSL_CTX_use_certificate_chain_pem(SSL_CTX *ctx, const unsigned char *pem, size_t length);

/// The private key in `pem` (PKCS#8, or a traditional RSA/EC key). An encrypted key is refused (there is no
/// one to ask for its passphrase).
int cshim_SSL_CTX_use_private_key_pem(SSL_CTX *ctx, const unsigned char *pem, size_t length);

/// Loads every PEM certificate in `pem` as a CA that client certificates are verified against, and names them
/// in the CertificateRequest (the client CA list). Returns how many were loaded; 0 when there is none or one
/// does not parse.
int cshim_SSL_CTX_load_client_CAs(SSL_CTX *ctx, const unsigned char *pem, size_t length);

/// Loads every PEM CRL in `pem` into the context's store and has client certificates checked against them
/// (`X509_V_FLAG_CRL_CHECK`: the leaf's issuer must have a current CRL here, one that has passed its nextUpdate
/// fails every certificate it covers). Returns how many were loaded; 0 when there is none or one does not parse.
int cshim_SSL_CTX_load_client_CRLs(SSL_CTX *ctx, const unsigned char *pem, size_t length);
#endif
