#ifndef CSSLSHIMS_ERROR_QUEUE_H
#define CSSLSHIMS_ERROR_QUEUE_H
#include <stddef.h>

/// Empties the calling thread's OpenSSL error queue into `out`: each entry's `ERR_error_string_n` text, joined
/// by "; ", cut to fit `capacity` bytes and NUL-terminated. Returns how many entries the queue held. The one
/// place the project turns OpenSSL's error queue into text (the HTTP server's TLS and HelmBundle's X.509 alike).
int cshim_drain_error_queue(char *out, size_t capacity);
#endif
