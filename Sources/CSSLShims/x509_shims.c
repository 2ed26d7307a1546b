#include "x509_shims.h"
#include <string.h>

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

int cshim_X509_policy_identifiers(X509 *cert, char *buffer, int length) {
    if (length <= 0) return -1;
    buffer[0] = 0;
    int critical = 0;
    CERTIFICATEPOLICIES *policies = X509_get_ext_d2i(cert, NID_certificate_policies, &critical, NULL);
    if (policies == NULL) return critical == -1 ? 0 : -1;
    int count = sk_POLICYINFO_num(policies);
    int used = 0;
    for (int i = 0; i < count; i++) {
        POLICYINFO *info = sk_POLICYINFO_value(policies, i);
        char oid[256];
        int written = OBJ_obj2txt(oid, sizeof oid, info->policyid, 1);
        if (written <= 0 || written >= (int)sizeof oid || used + written + 1 >= length) continue;
        memcpy(buffer + used, oid, (size_t)written);
        used += written;
        buffer[used++] = '\n';
        buffer[used] = 0;
    }
    CERTIFICATEPOLICIES_free(policies);
    return count;
}

int cshim_X509_add_certificate_policies(X509 *cert, const char *oids) {
    CERTIFICATEPOLICIES *policies = sk_POLICYINFO_new_null();
    char *copy = OPENSSL_strdup(oids);
    int ok = policies != NULL && copy != NULL;
    char *rest = copy;
    for (char *oid = ok ? strtok_r(copy, ",", &rest) : NULL; ok && oid != NULL; oid = strtok_r(NULL, ",", &rest)) {
        POLICYINFO *info = POLICYINFO_new();
        ASN1_OBJECT *identifier = OBJ_txt2obj(oid, 1);
        if (info == NULL || identifier == NULL) {
            POLICYINFO_free(info);
            ASN1_OBJECT_free(identifier);
            ok = 0;
            break;
        }
        ASN1_OBJECT_free(info->policyid);
        info->policyid = identifier;
        if (!sk_POLICYINFO_push(policies, info)) { POLICYINFO_free(info); ok = 0; }
    }
    ok = ok && sk_POLICYINFO_num(policies) > 0
        && X509_add1_ext_i2d(cert, NID_certificate_policies, policies, 0, X509V3_ADD_DEFAULT) == 1;
    OPENSSL_free(copy);
    CERTIFICATEPOLICIES_free(policies);
    return ok;
}
