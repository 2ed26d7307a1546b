#ifndef CSSLSHIMS_H
#define CSSLSHIMS_H
/// Typed C wrappers for the OpenSSL macros and variadic functions Swift cannot call.
/// `tls_shims.h` serves the HTTP server's TLS; `x509_shims.h` serves certificate work; `digest_shims.h` hashing.
#include "tls_shims.h"
#include "x509_shims.h"
#include "digest_shims.h"
#include "ticket_keys.h"
#include "session_binding.h"
#include "tls_material.h"
#include "error_queue.h"
#endif
