/* mod_acme: ACME Renewal Information (ARI, RFC 9773): the certificate
 * identifier (CertID), the CA's suggested renewal window, and the choice of
 * a renewal time inside it. */
#ifndef ACME_ARI_H
#define ACME_ARI_H

#include "acme_client.h"
#include "acme_cert.h"

/* How long to wait before asking again when the CA sends no Retry-After,
 * and the bounds applied to the CA's value (RFC 9773 §4.3: values under a
 * minute are treated as a minute, over a day as a day). */
#define ACME_ARI_RETRY_DEFAULT apr_time_from_sec(6 * 3600)
#define ACME_ARI_RETRY_MIN     apr_time_from_sec(60)
#define ACME_ARI_RETRY_MAX     apr_time_from_sec(86400)

/* A renewalInfo answer. */
typedef struct acme_ari_window_t {
    apr_time_t start;                 /* suggestedWindow.start */
    apr_time_t end;                   /* suggestedWindow.end (> start) */
    const char *explanation_url;      /* explanationURL, or NULL */
    apr_interval_time_t retry_after;  /* when to ask again (clamped) */
} acme_ari_window_t;

/*
 * Computes the ARI CertID of a certificate (RFC 9773 §4.1):
 * base64url(AKI keyIdentifier) "." base64url(the serial number's DER
 * content octets, with its leading 0x00 when there is one). Returns
 * APR_SUCCESS and the string in *pid, or ACME_EINVAL when the certificate
 * has no Authority Key Identifier with a keyIdentifier (ARI cannot name
 * it), ACME_ECRYPTO when OpenSSL cannot encode the serial.
 */
apr_status_t acme_ari_cert_id(const char **pid, apr_pool_t *p,
                              const acme_cert_t *cert, acme_err_t *err);

/*
 * Parses an RFC 3339 date-time ("2025-01-02T04:00:00Z",
 * "2025-01-02t04:00:00.123456+02:00", a space instead of the "T"):
 * fractional seconds are kept to the microsecond, a numeric offset is
 * applied. Returns APR_SUCCESS and the time in *pt, or ACME_EINVAL for
 * anything else (missing zone, out-of-range fields, trailing text).
 */
apr_status_t acme_ari_parse_time(apr_time_t *pt, const char *s);

/* Formats a time as RFC 3339 UTC with seconds ("2025-01-02T04:00:00Z"). */
const char *acme_ari_format_time(apr_pool_t *p, apr_time_t t);

/*
 * Returns the interval after which to fetch renewalInfo again: the
 * default (6 h) when the CA sent no usable Retry-After (present == 0),
 * else retry_after clamped to [ACME_ARI_RETRY_MIN, ACME_ARI_RETRY_MAX].
 */
apr_interval_time_t acme_ari_clamp_retry(apr_interval_time_t retry_after,
                                         int present);

/*
 * Parses a renewalInfo body (JSON object with "suggestedWindow":
 * {"start", "end"} as RFC 3339 strings, optional "explanationURL") into
 * *w (retry_after is left as it was). Returns APR_SUCCESS, or ACME_EPROTO
 * with the reason: malformed JSON, a missing or non-string member, an
 * unparsable time, end not after start.
 */
apr_status_t acme_ari_parse(acme_ari_window_t *w, apr_pool_t *p,
                            const char *body, apr_size_t len,
                            acme_err_t *err);

/*
 * Fetches the renewal information of cert_id from the CA's renewalInfo
 * resource (an unauthenticated GET of <renewalInfo>/<cert_id> with the
 * client's transport) and parses it into *w, with w->retry_after from the
 * answer's Retry-After (see acme_ari_clamp_retry). Fails with ACME_ENOTFOUND
 * when the CA has no renewalInfo, the transport's status on a network
 * failure, ACME_EPROBLEM / ACME_EPROTO for an error answer (err->retry_after
 * set from its Retry-After) or a malformed window.
 */
apr_status_t acme_ari_fetch(acme_ari_window_t *w, acme_client_t *c,
                            apr_pool_t *p, const char *cert_id,
                            acme_err_t *err);

/*
 * Chooses when to renew inside w (RFC 9773 §4.2): a uniformly random time
 * in [w->start, w->end), from OpenSSL's RNG, at microsecond resolution.
 * When the chosen time is not after now, renewal is due at once and
 * *pchosen is now. Returns APR_SUCCESS, or ACME_EINVAL when end <= start.
 */
apr_status_t acme_ari_choose(apr_time_t *pchosen, const acme_ari_window_t *w,
                             apr_time_t now, apr_pool_t *p, acme_err_t *err);

#endif
