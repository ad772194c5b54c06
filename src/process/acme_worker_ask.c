/* mod_acme: the worker's questions to the supervisor. */
#include <stdio.h>
#include <stdlib.h>

#include "acme_worker_ask.h"

apr_status_t acme_worker_ask(json_t **preply, apr_pool_t *p, const char *what,
                             json_t *msg, acme_err_t *err)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    char *line = NULL;
    size_t cap = 0;
    json_t *reply = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (preply) {
        *preply = NULL;
    }
    if (!text) {
        rv = acme_err_set(err, p, ACME_EINVAL, "%s: cannot encode the "
                          "question", what);
        goto cleanup;
    }
    fprintf(stdout, "%s\n", text);
    fflush(stdout);
    if (getline(&line, &cap, stdin) < 0) {
        rv = acme_err_set(err, p, ACME_EHOOK, "%s: no answer from the "
                          "supervisor", what);
        goto cleanup;
    }
    reply = json_loads(line, 0, NULL);
    if (!json_is_true(json_object_get(reply, "ok"))) {
        const char *why = json_string_value(json_object_get(reply, "error"));
        rv = why ? acme_err_set(err, p, ACME_EHOOK, "%s", why)
                 : acme_err_set(err, p, ACME_EHOOK, "%s: refused by the "
                                "supervisor", what);
        goto cleanup;
    }
    if (preply) {
        *preply = reply;
        reply = NULL;
    }
cleanup:
    free(text);
    free(line);
    if (reply) json_decref(reply);
    return rv;
}
