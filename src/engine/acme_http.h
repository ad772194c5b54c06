/* mod_acme: the HTTP transport to the CA (libcurl). One handle per client,
 * so the connection to the CA is reused across requests. */
#ifndef ACME_HTTP_H
#define ACME_HTTP_H

#include "acme_common.h"

#define ACME_HTTP_MAX_BODY (1024 * 1024)  /* cap on what is read from a CA */
#define ACME_HTTP_RETRY_AFTER_MAX (7L * 86400) /* Retry-After is capped at a
                                                  week (seconds) */

typedef struct acme_http_t acme_http_t;

/* A response: status, headers (names lowercased; repeated headers such as
 * Link appear once per value), and the body (NUL-terminated). */
typedef struct acme_http_resp_t {
    int status;
    apr_table_t *headers;
    const char *body;
    apr_size_t body_len;
    const char *url;          /* the URL requested */
} acme_http_resp_t;

/* Creates a transport. ca_bundle: a PEM file of CAs to trust for the CA's
 * TLS, or NULL for the system's. The handle is cleaned up with the pool. */
apr_status_t acme_http_create(acme_http_t **phttp, apr_pool_t *p,
                              const char *ca_bundle, acme_err_t *err);

/* GET (head_only=0) or HEAD (head_only=1) a URL. Transport failures return
 * ACME_ECONNECT, ACME_ETLS or ACME_ETIMEOUT with curl's reason; any HTTP
 * status is a success here (the caller judges it). */
apr_status_t acme_http_get(acme_http_resp_t **presp, acme_http_t *http,
                           apr_pool_t *p, const char *url, int head_only,
                           acme_err_t *err);

/* POSTs body with the given Content-Type (e.g. application/jose+json). */
apr_status_t acme_http_post(acme_http_resp_t **presp, acme_http_t *http,
                            apr_pool_t *p, const char *url,
                            const char *content_type, const char *body,
                            apr_size_t len, acme_err_t *err);

/* Returns the first value of a response header (name in any case). */
const char *acme_http_header(const acme_http_resp_t *resp, const char *name);

/* Returns the URLs of all Link headers with rel="rel" (RFC 8288), resolved
 * against the request URL when relative. */
apr_array_header_t *acme_http_links(apr_pool_t *p,
                                    const acme_http_resp_t *resp,
                                    const char *rel);

/* Parses a Retry-After value (delta-seconds or HTTP-date) into an interval
 * from now, at most ACME_HTTP_RETRY_AFTER_MAX; 0 when absent or
 * unparsable. */
apr_interval_time_t acme_http_retry_after(const acme_http_resp_t *resp);

#endif
