// The server's CPU per TLS handshake under two OpenSSL server configurations, measured in memory: no sockets,
// no kernel, no HTTP, client and server in one thread over a BIO pair, and only the server's calls timed (with
// CLOCK_THREAD_CPUTIME_ID). A and B alternate in short batches (A B, then B A, …), so the machine's changes of
// speed (docs/benchmark.md, "The handshake rows", says how large) hit both alike; the ratio B/A of each round
// is the figure to read. Built and run by bench/handshake_cost, which documents the arguments.
//
// Every server gets the settings of Sources/HTTPServer/TLSContext.swift that are not under test: TLS 1.2
// minimum, server cipher preference with ChaCha20 for clients that put it first, no compression or
// renegotiation, released buffers, read-ahead, a session ID context and a server session cache. What a
// configuration sets:
//   "openssl"   OpenSSL 3's defaults: TLS_AES_256_GCM_SHA384 first, two TLS 1.3 tickets, OpenSSL's ticket keys
//   "service"   what TLSContext sets: AES-128-GCM first, one ticket, the service's ticket-key ring
//               (Sources/CSSLShims/ticket_keys.c, compiled in)
//   "suites=LIST,tickets=N,keys=openssl|ring"   any part optional, the rest as "openssl"
// "service" is spelled out here, not read from the Swift code: BenchmarkSmokeTests checks the suites and the
// ticket count against TLSContext.swift.
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ticket_keys.h"

#define SERVICE_SUITES "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define SERVICE_TICKETS 1
#define MAX_ROUNDS 1000

static void fail(const char *what) {
    fprintf(stderr, "handshake_cost: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

static double thread_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

// `text` as a whole number from `min` to `max`, or exit naming `what`.
static long whole_number(const char *text, long min, long max, const char *what) {
    char *end = NULL;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno != 0 || end == text || *end != 0 || value < min || value > max) {
        fprintf(stderr, "handshake_cost: %s must be a whole number from %ld to %ld, not \"%s\"\n", what, min, max,
                text);
        exit(2);
    }
    return value;
}

// A server context from a configuration string (see the top of the file).
static SSL_CTX *server_context(const char *spec, const char *cert, const char *key) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) fail("SSL_CTX_new failed");
    // The settings every configuration shares with TLSContext.swift.
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_PRIORITIZE_CHACHA);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_read_ahead(ctx, 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"helm-cert-server", 16);

    char suites[512] = "";
    long tickets = -1;
    int ring = 0;
    if (strcmp(spec, "service") == 0) {
        snprintf(suites, sizeof suites, "%s", SERVICE_SUITES);
        tickets = SERVICE_TICKETS;
        ring = 1;
    } else if (strcmp(spec, "openssl") != 0) {
        char copy[600];
        snprintf(copy, sizeof copy, "%s", spec);
        for (char *part = strtok(copy, ","); part != NULL; part = strtok(NULL, ",")) {
            if (strncmp(part, "suites=", 7) == 0) snprintf(suites, sizeof suites, "%s", part + 7);
            else if (strncmp(part, "tickets=", 8) == 0) tickets = whole_number(part + 8, 0, 16, "tickets=");
            else if (strcmp(part, "keys=ring") == 0) ring = 1;
            else if (strcmp(part, "keys=openssl") == 0) ring = 0;
            else fail("a configuration is openssl, service or suites=LIST,tickets=N,keys=openssl|ring");
        }
    }
    if (suites[0] != 0 && SSL_CTX_set_ciphersuites(ctx, suites) != 1) fail("bad suites= list");
    if (tickets >= 0 && SSL_CTX_set_num_tickets(ctx, (size_t)tickets) != 1) fail("bad tickets= count");
    if (ring) {
        // The service's defaults: a new key every hour, sessions live two hours. Never freed: lives until exit.
        cshim_ticket_keys *keys = cshim_ticket_keys_new(3600, 7200);
        if (keys == NULL || cshim_SSL_CTX_use_ticket_keys(ctx, keys) != 1) fail("cannot set up the ticket-key ring");
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) fail("cannot load the certificate");
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) fail("cannot load the key");
    return ctx;
}

// One TLS 1.3 handshake (resuming `session` if given), the client reading every ticket the server sends.
// Adds the server's CPU time to *server_seconds; returns the client's newest session.
static SSL_SESSION *handshake(SSL_CTX *server_ctx, SSL_CTX *client_ctx, SSL_SESSION *session,
                              double *server_seconds) {
    SSL *server = SSL_new(server_ctx), *client = SSL_new(client_ctx);
    BIO *server_bio, *client_bio;
    if (server == NULL || client == NULL || BIO_new_bio_pair(&server_bio, 0, &client_bio, 0) != 1)
        fail("cannot make a connection pair");
    SSL_set_bio(server, server_bio, server_bio);
    SSL_set_bio(client, client_bio, client_bio);
    SSL_set_accept_state(server);
    SSL_set_connect_state(client);
    if (session != NULL && SSL_set_session(client, session) != 1) fail("SSL_set_session failed");
    int server_done = 0, client_done = 0;
    for (int turn = 0; turn < 20 && !(server_done && client_done); turn++) {
        if (!client_done && SSL_do_handshake(client) == 1) client_done = 1;
        if (!server_done) {
            double start = thread_seconds();
            int result = SSL_do_handshake(server);
            *server_seconds += thread_seconds() - start;
            if (result == 1) server_done = 1;
        }
    }
    if (!server_done || !client_done) fail("the handshake did not complete");
    if (session != NULL && !SSL_session_reused(client)) fail("the session was not resumed");
    char buffer[256];
    SSL_read(client, buffer, sizeof buffer);  // takes in the tickets; there is no application data
    ERR_clear_error();
    SSL_SESSION *newest = SSL_get1_session(client);
    // Both ends count as shut down, or SSL_free would mark the client's session not resumable.
    SSL_set_shutdown(client, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(server);
    SSL_free(client);
    return newest;
}

// Server µs per handshake over `count` handshakes (each resuming the previous one's ticket if `resumed`).
static double batch(SSL_CTX *server_ctx, SSL_CTX *client_ctx, int count, int resumed) {
    double seconds = 0, unused = 0;
    SSL_SESSION *session = resumed ? handshake(server_ctx, client_ctx, NULL, &unused) : NULL;
    for (int i = 0; i < count; i++) {
        SSL_SESSION *newest = handshake(server_ctx, client_ctx, session, &seconds);
        if (resumed) {
            SSL_SESSION_free(session);
            session = newest;
        } else {
            SSL_SESSION_free(newest);
        }
    }
    SSL_SESSION_free(session);
    return seconds / count * 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// The median of values[0..<count]; sorts them.
static double median(double *values, int count) {
    qsort(values, (size_t)count, sizeof(double), compare);
    return count % 2 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: handshake_cost CERT KEY full|resumed ROUNDS HANDSHAKES CONFIG_A CONFIG_B\n");
        return 2;
    }
    const char *cert = argv[1], *key = argv[2], *mode = argv[3];
    int resumed = strcmp(mode, "resumed") == 0;
    if (!resumed && strcmp(mode, "full") != 0) fail("the mode is full or resumed");
    int rounds = (int)whole_number(argv[4], 1, MAX_ROUNDS, "ROUNDS");
    int count = (int)whole_number(argv[5], 1, 1000000, "HANDSHAKES");
    SSL_CTX *a = server_context(argv[6], cert, key), *b = server_context(argv[7], cert, key);
    SSL_CTX *client_ctx = SSL_CTX_new(TLS_client_method());
    if (client_ctx == NULL) fail("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(client_ctx, TLS1_3_VERSION);  // the clients that matter negotiate TLS 1.3

    static double us_a[MAX_ROUNDS], us_b[MAX_ROUNDS], ratio[MAX_ROUNDS];
    batch(a, client_ctx, 20, resumed);  // warm-up: first fetches, caches, page faults
    batch(b, client_ctx, 20, resumed);
    for (int round = 0; round < rounds; round++) {
        // A B in rounds 1, 3, …, B A in rounds 2, 4, …, so neither always runs first.
        if (round % 2 == 0) {
            us_a[round] = batch(a, client_ctx, count, resumed);
            us_b[round] = batch(b, client_ctx, count, resumed);
        } else {
            us_b[round] = batch(b, client_ctx, count, resumed);
            us_a[round] = batch(a, client_ctx, count, resumed);
        }
        ratio[round] = us_b[round] / us_a[round];
        printf("round %d: A %.1f µs, B %.1f µs per %s handshake, B/A %.3f\n", round + 1, us_a[round],
               us_b[round], mode, ratio[round]);
    }
    // median() sorts each array, so ratio[0] and ratio[rounds - 1] are the lowest and highest afterwards.
    double median_a = median(us_a, rounds), median_b = median(us_b, rounds), median_ratio = median(ratio, rounds);
    printf("HANDSHAKE_COST mode=%s rounds=%d handshakes=%d a_us=%.1f b_us=%.1f ratio=%.3f ratio_min=%.3f "
           "ratio_max=%.3f\n", mode, rounds, count, median_a, median_b, median_ratio, ratio[0], ratio[rounds - 1]);
    return 0;
}
