/* test/tools/tls_answer.c -- writes a TLS challenge answer the way the
 * worker does (src/engine/acme_challenges.c): STORE/challenges/<name>.<type>.pem =
 * the challenge certificate's PEM followed by its throwaway key's PEM,
 * mode 0644, written atomically. Used by test/e2e/t_module_challenges.sh to
 * put answers in place without a CA (tls-sni-01 has no CA to test with).
 *
 *   tls_answer alpn DIR NAME KEYAUTHZ   writes DIR/NAME.tls-alpn-01.pem
 *   tls_answer sni DIR KEYAUTHZ         writes DIR/<Z1>.<Z2>.acme.invalid.tls-sni-01.pem
 *
 * Prints the path of the file written on stdout (and, for sni, the SNI name
 * the engine derived on a second line). Exit status 0 on success, 1 with a
 * message on stderr otherwise. */
#include <stdio.h>
#include <string.h>

#include "apr_general.h"
#include "apr_pools.h"
#include "apr_strings.h"
#include "apr_file_info.h"

#include "acme_common.h"
#include "acme_cert.h"
#include "acme_key.h"
#include "acme_challenge_cert.h"
#include "acme_util.h"
#include "acme_challenges.h"

static int usage(void)
{
    fprintf(stderr, "usage: tls_answer alpn DIR NAME KEYAUTHZ\n"
                    "       tls_answer sni DIR KEYAUTHZ\n");
    return 2;
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;
    acme_err_t err;
    acme_cert_t *cert = NULL;
    acme_key_t *key = NULL;
    const char *type, *dir, *name, *keyauthz, *path;
    apr_status_t rv;

    if (argc < 2) {
        return usage();
    }
    if (!strcmp(argv[1], "alpn") && argc == 5) {
        type = "tls-alpn-01";
        dir = argv[2];
        name = argv[3];
        keyauthz = argv[4];
    }
    else if (!strcmp(argv[1], "sni") && argc == 4) {
        type = "tls-sni-01";
        dir = argv[2];
        name = NULL;
        keyauthz = argv[3];
    }
    else {
        return usage();
    }

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    acme_err_clear(&err);
    if (acme_init(p) != APR_SUCCESS) {
        fprintf(stderr, "tls_answer: acme_init failed\n");
        return 1;
    }
    if (name) {
        rv = acme_challenge_cert_alpn(&cert, &key, p, name, keyauthz, &err);
    }
    else {
        name = acme_challenge_sni_name(p, keyauthz);
        rv = acme_challenge_cert_sni(&cert, &key, p, keyauthz, &err);
    }
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "tls_answer: %s\n", err.msg ? err.msg : "failed");
        return 1;
    }
    path = acme_challenges_tls_path(p, dir, type, name);
    rv = acme_challenges_write_tls(p, dir, type, name, cert, key, &err);
    if (rv != APR_SUCCESS) {
        fprintf(stderr, "tls_answer: %s\n", err.msg ? err.msg : "failed");
        return 1;
    }
    printf("%s\n", path);
    if (!strcmp(type, "tls-sni-01")) {
        printf("%s\n", name);
    }
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
