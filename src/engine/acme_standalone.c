/* mod_acme: a minimal http-01 responder for `acmectl --standalone`. */
#include <errno.h>
#include <string.h>

#include <apr_network_io.h>
#include <apr_thread_proc.h>
#include <apr_thread_mutex.h>
#include <apr_hash.h>

#include "acme_standalone.h"
#include "acme_util.h"

#define PREFIX "/.well-known/acme-challenge/"

struct acme_standalone_t {
    apr_pool_t *pool;
    apr_socket_t *sock;
    apr_thread_t *thread;
    apr_thread_mutex_t *lock;
    apr_hash_t *answers;          /* token -> keyauthz (pool strings) */
    volatile int stop;
};

static void serve_one(acme_standalone_t *srv, apr_socket_t *c, apr_pool_t *p)
{
    char buf[4096], path[512];
    apr_size_t len = 0, n;
    const char *answer = NULL, *resp;
    apr_status_t rv;

    apr_socket_timeout_set(c, apr_time_from_sec(5));
    while (len < sizeof(buf) - 1) {
        n = sizeof(buf) - 1 - len;
        rv = apr_socket_recv(c, buf + len, &n);
        if (rv != APR_SUCCESS && n == 0) {
            break;
        }
        len += n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) {
            break;
        }
    }
    buf[len] = '\0';
    path[0] = '\0';
    if (sscanf(buf, "GET %511s HTTP/1.", path) == 1
        && !strncmp(path, PREFIX, strlen(PREFIX))
        && acme_is_b64url(path + strlen(PREFIX), 256)) {
        apr_thread_mutex_lock(srv->lock);
        answer = apr_hash_get(srv->answers, path + strlen(PREFIX),
                              APR_HASH_KEY_STRING);
        answer = answer ? apr_pstrdup(p, answer) : NULL;
        apr_thread_mutex_unlock(srv->lock);
    }
    if (answer) {
        resp = apr_psprintf(p, "HTTP/1.1 200 OK\r\nContent-Type: text/plain"
                            "\r\nContent-Length: %lu\r\nConnection: close"
                            "\r\n\r\n%s", (unsigned long)strlen(answer),
                            answer);
    }
    else {
        resp = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n"
               "Content-Length: 10\r\nConnection: close\r\n\r\nnot found\n";
    }
    n = strlen(resp);
    apr_socket_send(c, resp, &n);
    acme_log(ACME_LOG_DEBUG, "standalone: %s -> %s", path[0] ? path : "?",
             answer ? "200" : "404");
}

static void *APR_THREAD_FUNC serve(apr_thread_t *t, void *data)
{
    acme_standalone_t *srv = data;
    apr_pool_t *p;

    apr_pool_create(&p, apr_thread_pool_get(t));
    while (!srv->stop) {
        apr_socket_t *c = NULL;
        apr_status_t rv;

        apr_pool_clear(p);
        rv = apr_socket_accept(&c, srv->sock, p);
        if (rv != APR_SUCCESS) {
            continue;       /* timeout: look at the stop flag again */
        }
        serve_one(srv, c, p);
        apr_socket_close(c);
    }
    apr_pool_destroy(p);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static apr_status_t standalone_cleanup(void *data)
{
    acme_standalone_stop(data);
    return APR_SUCCESS;
}

static apr_status_t bind_port(apr_socket_t **psock, apr_pool_t *p, int family,
                              int port)
{
    apr_sockaddr_t *sa;
    apr_socket_t *s = NULL;
    apr_status_t rv;

    rv = apr_sockaddr_info_get(&sa, NULL, family, (apr_port_t)port, 0, p);
    if (rv == APR_SUCCESS) {
        rv = apr_socket_create(&s, sa->family, SOCK_STREAM, APR_PROTO_TCP, p);
    }
    if (rv == APR_SUCCESS) {
        apr_socket_opt_set(s, APR_SO_REUSEADDR, 1);
#if APR_HAVE_IPV6
        if (sa->family == APR_INET6) {
            apr_socket_opt_set(s, APR_IPV6_V6ONLY, 0);
        }
#endif
        rv = apr_socket_bind(s, sa);
    }
    if (rv == APR_SUCCESS) {
        rv = apr_socket_listen(s, 16);
    }
    if (rv != APR_SUCCESS && s) {
        apr_socket_close(s);
        s = NULL;
    }
    *psock = s;
    return rv;
}

apr_status_t acme_standalone_start(acme_standalone_t **psrv, apr_pool_t *p,
                                   int port, acme_err_t *err)
{
    acme_standalone_t *srv;
    apr_status_t rv;
    char buf[256];

    srv = apr_pcalloc(p, sizeof(*srv));
    srv->pool = p;
    srv->answers = apr_hash_make(p);
    apr_thread_mutex_create(&srv->lock, APR_THREAD_MUTEX_DEFAULT, p);
#if APR_HAVE_IPV6
    rv = bind_port(&srv->sock, p, APR_INET6, port);
    if (rv != APR_SUCCESS && !((rv) == APR_FROM_OS_ERROR(EADDRINUSE)))
#endif
        rv = bind_port(&srv->sock, p, APR_INET, port);
    if (rv != APR_SUCCESS) {
        return acme_err_set(err, p, rv, "cannot listen on port %d for "
                            "http-01 (--standalone): %s%s", port,
                            apr_strerror(rv, buf, sizeof(buf)),
                            ((rv) == APR_FROM_OS_ERROR(EADDRINUSE))
                            ? " (is a web server running there? use "
                              "--webroot instead)" : "");
    }
    apr_socket_timeout_set(srv->sock, apr_time_from_msec(200));
    rv = apr_thread_create(&srv->thread, NULL, serve, srv, p);
    if (rv != APR_SUCCESS) {
        apr_socket_close(srv->sock);
        return acme_err_set(err, p, rv, "cannot start the http-01 thread");
    }
    /* A pre-cleanup: the thread must stop before its pool (a subpool of
     * p) is destroyed. */
    apr_pool_pre_cleanup_register(p, srv, standalone_cleanup);
    *psrv = srv;
    return APR_SUCCESS;
}

void acme_standalone_set(acme_standalone_t *srv, const char *token,
                         const char *keyauthz)
{
    apr_thread_mutex_lock(srv->lock);
    apr_hash_set(srv->answers, apr_pstrdup(srv->pool, token),
                 APR_HASH_KEY_STRING, apr_pstrdup(srv->pool, keyauthz));
    apr_thread_mutex_unlock(srv->lock);
}

void acme_standalone_unset(acme_standalone_t *srv, const char *token)
{
    apr_thread_mutex_lock(srv->lock);
    apr_hash_set(srv->answers, token, APR_HASH_KEY_STRING, NULL);
    apr_thread_mutex_unlock(srv->lock);
}

void acme_standalone_stop(acme_standalone_t *srv)
{
    apr_status_t trv;

    if (srv->thread) {
        srv->stop = 1;
        apr_thread_join(&trv, srv->thread);
        srv->thread = NULL;
        apr_socket_close(srv->sock);
    }
}
