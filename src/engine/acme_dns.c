/* mod_acme: seeing a dns-01 TXT record before the CA is asked to look.
 * Uses the C library's resolver (libresolv) for the query and its message
 * parser for the answer. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "acme_dns.h"

static apr_status_t set_resolver(res_state st, const char *resolver,
                                 apr_pool_t *p, acme_err_t *err)
{
    char *host = apr_pstrdup(p, resolver), *colon;
    struct sockaddr_in sa;
    int port = 53;

    colon = strrchr(host, ':');
    if (colon) {
        *colon = '\0';
        port = atoi(colon + 1);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        return acme_err_set(err, p, ACME_EINVAL, "DNS resolver '%s' is not "
                            "IPv4[:port]", resolver);
    }
    st->nsaddr_list[0] = sa;
    st->nscount = 1;
    return APR_SUCCESS;
}

apr_status_t acme_dns_txt(apr_array_header_t **pvalues, apr_pool_t *p,
                          const char *qname, const char *resolver,
                          acme_err_t *err)
{
    struct __res_state st;
    unsigned char answer[8192];
    apr_array_header_t *out;
    apr_status_t rv = APR_SUCCESS;
    ns_msg msg;
    int len, i, inited = 0;

    out = apr_array_make(p, 2, sizeof(const char *));
    memset(&st, 0, sizeof(st));
    if (res_ninit(&st) != 0) {
        rv = acme_err_set(err, p, ACME_EGENERAL, "cannot initialise the "
                          "resolver");
        goto cleanup;
    }
    inited = 1;
    st.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
    st.retrans = 2;
    st.retry = 2;
    if (resolver) {
        rv = set_resolver(&st, resolver, p, err);
        if (rv != APR_SUCCESS) {
            goto cleanup;
        }
    }
    len = res_nquery(&st, qname, ns_c_in, ns_t_txt, answer, sizeof(answer));
    if (len < 0) {
        if (st.res_h_errno == HOST_NOT_FOUND || st.res_h_errno == NO_DATA) {
            goto cleanup;    /* no such record (yet) */
        }
        rv = acme_err_set(err, p, ACME_ECONNECT, "TXT lookup of %s at %s "
                          "failed: %s", qname, resolver ? resolver
                          : "the system resolver", hstrerror(st.res_h_errno));
        goto cleanup;
    }
    if (ns_initparse(answer, len, &msg) < 0) {
        rv = acme_err_set(err, p, ACME_EPROTO, "malformed DNS answer for %s",
                          qname);
        goto cleanup;
    }
    for (i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        const unsigned char *d, *end;
        char *value = apr_pstrdup(p, "");

        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_txt) {
            continue;
        }
        d = ns_rr_rdata(rr);
        end = d + ns_rr_rdlen(rr);
        while (d < end) {
            unsigned int n = *d++;
            if (d + n > end) {
                break;
            }
            value = apr_pstrcat(p, value, apr_pstrmemdup(p, (const char *)d, n),
                                NULL);
            d += n;
        }
        APR_ARRAY_PUSH(out, const char *) = value;
    }
cleanup:
    if (inited) {
        res_nclose(&st);
    }
    *pvalues = out;
    return rv;
}

apr_status_t acme_dns_wait(const apr_array_header_t *names,
                           const apr_array_header_t *values,
                           const char *resolver, apr_interval_time_t timeout,
                           apr_pool_t *p, acme_err_t *err)
{
    apr_time_t deadline = apr_time_now() + timeout;
    const char *missing = NULL, *last_error = NULL;
    apr_pool_t *scratch;
    int i, j;

    apr_pool_create(&scratch, p);
    for (;;) {
        missing = NULL;
        last_error = NULL;
        apr_pool_clear(scratch);
        for (i = 0; i < names->nelts; i++) {
            const char *qname = apr_pstrcat(scratch, "_acme-challenge.",
                APR_ARRAY_IDX(names, i, const char *), NULL);
            const char *want = APR_ARRAY_IDX(values, i, const char *);
            apr_array_header_t *got;
            acme_err_t lerr;
            int seen = 0;

            if (acme_dns_txt(&got, scratch, qname, resolver, &lerr)
                != APR_SUCCESS) {
                last_error = apr_pstrdup(p, lerr.msg);
            }
            else {
                for (j = 0; j < got->nelts; j++) {
                    if (!strcmp(APR_ARRAY_IDX(got, j, const char *), want)) {
                        seen = 1;
                    }
                }
            }
            if (!seen) {
                missing = apr_psprintf(p, "%s%s%s TXT %s", missing ? missing
                                       : "", missing ? ", " : "", qname, want);
            }
        }
        if (!missing) {
            break;
        }
        if (apr_time_now() + apr_time_from_sec(2) > deadline) {
            break;
        }
        apr_sleep(apr_time_from_sec(2));
    }
    apr_pool_destroy(scratch);
    if (missing) {
        return acme_err_set(err, p, ACME_ETIMEOUT, "the dns-01 record did not "
                            "become visible at %s within %d s: %s%s%s",
                            resolver ? resolver : "the system resolver",
                            (int)apr_time_sec(timeout), missing,
                            last_error ? "; " : "",
                            last_error ? last_error : "");
    }
    acme_log(ACME_LOG_INFO, "dns-01 records visible at %s",
             resolver ? resolver : "the system resolver");
    return APR_SUCCESS;
}
