// The server's CPU per TLS handshake under two OpenSSL server configurations, measured in memory: no sockets,
// no kernel, no HTTP, client and server in one thread over a BIO pair, and only the server's calls timed (with
// CLOCK_THREAD_CPUTIME_ID). A and B alternate in short batches, so the machine's changes of speed (a factor of
// 1.8 within minutes on the benchmark machine) hit both alike; the ratio B/A of each round is the figure to
// read. Built and run by bench/handshake_cost, which documents the arguments.
//
// A configuration is "openssl" (OpenSSL 3's defaults: TLS_AES_256_GCM_SHA384 first, two TLS 1.3 tickets),
// "service" (what Sources/HTTPServer/TLSContext.swift sets: AES-128-GCM first, one ticket) or
// "suites=LIST,tickets=N" with either part optional. Both keep server cipher preference, as the service does.
// "service" is spelled out here, not read from the Swift code: BenchmarkSmokeTests checks the two agree.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

// A server context from a configuration string (see the top of the file).
static SSL_CTX *server_context(const char *spec, const char *cert, const char *key) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL) fail("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    char suites[512] = "";
    long tickets = -1;
    if (strcmp(spec, "service") == 0) {
        snprintf(suites, sizeof suites, "%s", SERVICE_SUITES);
        tickets = SERVICE_TICKETS;
    } else if (strcmp(spec, "openssl") != 0) {
        char copy[600];
        snprintf(copy, sizeof copy, "%s", spec);
        for (char *part = strtok(copy, ","); part != NULL; part = strtok(NULL, ",")) {
            if (strncmp(part, "suites=", 7) == 0) snprintf(suites, sizeof suites, "%s", part + 7);
            else if (strncmp(part, "tickets=", 8) == 0) tickets = strtol(part + 8, NULL, 10);
            else fail("a configuration is openssl, service or suites=LIST,tickets=N");
        }
    }
    if (suites[0] != 0 && SSL_CTX_set_ciphersuites(ctx, suites) != 1) fail("bad suites= list");
    if (tickets >= 0 && SSL_CTX_set_num_tickets(ctx, (size_t)tickets) != 1) fail("bad tickets= count");
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
    int rounds = atoi(argv[4]), count = atoi(argv[5]);
    int resumed = strcmp(mode, "resumed") == 0;
    if (!resumed && strcmp(mode, "full") != 0) fail("the mode is full or resumed");
    if (rounds < 1 || rounds > MAX_ROUNDS || count < 1) fail("ROUNDS is 1 to 1000, HANDSHAKES at least 1");
    SSL_CTX *a = server_context(argv[6], cert, key), *b = server_context(argv[7], cert, key);
    SSL_CTX *client_ctx = SSL_CTX_new(TLS_client_method());
    if (client_ctx == NULL) fail("SSL_CTX_new failed");
    SSL_CTX_set_min_proto_version(client_ctx, TLS1_3_VERSION);  // the clients that matter negotiate TLS 1.3

    static double us_a[MAX_ROUNDS], us_b[MAX_ROUNDS], ratio[MAX_ROUNDS];
    batch(a, client_ctx, 20, resumed);  // warm-up: first fetches, caches, page faults
    batch(b, client_ctx, 20, resumed);
    for (int round = 0; round < rounds; round++) {
        us_a[round] = batch(a, client_ctx, count, resumed);
        us_b[round] = batch(b, client_ctx, count, resumed);
        ratio[round] = us_b[round] / us_a[round];
        printf("round %d: A %.1f µs, B %.1f µs per %s handshake, B/A %.3f\n", round + 1, us_a[round],
               us_b[round], mode, ratio[round]);
    }
    double median_a = median(us_a, rounds), median_b = median(us_b, rounds), median_ratio = median(ratio, rounds);
    printf("HANDSHAKE_COST mode=%s rounds=%d handshakes=%d a_us=%.1f b_us=%.1f ratio=%.3f ratio_min=%.3f "
           "ratio_max=%.3f\n", mode, rounds, count, median_a, median_b, median_ratio, ratio[0], ratio[rounds - 1]);
    return 0;
}
