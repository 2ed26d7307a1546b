#include "CCurlShims.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

/// The soname of libcurl 4 (every libcurl since 7.16), as Debian's libcurl4 package installs it.
#define CSHIM_LIBCURL_SONAME "libcurl.so.4"

static struct {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *curl);
    CURLcode (*easy_perform)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *list, const char *string);
    void (*slist_free_all)(struct curl_slist *list);
} api;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int load_result = CSHIM_CURL_NOT_LOADED;
static char load_error[512];

// POSIX allows converting dlsym's void * to a function pointer; each call names the slot's own type.
#define CSHIM_RESOLVE(library, slot, name)                                                                 \
    do {                                                                                                    \
        void *symbol = dlsym(library, name);                                                               \
        if (symbol == NULL) {                                                                              \
            snprintf(load_error, sizeof(load_error), "%s has no symbol %s", CSHIM_LIBCURL_SONAME, name);   \
            load_result = CSHIM_CURL_SYMBOL_MISSING;                                                       \
            dlclose(library);                                                                              \
            return;                                                                                        \
        }                                                                                                  \
        api.slot = (__typeof__(api.slot))symbol;                                                           \
    } while (0)

static void load(void) {
    void *library = dlopen(CSHIM_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        const char *reason = dlerror();
        snprintf(load_error, sizeof(load_error), "%s", reason != NULL ? reason : "dlopen(" CSHIM_LIBCURL_SONAME ") failed");
        load_result = CSHIM_CURL_NOT_FOUND;
        return;
    }
    CSHIM_RESOLVE(library, global_init, "curl_global_init");
    CSHIM_RESOLVE(library, easy_init, "curl_easy_init");
    CSHIM_RESOLVE(library, easy_cleanup, "curl_easy_cleanup");
    CSHIM_RESOLVE(library, easy_perform, "curl_easy_perform");
    CSHIM_RESOLVE(library, easy_strerror, "curl_easy_strerror");
    CSHIM_RESOLVE(library, easy_setopt, "curl_easy_setopt");
    CSHIM_RESOLVE(library, easy_getinfo, "curl_easy_getinfo");
    CSHIM_RESOLVE(library, slist_append, "curl_slist_append");
    CSHIM_RESOLVE(library, slist_free_all, "curl_slist_free_all");
    CURLcode code = api.global_init(CURL_GLOBAL_ALL);
    if (code != CURLE_OK) {
        // The library stays loaded: libcurl may have started initialising parts of itself.
        snprintf(load_error, sizeof(load_error), "curl_global_init failed: %s", api.easy_strerror(code));
        load_result = CSHIM_CURL_INIT_FAILED;
        return;
    }
    load_result = CSHIM_CURL_LOADED;
}

int cshim_curl_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_result != CSHIM_CURL_LOADED && error != NULL && error_size > 0) {
        snprintf(error, error_size, "%s", load_error);
    }
    return load_result;
}

CURL *cshim_curl_easy_init(void) { return api.easy_init(); }
void cshim_curl_easy_cleanup(CURL *curl) { api.easy_cleanup(curl); }
CURLcode cshim_curl_easy_perform(CURL *curl) { return api.easy_perform(curl); }
const char *cshim_curl_easy_strerror(CURLcode code) { return api.easy_strerror(code); }
struct curl_slist *cshim_curl_slist_append(struct curl_slist *list, const char *string) {
    return api.slist_append(list, string);
}
void cshim_curl_slist_free_all(struct curl_slist *list) { api.slist_free_all(list); }

CURLcode cshim_curl_easy_setopt_long(CURL *curl, CURLoption option, long value) {
    return api.easy_setopt(curl, option, value);
}
CURLcode cshim_curl_easy_setopt_str(CURL *curl, CURLoption option, const char *value) {
    return api.easy_setopt(curl, option, value);
}
CURLcode cshim_curl_easy_setopt_ptr(CURL *curl, CURLoption option, void *value) {
    return api.easy_setopt(curl, option, value);
}
CURLcode cshim_curl_easy_setopt_write_callback(CURL *curl, cshim_curl_write_callback callback) {
    return api.easy_setopt(curl, CURLOPT_WRITEFUNCTION, callback);
}
CURLcode cshim_curl_easy_setopt_header_callback(CURL *curl, cshim_curl_write_callback callback) {
    return api.easy_setopt(curl, CURLOPT_HEADERFUNCTION, callback);
}
CURLcode cshim_curl_easy_setopt_xferinfo_callback(CURL *curl, cshim_curl_xferinfo_callback callback) {
    return api.easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, callback);
}
CURLcode cshim_curl_easy_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return api.easy_getinfo(curl, info, value);
}
CURLcode cshim_curl_easy_getinfo_ptr(CURL *curl, CURLINFO info, void **value) {
    return api.easy_getinfo(curl, info, value);
}
