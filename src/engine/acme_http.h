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

/*
 * A replacement for the network, for tests: called instead of libcurl by
 * acme_http_get (method "GET" or "HEAD", content_type and body NULL) and
 * acme_http_post ("POST"). It returns a response made with
 * acme_http_resp_make (or an error in err, as a transport failure would).
 */
typedef apr_status_t acme_http_transport_fn(acme_http_resp_t **presp,
                                            void *baton, apr_pool_t *p,
                                            const char *method,
                                            const char *url,
                                            const char *content_type,
                                            const char *body, apr_size_t len,
                                            acme_err_t *err);

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

/* Makes every request on http go to fn (with baton) instead of the
 * network; fn NULL restores libcurl. Meant for tests: without a call to
 * it nothing changes. */
void acme_http_set_transport(acme_http_t *http, acme_http_transport_fn *fn,
                             void *baton);

/* Builds a response as the real transport does, for a replacement
 * transport: status, body (copied; NULL is empty) and the request's url.
 * Headers are added with acme_http_resp_add_header. */
acme_http_resp_t *acme_http_resp_make(apr_pool_t *p, const char *url,
                                      int status, const char *body,
                                      apr_size_t len);

/* Adds a header to a response, its name lowercased as the real transport
 * stores it (a repeated name is kept once per value). */
void acme_http_resp_add_header(acme_http_resp_t *resp, apr_pool_t *p,
                               const char *name, const char *value);

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
