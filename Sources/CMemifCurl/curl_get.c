#include "CMemifCurl.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

struct sink_context {
    cmk_http_sink sink;
    void *context;
};

static size_t on_body(char *data, size_t size, size_t count, void *userdata) {
    struct sink_context *s = userdata;
    return s->sink(data, size * count, s->context);
}

static int on_progress(void *userdata, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d) {
    (void)a; (void)b; (void)c; (void)d;
    const volatile int *cancel = userdata;
    return cancel != NULL && *cancel != 0;  // non-zero aborts
}

int cmk_http_get(const char *url, const char *ca_file, const char *bearer_token, long connect_timeout_ms,
                 long total_timeout_ms, const volatile int *cancel, cmk_http_sink sink, void *context,
                 long *status, char *error, size_t error_size) {
    pthread_once(&global_once, global_init);
    *status = 0;
    if (error_size > 0) error[0] = 0;
    CURL *curl = curl_easy_init();
    if (curl == NULL) {
        snprintf(error, error_size, "curl_easy_init failed");
        return CURLE_FAILED_INIT;
    }
    char curl_error[CURL_ERROR_SIZE] = {0};
    struct sink_context s = {sink, context};
    struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
    char *authorization = NULL;
    if (bearer_token != NULL) {
        size_t n = strlen(bearer_token) + sizeof("Authorization: Bearer ");
        authorization = malloc(n);
        if (authorization != NULL) {
            snprintf(authorization, n, "Authorization: Bearer %s", bearer_token);
            headers = curl_slist_append(headers, authorization);
        }
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https,http");
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file != NULL) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, total_timeout_ms);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)cancel);
    CURLcode rc = curl_easy_perform(curl);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    } else {
        snprintf(error, error_size, "%s", curl_error[0] ? curl_error : curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
    if (authorization != NULL) {
        memset(authorization, 0, strlen(authorization));
        free(authorization);
    }
    curl_easy_cleanup(curl);
    return (int)rc;
}
