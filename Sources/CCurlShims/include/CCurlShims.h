#ifndef CCURLSHIMS_H
#define CCURLSHIMS_H
/// Typed wrappers for libcurl's variadic `curl_easy_setopt` / `curl_easy_getinfo`,
/// in the manner of swift-corelibs-foundation's CFURLSessionInterface.c.
#include <curl/curl.h>

typedef size_t (*cshim_curl_write_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*cshim_curl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow,
                                            curl_off_t ultotal, curl_off_t ulnow);

CURLcode cshim_curl_easy_setopt_long(CURL *curl, CURLoption option, long value);
CURLcode cshim_curl_easy_setopt_str(CURL *curl, CURLoption option, const char *value);
CURLcode cshim_curl_easy_setopt_ptr(CURL *curl, CURLoption option, void *value);
CURLcode cshim_curl_easy_setopt_write_callback(CURL *curl, cshim_curl_write_callback callback);
CURLcode cshim_curl_easy_setopt_header_callback(CURL *curl, cshim_curl_write_callback callback);
CURLcode cshim_curl_easy_setopt_xferinfo_callback(CURL *curl, cshim_curl_xferinfo_callback callback);
CURLcode cshim_curl_easy_getinfo_long(CURL *curl, CURLINFO info, long *value);
#endif
