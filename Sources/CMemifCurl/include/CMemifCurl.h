// CMemifCurl: one blocking HTTPS GET over libcurl, with a streaming body callback, for the
// Kubernetes API client. curl_easy_setopt is variadic, so Swift cannot call it directly.
#ifndef CMEMIF_CURL_H
#define CMEMIF_CURL_H

#include <stddef.h>

/// Receives the body as it arrives; returning anything but `length` aborts the transfer.
typedef size_t (*cmk_http_sink)(const char *data, size_t length, void *context);

/// GETs `url`, verifying the server against `ca_file` (NULL: the system store) and sending
/// `Authorization: Bearer <bearer_token>` when the token is not NULL. `total_timeout_ms` 0
/// means none (watches). The transfer stops early once `*cancel` becomes non-zero.
/// Returns 0 on a completed exchange (any HTTP status, stored in `*status`), or libcurl's
/// error code with its message in `error`.
int cmk_http_get(const char *url, const char *ca_file, const char *bearer_token, long connect_timeout_ms,
                 long total_timeout_ms, const volatile int *cancel, cmk_http_sink sink, void *context,
                 long *status, char *error, size_t error_size);

/// The cancel flag, written by one thread and read by the transfer's.
static inline void cmemif_curl_store(int *flag, int value) { __atomic_store_n(flag, value, __ATOMIC_RELAXED); }
static inline int cmemif_curl_load(const int *flag) { return __atomic_load_n(flag, __ATOMIC_RELAXED); }

#endif
