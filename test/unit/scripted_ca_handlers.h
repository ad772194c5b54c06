/* mod_acme unit tests: the scripted CA's answers (included by
 * scripted_ca.h, which describes them). */
#ifndef SCRIPTED_CA_HANDLERS_H
#define SCRIPTED_CA_HANDLERS_H

SCA_FN const char *sca_new_nonce(sca_t *ca)
{
    const char *n = apr_psprintf(ca->p, "sca-nonce-%04d", ++ca->nonce_seq);

    apr_hash_set(ca->nonces, n, APR_HASH_KEY_STRING, "issued");
    return n;
}

/* An answer whose body is the JSON j (consumed). */
SCA_FN acme_http_resp_t *sca_json_resp(apr_pool_t *p, const char *url,
                                       int status, json_t *j)
{
    const char *body = sca_dump(p, j);
    acme_http_resp_t *r = acme_http_resp_make(p, url, status, body,
                                              strlen(body));

    acme_http_resp_add_header(r, p, "Content-Type", "application/json");
    return r;
}

SCA_FN acme_http_resp_t *sca_problem_resp(apr_pool_t *p, const char *url,
                                          int status, const char *type,
                                          const char *detail)
{
    const char *body = sca_problem(p, type, detail);
    acme_http_resp_t *r = acme_http_resp_make(p, url, status, body,
                                              strlen(body));

    acme_http_resp_add_header(r, p, "Content-Type",
                              "application/problem+json");
    return r;
}

SCA_FN json_t *sca_directory_json(void)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:b, s:{s:s}}}",
                     "newNonce", SCA_BASE "/new-nonce",
                     "newAccount", SCA_BASE "/new-account",
                     "newOrder", SCA_BASE "/new-order",
                     "revokeCert", SCA_BASE "/revoke",
                     "keyChange", SCA_BASE "/key-change",
                     "renewalInfo", SCA_BASE "/renewal-info",
                     "meta", "termsOfService", SCA_BASE "/terms",
                     "externalAccountRequired", 0,
                     "profiles", "classic", "the usual");
}

SCA_FN json_t *sca_challenge_json(sca_t *ca, sca_authz_t *a,
                                  const char *type)
{
    json_t *ch = json_pack("{s:s, s:s, s:s, s:s}", "type", type,
                           "url", apr_psprintf(ca->p, SCA_BASE "/chal/%d/%s",
                                               a->id, type),
                           "token", apr_psprintf(ca->p, "tok_%d_%s", a->id,
                                                 type),
                           "status", !strcmp(a->status, "pending")
                           ? "pending" : a->status);

    if (a->chal_error && a->chal_type && !strcmp(a->chal_type, type)) {
        json_object_set(ch, "status", json_string("invalid"));
        json_object_set_new(ch, "error", json_loads(a->chal_error, 0, NULL));
    }
    return ch;
}

SCA_FN json_t *sca_authz_json(sca_t *ca, sca_authz_t *a)
{
    static const char *const types[] = { "http-01", "dns-01", "tls-alpn-01" };
    json_t *chs = json_array(), *j;
    int i;

    for (i = 0; i < 3; i++) {
        if (a->wildcard && strcmp(types[i], "dns-01")) {
            continue;
        }
        json_array_append_new(chs, sca_challenge_json(ca, a, types[i]));
    }
    j = json_pack("{s:s, s:{s:s, s:s}, s:o}", "status", a->status,
                  "identifier", "type", "dns", "value", a->name,
                  "challenges", chs);
    if (a->wildcard) {
        json_object_set_new(j, "wildcard", json_true());
    }
    return j;
}

SCA_FN json_t *sca_order_json(sca_t *ca, sca_order_t *o, const char *status)
{
    json_t *urls = json_array(), *j;
    int i;

    for (i = 0; i < o->authzs->nelts; i++) {
        json_array_append_new(urls, json_string(apr_psprintf(
            ca->p, SCA_BASE "/authz/%d",
            APR_ARRAY_IDX(o->authzs, i, sca_authz_t *)->id)));
    }
    j = json_pack("{s:s, s:O, s:o, s:s}", "status", status,
                  "identifiers", o->identifiers, "authorizations", urls,
                  "finalize", apr_psprintf(ca->p, SCA_BASE "/finalize/%d",
                                           o->id));
    if (!strcmp(status, "valid")) {
        json_object_set_new(j, "certificate", json_string(apr_psprintf(
            ca->p, SCA_BASE "/cert/%d", o->id)));
    }
    return j;
}

/* The JSON text of order id (1, 2, ...) with the given status, for
 * scripted answers; with a problem (short type, detail) as its "error"
 * when type is not NULL, and without the member drop when not NULL. */
SCA_FN const char *sca_order_body(sca_t *ca, int id, const char *status,
                                  const char *type, const char *detail,
                                  const char *drop)
{
    json_t *j;

    if (id < 1 || id > ca->orders->nelts) {
        return "{}";
    }
    j = sca_order_json(ca, APR_ARRAY_IDX(ca->orders, id - 1, sca_order_t *),
                       status);
    if (type) {
        json_object_set_new(j, "error", json_loads(sca_problem(
            ca->p, type, detail), 0, NULL));
    }
    if (drop) {
        json_object_del(j, drop);
    }
    return sca_dump(ca->p, j);
}

SCA_FN acme_http_resp_t *sca_new_account(sca_t *ca, apr_pool_t *p,
                                         sca_req_t *r)
{
    acme_http_resp_t *resp;

    if (!json_is_true(json_object_get(r->payload, "termsOfServiceAgreed"))
        && !json_is_true(json_object_get(r->payload, "onlyReturnExisting"))) {
        sca_violation(ca, "newAccount without termsOfServiceAgreed");
    }
    if (!ca->account_exists) {
        if (json_is_true(json_object_get(r->payload, "onlyReturnExisting"))) {
            return sca_problem_resp(p, r->url, 400, "accountDoesNotExist",
                                    "no account for this key");
        }
        ca->account_exists = 1;
        resp = sca_json_resp(p, r->url, 201,
                             json_pack("{s:s}", "status", "valid"));
    }
    else {
        resp = sca_json_resp(p, r->url, 200,
                             json_pack("{s:s}", "status", "valid"));
    }
    acme_http_resp_add_header(resp, p, "Location", ca->account_url);
    return resp;
}

SCA_FN sca_authz_t *sca_add_authz(sca_t *ca, const char *value)
{
    sca_authz_t *a = apr_pcalloc(ca->p, sizeof(*a));
    const char *st;

    a->id = ca->authzs->nelts + 1;
    a->wildcard = !strncmp(value, "*.", 2);
    a->name = apr_pstrdup(ca->p, a->wildcard ? value + 2 : value);
    st = apr_table_get(ca->name_status, value);
    a->status = st ? st : "pending";
    a->fail = apr_table_get(ca->name_fails, value);
    APR_ARRAY_PUSH(ca->authzs, sca_authz_t *) = a;
    return a;
}

SCA_FN acme_http_resp_t *sca_new_order(sca_t *ca, apr_pool_t *p,
                                       sca_req_t *r)
{
    json_t *ids = json_object_get(r->payload, "identifiers"), *v;
    sca_order_t *o = apr_pcalloc(ca->p, sizeof(*o));
    acme_http_resp_t *resp;
    int ready = 1;
    size_t i;

    if (!json_is_array(ids) || !json_array_size(ids)) {
        sca_violation(ca, "newOrder without identifiers");
        return sca_problem_resp(p, r->url, 400, "malformed", "identifiers");
    }
    o->id = ca->orders->nelts + 1;
    o->identifiers = sca_keep(ca, json_incref(ids));
    o->authzs = apr_array_make(ca->p, 2, sizeof(sca_authz_t *));
    json_array_foreach(ids, i, v) {
        const char *val = json_string_value(json_object_get(v, "value"));
        sca_authz_t *a = sca_add_authz(ca, val ? val : "");
        ready = ready && !strcmp(a->status, "valid");
        APR_ARRAY_PUSH(o->authzs, sca_authz_t *) = a;
    }
    o->status = ready ? "ready" : "pending";
    APR_ARRAY_PUSH(ca->orders, sca_order_t *) = o;
    resp = sca_json_resp(p, r->url, 201, sca_order_json(ca, o, o->status));
    acme_http_resp_add_header(resp, p, "Location", apr_psprintf(
        p, SCA_BASE "/order/%d", o->id));
    return resp;
}

SCA_FN sca_order_t *sca_order_of(sca_t *ca, int id)
{
    return id >= 1 && id <= ca->orders->nelts
        ? APR_ARRAY_IDX(ca->orders, id - 1, sca_order_t *) : NULL;
}

SCA_FN sca_authz_t *sca_authz_of(sca_t *ca, int id)
{
    return id >= 1 && id <= ca->authzs->nelts
        ? APR_ARRAY_IDX(ca->authzs, id - 1, sca_authz_t *) : NULL;
}

/* An order is ready when all its authorizations are valid. */
SCA_FN void sca_order_update(sca_t *ca)
{
    int i, j;

    for (i = 0; i < ca->orders->nelts; i++) {
        sca_order_t *o = APR_ARRAY_IDX(ca->orders, i, sca_order_t *);
        int valid = 1, invalid = 0;
        if (strcmp(o->status, "pending")) continue;
        for (j = 0; j < o->authzs->nelts; j++) {
            const char *st = APR_ARRAY_IDX(o->authzs, j, sca_authz_t *)
                ->status;
            valid = valid && !strcmp(st, "valid");
            invalid = invalid || !strcmp(st, "invalid");
        }
        o->status = invalid ? "invalid" : valid ? "ready" : "pending";
    }
}

SCA_FN acme_http_resp_t *sca_authz_get(sca_t *ca, apr_pool_t *p,
                                       sca_req_t *r, sca_authz_t *a)
{
    if (a->pending_left > 0 && --a->pending_left == 0) {
        a->status = a->fail ? "invalid" : "valid";
        sca_order_update(ca);
    }
    return sca_json_resp(p, r->url, 200, sca_authz_json(ca, a));
}

SCA_FN acme_http_resp_t *sca_challenge(sca_t *ca, apr_pool_t *p,
                                       sca_req_t *r, sca_authz_t *a,
                                       const char *type)
{
    if (!json_is_object(r->payload) || json_object_size(r->payload)) {
        sca_violation(ca, "challenge answer is not {}");
    }
    if (a->fail) {
        a->chal_error = sca_problem(ca->p, "unauthorized", a->fail);
        a->chal_type = apr_pstrdup(ca->p, type);
    }
    if (ca->pending_polls > 0) {
        a->pending_left = ca->pending_polls + 1;
    }
    else {
        a->status = a->fail ? "invalid" : "valid";
        sca_order_update(ca);
    }
    return sca_json_resp(p, r->url, 200, sca_challenge_json(ca, a, type));
}

SCA_FN int sca_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The DNS names of a CSR's subjectAltName, sorted, comma-joined. */
SCA_FN const char *sca_csr_names(sca_t *ca, X509_REQ *req)
{
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    GENERAL_NAMES *gens;
    apr_array_header_t *names = apr_array_make(ca->p, 2, sizeof(char *));
    int i;

    gens = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL)
                : NULL;
    for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            APR_ARRAY_PUSH(names, const char *) = apr_pstrmemdup(
                ca->p, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                (apr_size_t)ASN1_STRING_length(g->d.dNSName));
        }
    }
    GENERAL_NAMES_free(gens);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    qsort(names->elts, (size_t)names->nelts, sizeof(char *), sca_cmp);
    return acme_array_join(ca->p, names, ",");
}

/* The order's dns identifiers sorted, comma-joined; san receives them
 * as an OpenSSL subjectAltName string. */
SCA_FN const char *sca_order_names(sca_t *ca, sca_order_t *o,
                                   const char **san)
{
    apr_array_header_t *names = apr_array_make(ca->p, 2, sizeof(char *));
    json_t *v;
    size_t i;

    *san = "";
    json_array_foreach(o->identifiers, i, v) {
        const char *val = json_string_value(json_object_get(v, "value"));
        const char *type = json_string_value(json_object_get(v, "type"));
        int ip = type && !strcmp(type, "ip");
        *san = apr_pstrcat(ca->p, *san, i ? "," : "", ip ? "IP:" : "DNS:",
                           val, NULL);
        if (!ip) APR_ARRAY_PUSH(names, const char *) = val;
    }
    qsort(names->elts, (size_t)names->nelts, sizeof(char *), sca_cmp);
    return acme_array_join(ca->p, names, ",");
}

/* Issues the leaf for the CSR and both chains. */
SCA_FN void sca_issue(sca_t *ca, sca_order_t *o, X509_REQ *req)
{
    const char *san, *names = sca_order_names(ca, o, &san);
    const char *csr_names = sca_csr_names(ca, req);
    X509 *leaf;

    if (strcmp(names, csr_names)) {
        sca_violation(ca, "CSR names %s, order names %s", csr_names, names);
    }
    leaf = sca_x509(ca, json_string_value(json_object_get(json_array_get(
                        o->identifiers, 0), "value")), san,
                    X509_REQ_get0_pubkey(req), ca->int_cert,
                    acme_key_evp(ca->int_key));
    o->chain = apr_pstrcat(ca->p, sca_pem(ca, leaf), sca_pem(ca, ca->int_cert),
                           NULL);
    o->alt_chain = apr_pstrcat(ca->p, sca_pem(ca, leaf),
                               sca_pem(ca, ca->int_alt), NULL);
}

SCA_FN acme_http_resp_t *sca_finalize(sca_t *ca, apr_pool_t *p,
                                      sca_req_t *r, sca_order_t *o)
{
    const char *csr = json_string_value(json_object_get(r->payload, "csr"));
    unsigned char *der = NULL;
    const unsigned char *q;
    apr_size_t len = 0;
    X509_REQ *req = NULL;

    if (!csr || acme_b64url_decode(&der, &len, p, csr) != APR_SUCCESS) {
        sca_violation(ca, "finalize without a base64url csr");
        return sca_problem_resp(p, r->url, 400, "malformed", "no csr");
    }
    q = der;
    req = d2i_X509_REQ(NULL, &q, (long)len);
    if (!req || X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) != 1) {
        sca_violation(ca, "finalize with a CSR that does not verify");
        X509_REQ_free(req);
        return sca_problem_resp(p, r->url, 400, "badCSR", "bad signature");
    }
    if (strcmp(o->status, "ready")) {
        X509_REQ_free(req);
        return sca_problem_resp(p, r->url, 403, "orderNotReady", apr_psprintf(
            p, "order is %s, not ready", o->status));
    }
    sca_issue(ca, o, req);
    X509_REQ_free(req);
    o->processing_left = ca->processing_polls;
    o->status = o->processing_left ? "processing" : "valid";
    return sca_json_resp(p, r->url, 200, sca_order_json(ca, o, o->status));
}

SCA_FN acme_http_resp_t *sca_order_get(sca_t *ca, apr_pool_t *p,
                                       sca_req_t *r, sca_order_t *o)
{
    if (!strcmp(o->status, "processing") && o->processing_left-- <= 0) {
        o->status = "valid";
    }
    return sca_json_resp(p, r->url, 200, sca_order_json(ca, o, o->status));
}

SCA_FN acme_http_resp_t *sca_cert_get(sca_t *ca, apr_pool_t *p,
                                      sca_req_t *r, sca_order_t *o, int alt)
{
    const char *pem = alt ? o->alt_chain : o->chain;
    acme_http_resp_t *resp;

    if (!pem) {
        return sca_problem_resp(p, r->url, 404, "malformed", "no such cert");
    }
    resp = acme_http_resp_make(p, r->url, 200, pem, strlen(pem));
    acme_http_resp_add_header(resp, p, "Content-Type",
                              "application/pem-certificate-chain");
    if (ca->alternates && !alt) {
        /* relative, as a CA may send it */
        acme_http_resp_add_header(resp, p, "Link", apr_psprintf(
            p, "</acme/cert/%d/alt>;rel=\"alternate\"", o->id));
    }
    acme_http_resp_add_header(resp, p, "Link",
                              "<" SCA_DIR ">;rel=\"index\"");
    return resp;
}

/* POST-as-GET requests must have an empty payload. */
SCA_FN void sca_want_empty(sca_t *ca, sca_req_t *r)
{
    if (!r->empty_payload) {
        sca_violation(ca, "POST-as-GET to %s has a payload", r->path);
    }
}

/* The answers to POSTs to an object's URL. */
SCA_FN acme_http_resp_t *sca_post_object(sca_t *ca, apr_pool_t *p,
                                         sca_req_t *r)
{
    char type[64];
    int n = 0;

    if (sscanf(r->path, "/authz/%d", &n) == 1 && sca_authz_of(ca, n)) {
        sca_want_empty(ca, r);
        return sca_authz_get(ca, p, r, sca_authz_of(ca, n));
    }
    if (sscanf(r->path, "/chal/%d/%63s", &n, type) == 2
        && sca_authz_of(ca, n)) {
        return sca_challenge(ca, p, r, sca_authz_of(ca, n), type);
    }
    if (sscanf(r->path, "/finalize/%d", &n) == 1 && sca_order_of(ca, n)) {
        return sca_finalize(ca, p, r, sca_order_of(ca, n));
    }
    if (sscanf(r->path, "/order/%d", &n) == 1 && sca_order_of(ca, n)) {
        sca_want_empty(ca, r);
        return sca_order_get(ca, p, r, sca_order_of(ca, n));
    }
    if (sscanf(r->path, "/cert/%d", &n) == 1 && sca_order_of(ca, n)) {
        sca_want_empty(ca, r);
        return sca_cert_get(ca, p, r, sca_order_of(ca, n),
                            strstr(r->path, "/alt") != NULL);
    }
    sca_violation(ca, "%s to an unknown URL %s", r->method, r->url);
    return sca_problem_resp(p, r->url, 404, "malformed", "no such URL");
}

/* What the CA answers when nothing is scripted. */
SCA_FN acme_http_resp_t *sca_default(sca_t *ca, apr_pool_t *p, sca_req_t *r)
{
    if (!strcmp(r->path, "/directory") && strcmp(r->method, "POST")) {
        return sca_json_resp(p, r->url, 200, sca_directory_json());
    }
    if (!strcmp(r->path, "/new-nonce") && strcmp(r->method, "POST")) {
        return acme_http_resp_make(p, r->url, strcmp(r->method, "HEAD")
                                   ? 204 : 200, NULL, 0);
    }
    if (strcmp(r->method, "POST")) {
        sca_violation(ca, "%s %s", r->method, r->url);
        return sca_problem_resp(p, r->url, 405, "malformed", "POST only");
    }
    if (!strcmp(r->path, "/new-account")) {
        return sca_new_account(ca, p, r);
    }
    if (!strcmp(r->path, "/new-order")) {
        return sca_new_order(ca, p, r);
    }
    if (!strcmp(r->path, "/acct/1")) {
        return sca_json_resp(p, r->url, 200, json_pack("{s:s}", "status",
                                                       "valid"));
    }
    if (!strcmp(r->path, "/revoke")) {
        if (!json_is_string(json_object_get(r->payload, "certificate"))) {
            sca_violation(ca, "revocation without a certificate");
        }
        return acme_http_resp_make(p, r->url, 200, NULL, 0);
    }
    return sca_post_object(ca, p, r);
}

/* Puts a scripted answer over (or instead of) the default one. */
SCA_FN acme_http_resp_t *sca_scripted(apr_pool_t *p, sca_req_t *r,
                                      sca_answer_t *a,
                                      acme_http_resp_t *resp)
{
    const apr_array_header_t *h = apr_table_elts(a->headers);
    int i;

    if (!resp) {
        resp = acme_http_resp_make(p, r->url, a->status, a->body,
                                   a->body ? strlen(a->body) : 0);
    }
    else {
        if (a->status > 0) resp->status = a->status;
        if (a->body) {
            resp->body = apr_pstrdup(p, a->body);
            resp->body_len = strlen(a->body);
        }
    }
    if (a->drop_header) {
        apr_table_unset(resp->headers, a->drop_header);
    }
    for (i = 0; i < h->nelts; i++) {
        const apr_table_entry_t *e = &APR_ARRAY_IDX(h, i, apr_table_entry_t);
        acme_http_resp_add_header(resp, p, e->key, e->val);
    }
    return resp;
}

/* The replacement transport: every request of a client made by
 * sca_client comes here. */
SCA_FN apr_status_t sca_transport(acme_http_resp_t **presp, void *baton,
                                  apr_pool_t *p, const char *method,
                                  const char *url, const char *ctype,
                                  const char *body, apr_size_t len,
                                  acme_err_t *err)
{
    sca_t *ca = baton;
    sca_req_t *r = apr_pcalloc(ca->p, sizeof(*r));
    acme_http_resp_t *resp = NULL;
    sca_answer_t *a;

    r->method = apr_pstrdup(ca->p, method);
    r->url = apr_pstrdup(ca->p, url);
    r->path = strncmp(url, SCA_BASE "/", strlen(SCA_BASE "/"))
        ? r->url : r->url + strlen(SCA_BASE);
    APR_ARRAY_PUSH(ca->requests, sca_req_t *) = r;
    if (r->path == r->url) {
        sca_violation(ca, "request to %s, outside the CA", url);
    }
    if (!strcmp(method, "POST")) {
        sca_check_jws(ca, p, r, ctype, body, len);
    }
    a = sca_pop(ca, r->path);
    if (a && a->status == 0) {
        return acme_err_set(err, p, ACME_ECONNECT, "cannot reach %s: "
                            "scripted connection failure", url);
    }
    if (!a || a->run_default) {
        resp = sca_default(ca, p, r);
    }
    if (a) {
        resp = sca_scripted(p, r, a, resp);
    }
    if (!a || !a->no_nonce) {
        acme_http_resp_add_header(resp, p, "Replay-Nonce", sca_new_nonce(ca));
    }
    *presp = resp;
    return APR_SUCCESS;
}

#endif
