#include "ticket_keys.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/// At most this many keys are kept; with the defaults (rotation 1 h, lifetime 2 h) three are.
#define MAX_KEYS 16

typedef struct {
    unsigned char name[16];
    unsigned char aes[32];
    unsigned char hmac[32];
    int64_t made;  // monotonic seconds
} ticket_key;

struct cshim_ticket_keys {
    pthread_rwlock_t lock;
    int64_t rotation, lifetime;
    /// keys[0] is the current one, then older ones, newest first.
    ticket_key keys[MAX_KEYS];
    int count;
    EVP_CIPHER *cipher;
};

static int ring_index = -1;
static pthread_once_t ring_index_once = PTHREAD_ONCE_INIT;

static void make_ring_index(void) { ring_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL); }

static int64_t monotonic_seconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec;
}

/// Whether `keys[i]` can no longer have made a live ticket: it stopped encrypting when its successor was made,
/// and tickets live `lifetime` longer. The current key (`i == 0`) never has.
static int key_expired(const cshim_ticket_keys *ring, int i, int64_t now) {
    return i > 0 && ring->keys[i - 1].made + ring->lifetime < now;
}

/// Puts a new current key in front and drops keys no ticket may still use. Call with the write lock held.
static int rotate(cshim_ticket_keys *ring, int64_t now) {
    ticket_key fresh;
    if (RAND_bytes(fresh.name, sizeof fresh.name) != 1 || RAND_bytes(fresh.aes, sizeof fresh.aes) != 1
        || RAND_bytes(fresh.hmac, sizeof fresh.hmac) != 1) {
        OPENSSL_cleanse(&fresh, sizeof fresh);
        return 0;
    }
    fresh.made = now;
    int kept = ring->count < MAX_KEYS ? ring->count : MAX_KEYS - 1;
    for (int i = 1; i < kept; i++) {
        if (key_expired(ring, i, now)) {
            kept = i;
            break;
        }
    }
    for (int i = kept; i < ring->count; i++) OPENSSL_cleanse(&ring->keys[i], sizeof(ticket_key));
    memmove(&ring->keys[1], &ring->keys[0], (size_t)kept * sizeof(ticket_key));
    ring->keys[0] = fresh;
    OPENSSL_cleanse(&fresh, sizeof fresh);
    ring->count = kept + 1;
    return 1;
}

cshim_ticket_keys *cshim_ticket_keys_new(int64_t rotation_seconds, int64_t lifetime_seconds) {
    if (rotation_seconds <= 0 || lifetime_seconds <= 0) return NULL;
    cshim_ticket_keys *ring = OPENSSL_secure_zalloc(sizeof(cshim_ticket_keys));
    if (ring == NULL) return NULL;
    ring->rotation = rotation_seconds;
    ring->lifetime = lifetime_seconds;
    ring->cipher = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);  // once, not per ticket
    if (ring->cipher == NULL || pthread_rwlock_init(&ring->lock, NULL) != 0) {
        EVP_CIPHER_free(ring->cipher);
        OPENSSL_secure_clear_free(ring, sizeof(cshim_ticket_keys));
        return NULL;
    }
    if (!rotate(ring, monotonic_seconds())) {
        cshim_ticket_keys_free(ring);
        return NULL;
    }
    return ring;
}

void cshim_ticket_keys_free(cshim_ticket_keys *ring) {
    if (ring == NULL) return;
    pthread_rwlock_destroy(&ring->lock);
    EVP_CIPHER_free(ring->cipher);
    OPENSSL_secure_clear_free(ring, sizeof(cshim_ticket_keys));
}

/// Sets up `mac` for HMAC-SHA256 with `key`.
static int init_hmac(EVP_MAC_CTX *mac, unsigned char *key) {
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key, 32),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(mac, params);
}

/// OpenSSL's ticket callback (`SSL_CTX_set_tlsext_ticket_key_evp_cb`): 1 key set up, 2 key set up and a new
/// ticket is to be sent, 0 unknown key (full handshake), -1 error.
static int ticket_callback(SSL *ssl, unsigned char *name, unsigned char *iv, EVP_CIPHER_CTX *cipher,
                           EVP_MAC_CTX *mac, int encrypt) {
    cshim_ticket_keys *ring = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ring_index);
    if (ring == NULL) return -1;
    int64_t now = monotonic_seconds();
    pthread_rwlock_rdlock(&ring->lock);
    if (encrypt && now - ring->keys[0].made >= ring->rotation) {
        pthread_rwlock_unlock(&ring->lock);
        pthread_rwlock_wrlock(&ring->lock);
        // Another thread may have rotated meanwhile; a failed rotation keeps the current key a while longer.
        if (now - ring->keys[0].made >= ring->rotation) (void)rotate(ring, now);
        pthread_rwlock_unlock(&ring->lock);
        pthread_rwlock_rdlock(&ring->lock);
    }
    int result;
    if (encrypt) {
        ticket_key *key = &ring->keys[0];
        memcpy(name, key->name, sizeof key->name);
        result = RAND_bytes(iv, EVP_CIPHER_get_iv_length(ring->cipher)) == 1
                && EVP_EncryptInit_ex(cipher, ring->cipher, NULL, key->aes, iv) == 1 && init_hmac(mac, key->hmac) == 1
            ? 1 : -1;
    } else {
        result = 0;
        for (int i = 0; i < ring->count; i++) {
            ticket_key *key = &ring->keys[i];
            if (memcmp(name, key->name, sizeof key->name) != 0) continue;
            if (key_expired(ring, i, now)) break;
            if (init_hmac(mac, key->hmac) != 1 || EVP_DecryptInit_ex(cipher, ring->cipher, NULL, key->aes, iv) != 1) {
                result = -1;
            } else {
                // TLS 1.3 tickets are for one use (RFC 8446, C.4): every resumption gets a new one, as with
                // OpenSSL's own keys (1 would send none, and a client that resumes again would have only the
                // used ticket). TLS 1.2 tickets are renewed when their key is no longer the current one.
                result = i == 0 && SSL_version(ssl) != TLS1_3_VERSION ? 1 : 2;
            }
            break;
        }
    }
    pthread_rwlock_unlock(&ring->lock);
    return result;
}

int cshim_SSL_CTX_use_ticket_keys(SSL_CTX *ctx, cshim_ticket_keys *ring) {
    pthread_once(&ring_index_once, make_ring_index);
    if (ring_index < 0 || ring == NULL) return 0;
    if (SSL_CTX_set_ex_data(ctx, ring_index, ring) != 1) return 0;
    (void)SSL_CTX_set_timeout(ctx, (long)ring->lifetime);
    return SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_callback) == 1;
}
