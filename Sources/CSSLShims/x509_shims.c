#include "x509_shims.h"

long cshim_BIO_get_mem_data(BIO *bio, char **data) { return BIO_get_mem_data(bio, data); }
EVP_PKEY *cshim_EVP_EC_gen(const char *curve) { return EVP_EC_gen(curve); }
EVP_PKEY *cshim_EVP_RSA_gen(unsigned int bits) { return EVP_RSA_gen(bits); }
int cshim_sk_X509_num(const STACK_OF(X509) *stack) { return sk_X509_num(stack); }
X509 *cshim_sk_X509_value(const STACK_OF(X509) *stack, int index) { return sk_X509_value(stack, index); }
STACK_OF(X509) *cshim_sk_X509_new_null(void) { return sk_X509_new_null(); }
int cshim_sk_X509_push(STACK_OF(X509) *stack, X509 *cert) { return sk_X509_push(stack, cert); }
void cshim_sk_X509_pop_free(STACK_OF(X509) *stack) { sk_X509_pop_free(stack, X509_free); }
const int cshim_MBSTRING_ASC = MBSTRING_ASC;
const int cshim_MBSTRING_UTF8 = MBSTRING_UTF8;
const unsigned long cshim_XN_FLAG_RFC2253 = XN_FLAG_RFC2253;

int cshim_X509_add_conf_extension(X509 *cert, X509 *issuer, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (extension == NULL) return 0;
    int added = X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    return added;
}

int cshim_X509_REQ_requests_ca(X509_REQ *req) {
    int has_request = X509_REQ_get_attr_by_NID(req, NID_ext_req, -1) >= 0
        || X509_REQ_get_attr_by_NID(req, NID_ms_ext_req, -1) >= 0;
    if (!has_request) return 0;
    STACK_OF(X509_EXTENSION) *extensions = X509_REQ_get_extensions(req);
    if (extensions == NULL) return -1;
    int critical = 0;
    BASIC_CONSTRAINTS *constraints = X509V3_get_d2i(extensions, NID_basic_constraints, &critical, NULL);
    int result;
    if (constraints != NULL) {
        result = constraints->ca ? 1 : 0;
    } else {
        // -1: absent (fine); -2: more than one; otherwise present but undecodable.
        result = critical == -1 ? 0 : -1;
    }
    BASIC_CONSTRAINTS_free(constraints);
    sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
    return result;
}
