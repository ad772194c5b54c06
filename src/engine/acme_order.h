/* mod_acme: ACME orders, authorizations and challenges (RFC 8555 §7.1.3,
 * §7.4, §7.5, §7.6). */
#ifndef ACME_ORDER_H
#define ACME_ORDER_H

#include "acme_client.h"

#define ACME_CHAL_HTTP01   "http-01"
#define ACME_CHAL_DNS01    "dns-01"
#define ACME_CHAL_TLSALPN01 "tls-alpn-01"
#define ACME_CHAL_TLSSNI01 "tls-sni-01"

typedef struct acme_challenge_t {
    const char *type;
    const char *url;
    const char *token;
    const char *status;
    const char *error;         /* the challenge's problem, formatted */
    const char *keyauthz;      /* filled by acme_challenge_prepare */
    const char *dns_value;     /* dns-01 TXT value */
} acme_challenge_t;

typedef struct acme_authz_t {
    const char *url;
    const char *status;        /* pending, valid, invalid, ... */
    const char *id_type;       /* "dns" or "ip" */
    const char *id_value;      /* the name, without "*." for wildcards */
    int wildcard;
    apr_array_header_t *challenges;  /* acme_challenge_t* */
    acme_challenge_t *chosen;
    apr_time_t responded;      /* when the chosen challenge was answered */
} acme_authz_t;

typedef struct acme_order_t {
    const char *url;
    const char *status;        /* pending, ready, processing, valid, invalid */
    apr_array_header_t *authz_urls;  /* const char* */
    const char *finalize_url;
    const char *certificate_url;
    const char *error;         /* the order's problem, formatted */
    apr_interval_time_t retry_after;
} acme_order_t;

/* Creates an order (newOrder) for names: "dns" identifiers, "ip" for IP
 * literals. profile and replaces are sent when non-NULL. */
apr_status_t acme_order_new(acme_order_t **porder, acme_client_t *c,
                            apr_pool_t *p, const apr_array_header_t *names,
                            const char *profile, const char *replaces,
                            acme_err_t *err);

/* Re-reads the order (POST-as-GET). */
apr_status_t acme_order_refresh(acme_order_t *order, acme_client_t *c,
                                apr_pool_t *p, acme_err_t *err);

/* Builds an authorization from the CA's JSON object (fetched from url). */
apr_status_t acme_authz_from_json(acme_authz_t **pauthz, apr_pool_t *p,
                                  const char *url, json_t *json,
                                  acme_err_t *err);

/* Reads an authorization with its challenges. */
apr_status_t acme_authz_fetch(acme_authz_t **pauthz, acme_client_t *c,
                              apr_pool_t *p, const char *url,
                              acme_err_t *err);

/* Picks the first challenge type in prefs (const char*) that the
 * authorization offers; sets and returns authz->chosen, or NULL. */
acme_challenge_t *acme_authz_pick(acme_authz_t *authz,
                                  const apr_array_header_t *prefs);

/* Computes the key authorization (and the dns-01 value) of a challenge for
 * the client's account key. */
apr_status_t acme_challenge_prepare(acme_challenge_t *ch, acme_client_t *c,
                                    apr_pool_t *p);

/* Tells the CA the challenge is ready ({} to the challenge URL). */
apr_status_t acme_challenge_respond(acme_client_t *c, apr_pool_t *p,
                                    const acme_challenge_t *ch,
                                    acme_err_t *err);

/* Polls an authorization until it is valid or invalid. The first poll
 * waits, from authz->responded, what validation took the last time on
 * this client (c->took_authz; poll_first at first); later ones double
 * from poll_first, a Retry-After wins (each wait bounded to 10 s,
 * c->poll_timeout in all). Invalid returns ACME_ECHALLENGE with the
 * challenge's error. */
apr_status_t acme_authz_poll(acme_authz_t *authz, acme_client_t *c,
                             apr_pool_t *p, acme_err_t *err);

/* Finalizes a ready order with the CSR (DER) and polls it until valid;
 * the first poll waits what issuing took the last time on this client
 * (c->took_order). When the CA answers orderNotReady, the order is
 * fetched: ready after all is finalized once more, processing or valid is
 * polled, anything else is reported ("the order is pending after
 * validation: ..."). */
apr_status_t acme_order_finalize(acme_order_t *order, acme_client_t *c,
                                 apr_pool_t *p, const unsigned char *csr_der,
                                 apr_size_t csr_len, acme_err_t *err);

/* Downloads the certificate chain (PEM) from url; *palternates (may be NULL)
 * receives the URLs of Link rel="alternate" chains. */
apr_status_t acme_cert_download(const char **ppem,
                                apr_array_header_t **palternates,
                                acme_client_t *c, apr_pool_t *p,
                                const char *url, acme_err_t *err);

/* Revokes a certificate (DER) with an RFC 5280 reason code (0 when
 * unspecified). With cert_key the request is signed by the certificate's
 * own key (jwk); otherwise by the account. */
apr_status_t acme_cert_revoke(acme_client_t *c, apr_pool_t *p,
                              const unsigned char *der, apr_size_t len,
                              int reason, const acme_key_t *cert_key,
                              acme_err_t *err);

#endif
