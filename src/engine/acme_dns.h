/* mod_acme: seeing a dns-01 TXT record before the CA is asked to look. */
#ifndef ACME_DNS_H
#define ACME_DNS_H

#include "acme_common.h"

/*
 * Looks up the TXT records of `qname` and returns their values (const
 * char*, each record's strings concatenated). resolver: "IP" or "IP:PORT"
 * of the DNS server to ask (IPv4), or NULL for the system's resolvers.
 * A name with no TXT record gives an empty array and APR_SUCCESS; a
 * resolver that does not answer gives ACME_ECONNECT.
 */
apr_status_t acme_dns_txt(apr_array_header_t **pvalues, apr_pool_t *p,
                          const char *qname, const char *resolver,
                          acme_err_t *err);

/*
 * Waits until every (name, value) pair is visible: for each i, the TXT
 * records of "_acme-challenge." names[i] include values[i]. Polls every
 * 2 s until timeout; fails with ACME_ETIMEOUT naming the records still
 * missing.
 */
apr_status_t acme_dns_wait(const apr_array_header_t *names,
                           const apr_array_header_t *values,
                           const char *resolver, apr_interval_time_t timeout,
                           apr_pool_t *p, acme_err_t *err);

#endif
