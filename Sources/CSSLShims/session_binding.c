#include "session_binding.h"
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <openssl/x509.h>

int cshim_X509_is_current(X509 *cert) {
    // X509_cmp_current_time: -1 when the time is before now, 1 after, 0 on a malformed time.
    return X509_cmp_current_time(X509_get0_notBefore(cert)) == -1
        && X509_cmp_current_time(X509_get0_notAfter(cert)) == 1;
}

/// Seconds from now until `cert`'s notAfter (≤ 0 once it has passed, or when it cannot be read).
static long seconds_left(X509 *cert) {
    int days = 0, seconds = 0;
    if (!ASN1_TIME_diff(&days, &seconds, NULL, X509_get0_notAfter(cert))) return 0;
    return (long)days * 86400 + seconds;
}

/// The SSL_CTX ex_data slot holding a context's sessions' end (a malloc'ed time_t, freed with the context).
static int sessions_end_index = -1;
static pthread_once_t sessions_end_once = PTHREAD_ONCE_INIT;

static void free_sessions_end(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index, long argl, void *argp) {
    (void)parent;
    (void)ad;
    (void)index;
    (void)argl;
    (void)argp;
    OPENSSL_free(ptr);
}

static void make_sessions_end_index(void) {
    sessions_end_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, free_sessions_end);
}

/// The earliest nextUpdate among the CRLs in `ctx`'s store (0 when there is none, or none has one).
static time_t earliest_next_update(SSL_CTX *ctx) {
    STACK_OF(X509_OBJECT) *objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
    time_t earliest = 0, now = time(NULL);
    for (int i = 0; i < sk_X509_OBJECT_num(objects); i++) {
        X509_OBJECT *object = sk_X509_OBJECT_value(objects, i);
        if (X509_OBJECT_get_type(object) != X509_LU_CRL) continue;
        const ASN1_TIME *next = X509_CRL_get0_nextUpdate(X509_OBJECT_get0_X509_CRL(object));
        int days = 0, seconds = 0;
        if (next == NULL || !ASN1_TIME_diff(&days, &seconds, NULL, next)) continue;
        time_t at = now + (time_t)days * 86400 + seconds;
        if (at < 1) at = 1;  // passed long ago: still an end (0 means none)
        if (earliest == 0 || at < earliest) earliest = at;
    }
    return earliest;
}

time_t cshim_SSL_CTX_sessions_end(const SSL_CTX *ctx) {
    if (sessions_end_index < 0) return 0;
    const time_t *end = SSL_CTX_get_ex_data(ctx, sessions_end_index);
    return end == NULL ? 0 : *end;
}

/// Shortens `session`'s lifetime so that it ends by its client certificate's notAfter, and by the earliest
/// nextUpdate of the CRLs of `ssl`'s context.
static void clamp_to_peer(SSL *ssl, SSL_SESSION *session, X509 *peer) {
    if (session == NULL || peer == NULL) return;
    long left = seconds_left(peer);
    time_t end = ssl == NULL ? 0 : cshim_SSL_CTX_sessions_end(SSL_get_SSL_CTX(ssl));
    if (end != 0 && (long)(end - time(NULL)) < left) left = (long)(end - time(NULL));
    // The session's lifetime counts from its start (`SSL_SESSION_get_time`), which is now or a moment ago.
    long lifetime = left + (long)(time(NULL) - SSL_SESSION_get_time(session));
    if (lifetime < 1) lifetime = 1;
    if (lifetime < SSL_SESSION_get_timeout(session)) SSL_SESSION_set_timeout(session, lifetime);
}

/// After a full handshake's verification of the leaf: the new session ends by the certificate's notAfter.
static int verify_and_clamp(int ok, X509_STORE_CTX *store) {
    if (ok && X509_STORE_CTX_get_error_depth(store) == 0) {
        SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
        if (ssl != NULL) clamp_to_peer(ssl, SSL_get_session(ssl), X509_STORE_CTX_get_current_cert(store));
    }
    return ok;
}

/// Before each ticket is sealed (after full handshakes and resumptions): it ends by the certificate's notAfter.
static int generate_ticket(SSL *ssl, void *arg) {
    (void)arg;
    SSL_SESSION *session = SSL_get_session(ssl);
    if (session != NULL) clamp_to_peer(ssl, session, SSL_SESSION_get0_peer(session));
    return 1;
}

/// After a ticket was decrypted: resume only while its client certificate is valid and the context's CRLs
/// are current (before their earliest nextUpdate). (The binding itself,
/// inside the ticket's encrypted state, OpenSSL compares with the context's before this is called, for
/// tickets as for cached session IDs: a mismatch is a full handshake.)
static SSL_TICKET_RETURN decrypt_ticket(
    SSL *ssl, SSL_SESSION *session, const unsigned char *key_name, size_t key_name_length,
    SSL_TICKET_STATUS status, void *arg) {
    (void)key_name;
    (void)key_name_length;
    (void)arg;
    if (status != SSL_TICKET_SUCCESS && status != SSL_TICKET_SUCCESS_RENEW) {
        // What OpenSSL does without a callback: no resumption, a new ticket after the full handshake.
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    }
    X509 *peer = SSL_SESSION_get0_peer(session);
    if (peer != NULL && !cshim_X509_is_current(peer)) return SSL_TICKET_RETURN_IGNORE_RENEW;
    time_t end = cshim_SSL_CTX_sessions_end(SSL_get_SSL_CTX(ssl));
    if (peer != NULL && end != 0 && time(NULL) >= end) return SSL_TICKET_RETURN_IGNORE_RENEW;
    return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
}

int cshim_SSL_CTX_bind_sessions(SSL_CTX *ctx, const unsigned char *binding, size_t binding_length, int verify_mode) {
    if (binding_length > SSL_MAX_SID_CTX_LENGTH) return 0;
    pthread_once(&sessions_end_once, make_sessions_end_index);
    if (sessions_end_index < 0) return 0;
    time_t *end = OPENSSL_malloc(sizeof *end);
    if (end == NULL) return 0;
    *end = earliest_next_update(ctx);
    if (SSL_CTX_set_ex_data(ctx, sessions_end_index, end) != 1) {
        OPENSSL_free(end);
        return 0;
    }
    if (SSL_CTX_set_session_id_context(ctx, binding, (unsigned int)binding_length) != 1) return 0;
    if (SSL_CTX_set_session_ticket_cb(ctx, generate_ticket, decrypt_ticket, NULL) != 1) return 0;
    SSL_CTX_set_verify(ctx, verify_mode, verify_mode == SSL_VERIFY_NONE ? NULL : verify_and_clamp);
    return 1;
}
