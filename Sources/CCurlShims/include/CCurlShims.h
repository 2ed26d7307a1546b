#ifndef CCURLSHIMS_H
#define CCURLSHIMS_H
/// libcurl, loaded on first use with `dlopen`, behind typed wrappers.
///
/// The binary does not link libcurl: Debian's libcurl4 pulls in some 25 libraries (GnuTLS, Kerberos, LDAP,
/// libssh2, …), several MiB of resident memory and start-up relocations, that a server using only the
/// directory source never needs. `cshim_curl_load` opens `libcurl.so.4` once (thread-safe) and resolves the
/// functions below; every other function here may only be called after it returned 0.
/// The setopt/getinfo wrappers give libcurl's variadic functions typed signatures, in the manner of
/// swift-corelibs-foundation's CFURLSessionInterface.c. Types and constants come from <curl/curl.h>.
#include <stddef.h>
#include <curl/curl.h>

typedef size_t (*cshim_curl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*cshim_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);

/// What `cshim_curl_load` found.
enum {
    CSHIM_CURL_LOADED = 0,
    /// Not tried yet (never returned by `cshim_curl_load`).
    CSHIM_CURL_NOT_LOADED = -1,
    /// `dlopen("libcurl.so.4")` failed: the library is not installed (or not loadable).
    CSHIM_CURL_NOT_FOUND = -2,
    /// The library lacks a function this program calls (not libcurl 4?).
    CSHIM_CURL_SYMBOL_MISSING = -3,
    /// `curl_global_init` failed.
    CSHIM_CURL_INIT_FAILED = -4,
};

/// Loads libcurl and runs `curl_global_init(CURL_GLOBAL_ALL)`, once per process. Returns `CSHIM_CURL_LOADED`,
/// or one of the failures above with the reason (dlerror's text, the missing symbol, curl's error) copied into
/// `error` (NUL-terminated, at most `error_size` bytes). Later calls return the first call's result and reason.
int cshim_curl_load(char *error, size_t error_size);

CURL *cshim_curl_easy_init(void);
void cshim_curl_easy_cleanup(CURL *curl);
CURLcode cshim_curl_easy_perform(CURL *curl);
const char *cshim_curl_easy_strerror(CURLcode code);
struct curl_slist *cshim_curl_slist_append(struct curl_slist *list, const char *string);
void cshim_curl_slist_free_all(struct curl_slist *list);

CURLcode cshim_curl_easy_setopt_long(CURL *curl, CURLoption option, long value);
CURLcode cshim_curl_easy_setopt_str(CURL *curl, CURLoption option, const char *value);
CURLcode cshim_curl_easy_setopt_ptr(CURL *curl, CURLoption option, void *value);
CURLcode cshim_curl_easy_setopt_write_callback(CURL *curl, cshim_curl_write_callback callback);
CURLcode cshim_curl_easy_setopt_header_callback(CURL *curl, cshim_curl_write_callback callback);
CURLcode cshim_curl_easy_setopt_xferinfo_callback(CURL *curl, cshim_curl_xferinfo_callback callback);
CURLcode cshim_curl_easy_getinfo_long(CURL *curl, CURLINFO info, long *value);
/// For pointer answers, e.g. `CURLINFO_CERTINFO` (a `struct curl_certinfo *` owned by the handle).
CURLcode cshim_curl_easy_getinfo_ptr(CURL *curl, CURLINFO info, void **value);
#endif
