/* mod_acme: small helpers: base64url, strings, files. */
#ifndef ACME_UTIL_H
#define ACME_UTIL_H

#include <sys/stat.h>

#include "acme_common.h"
#include <apr_file_info.h>

/* Encodes data as base64url without padding (RFC 7515 §2), using APR-util's
 * base64 and translating the alphabet. Returns a NUL-terminated string. */
const char *acme_b64url_encode(apr_pool_t *p, const unsigned char *data,
                               apr_size_t len);

/* Decodes base64url (padding optional). Returns APR_SUCCESS and the bytes in
 * *pdata (NUL-terminated for convenience) or ACME_EINVAL on bad input. */
apr_status_t acme_b64url_decode(unsigned char **pdata, apr_size_t *plen,
                                apr_pool_t *p, const char *s);

/* Returns non-zero if s is a non-empty string of base64url characters only
 * ([A-Za-z0-9_-]) and no longer than maxlen. */
int acme_is_b64url(const char *s, apr_size_t maxlen);

/* Reads a whole file into pool memory (NUL-terminated). Fails with
 * ACME_EINVAL if the file is larger than maxlen bytes. */
apr_status_t acme_file_read(char **pdata, apr_size_t *plen, apr_pool_t *p,
                            const char *path, apr_size_t maxlen);

/* acme_file_read with the failure said in err: "cannot read WHAT file
 * PATH: REASON", the reason "file too large" beyond maxlen. */
apr_status_t acme_file_read_err(char **pdata, apr_size_t *plen, apr_pool_t *p,
                                const char *path, apr_size_t maxlen,
                                const char *what, acme_err_t *err);

/* Frees an object that a pool owns (see acme_pool_owns). */
typedef void acme_free_fn(void *obj);

/* Has pool p free obj with free_fn when p is cleared or destroyed: for an
 * OpenSSL or jansson object that a record allocated in p holds for its
 * lifetime. Nothing is done for a NULL obj. */
void acme_pool_owns(apr_pool_t *p, void *obj, acme_free_fn *free_fn);

/* Writes data to path atomically: a temporary file in the same directory
 * with the given permissions, fsync, rename over path, fsync the directory.
 * Either the old or the new content is at path afterwards, never a mix. */
apr_status_t acme_file_write_atomic(const char *path, const void *data,
                                    apr_size_t len, apr_fileperms_t perms,
                                    apr_pool_t *p);

/* Like acme_file_write_atomic (a reader sees the old or the new content,
 * never a mix) but without the fsyncs: for files that are remade when a
 * crash loses them (challenge answers, the key of an order in flight,
 * fallback certificates, status summaries), and for files the caller
 * flushes soon after with acme_fs_sync (a lineage version's files, the
 * supervisor's state files). */
apr_status_t acme_file_write_volatile(const char *path, const void *data,
                                      apr_size_t len, apr_fileperms_t perms,
                                      apr_pool_t *p);

/* Whether two stat() results are the same file, unchanged: device, inode,
 * size and modification time (a file replaced by rename has another
 * inode). What the caches of parsed files are keyed on. */
int acme_file_same(const struct stat *a, const struct stat *b);

/* Flushes the whole file system that holds path to disk (syncfs): one
 * flush for several files written with acme_file_write_volatile. */
apr_status_t acme_fs_sync(const char *path, apr_pool_t *p);

/* Creates a directory and its parents; the leaf gets perms, and an existing
 * leaf is chmod'ed to perms. */
apr_status_t acme_mkdir(const char *path, apr_fileperms_t perms,
                        apr_pool_t *p);

/* Lowercases an ASCII string in place and returns it. */
char *acme_str_tolower(char *s);

/* Hex-encodes bytes (lowercase). */
const char *acme_hex_encode(apr_pool_t *p, const unsigned char *data,
                            apr_size_t len);

/* Returns the array of const char* joined with sep. */
const char *acme_array_join(apr_pool_t *p, const apr_array_header_t *a,
                            const char *sep);

/* Returns non-zero if the array of const char* contains s (case-insensitive). */
int acme_array_contains(const apr_array_header_t *a, const char *s);

/* Formats a time as ISO 8601 UTC ("2026-01-02T03:04:05Z"). */
const char *acme_iso_time(apr_pool_t *p, apr_time_t t);

/* Returns a random integer in [0, n) from OpenSSL's RNG. */
apr_uint32_t acme_random_uniform(apr_uint32_t n);

#endif
