#!/usr/bin/env bash
# test/e2e/t_paths.sh -- what the unprivileged side can reach.
#
# With a working lineage (module + pebble):
#   a. as the worker's user ($APACHE_USER): no store path is writable except
#      STORE/challenges (checked with touch/append, and the owner and mode
#      of every path listed)
#   b. private keys (live/, archive/, staging/, fallback/, accounts/) are not
#      readable by the httpd User
#   c. http-01 requests with .., %2e%2e, encoded slashes, NUL (%00), an
#      over-long (300 characters) or an unknown token get 404, and a file
#      outside the store that traversal would reach is never served
#   d. the status handler (SetHandler acme-status; skipped when the module
#      does not register it) never prints a private key
#
# Run: DNS_PORT=18353 CTS_MGMT_PORT=18355 PEBBLE_PORT=16300 \
#      PEBBLE_MGMT_PORT=16301 HTTP01_PORT=16302 TLSALPN_PORT=16303 \
#      bash test/e2e/run.sh t_paths.sh

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
hostile_require_root "store paths and http-01 traversal"
e2e_init
hostile_binaries
STORE=$WORK/store

HAVE_STATUS=0
grep -q acme-status "$TOP"/src/httpd/mod_acme*.c 2>/dev/null && HAVE_STATUS=1
STATUS_CONF=""
[ "$HAVE_STATUS" = 1 ] && STATUS_CONF='<Location "/acme-status">
    SetHandler acme-status
    Require all granted
</Location>'

challtestsrv_start
pebble_start
h_start "$ACME_SERVER" "$STATUS_CONF" || { t_begin "harness: Apache starts"; t_fail "see $(h_elog)"; t_summary; exit 1; }
t_begin "a working lineage (module + pebble)"
if h_wait_first_cert 60 && wait_until 10 store_consistent "$STORE" "$H_NAME"; then
    t_pass
else
    t_fail "no certificate within 60 s"; h_show_log; t_summary; exit 1
fi
sleep 2
# a staging directory with a key in it, as during a pass
mkdir -p "$STORE/staging/$H_NAME"
[ -f "$STORE/staging/$H_NAME/privkey.pem" ] || {
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$STORE/staging/$H_NAME/privkey.pem" 2>/dev/null
    chmod 600 "$STORE/staging/$H_NAME/privkey.pem"
    STAGED_BY_TEST=1
}
as_www() { runuser -u "$APACHE_USER" -- "$@"; }

# ---------------------------------------------------------------------------
t_begin "as $APACHE_USER, nothing in the store is writable except STORE/challenges"
writable_case() {
    local bad="" d f
    e2e_log "owner and mode of every store path:"
    (cd "$STORE" && find . -printf '%M %u:%g %p%l\n' | LC_ALL=C sort -k3 | sed 's/^/#   /' | head -n 60)
    while IFS= read -r -d '' d; do
        if as_www sh -c "touch '$d/.www-probe'" 2>/dev/null; then
            rm -f "$d/.www-probe"
            case "$d" in "$STORE/challenges") ;; *) bad="$bad dir:${d#$STORE/}" ;; esac
        fi
    done < <(find "$STORE" -type d -print0)
    while IFS= read -r -d '' f; do
        if as_www sh -c ": >> '$f'" 2>/dev/null; then
            case "$f" in "$STORE/challenges/"*) ;; *) bad="$bad file:${f#$STORE/}" ;; esac
        fi
    done < <(find "$STORE" \( -type f -o -type l \) -print0)
    as_www sh -c "touch '$STORE/live/x'" 2>/dev/null && bad="$bad live/x"
    as_www sh -c "touch '$STORE/challenges/.www-probe'" 2>/dev/null \
        || bad="$bad (challenges/ is not writable: the worker cannot answer)"
    rm -f "$STORE/challenges/.www-probe"
    [ -z "$bad" ] && t_pass || t_fail "writable by $APACHE_USER:$bad"
}
writable_case

t_begin "private keys are not readable by $APACHE_USER (live, archive, staging, fallback, accounts)"
keys_case() {
    local bad="" k n=0 area
    mkdir -p "$STORE/fallback"
    while IFS= read -r -d '' k; do
        n=$((n + 1))
        if as_www cat "$k" 2>/dev/null | grep -q 'PRIVATE KEY'; then bad="$bad ${k#$STORE/}"; fi
    done < <(find "$STORE" \( -name '*privkey*' -o -name 'private_key*' -o -name '*.key' \) -print0)
    for area in live archive staging accounts; do
        find "$STORE/$area" \( -name '*privkey*' -o -name 'private_key*' \) | grep -q . \
            || { bad="$bad (no key found under $area/ to check)"; }
    done
    e2e_log "$n key files checked; fallback keys: $(find "$STORE/fallback" -name '*privkey*' | wc -l)"
    [ -z "$bad" ] && t_pass || t_fail "readable:$bad"
}
keys_case

# ---------------------------------------------------------------------------
# c. http-01 traversal
SECRET_NAME=TraversalSecret_$RANDOM
SECRET_TEXT="NEVER-SERVE-THIS-$RANDOM$RANDOM"
for d in "$WORK" "$STORE" "$WORK/www/h" /tmp; do
    echo "$SECRET_TEXT" > "$d/$SECRET_NAME"; chmod 644 "$d/$SECRET_NAME"
done
GOOD=GoodToken_$RANDOM
echo "good-answer-$GOOD" > "$STORE/challenges/$GOOD"; chmod 644 "$STORE/challenges/$GOOD"
LONG=$(head -c 300 /dev/zero | tr '\0' 'A')

t_begin "http-01: a real answer is served (control)"
body=$(curl -s --max-time 5 "http://127.0.0.1:$HTTP01_PORT/.well-known/acme-challenge/$GOOD")
[ "$body" = "good-answer-$GOOD" ] && t_pass || t_fail "got '$body'"

t_begin "http-01: traversal, encoded slashes, NUL, over-long and unknown tokens get 404 and serve nothing outside the store"
traversal_case() {
    local p code bad="" body
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        code=$(curl -s --path-as-is --max-time 5 -o "$WORK/tbody" -w '%{http_code}' \
                   "http://127.0.0.1:$HTTP01_PORT/.well-known/acme-challenge/$p")
        body=$(head -c 200 "$WORK/tbody" | tr -d '\0')
        printf '# | %-60.60s | %s\n' "$p" "$code"
        if grep -q "$SECRET_TEXT" "$WORK/tbody" || grep -q "good-answer" "$WORK/tbody"; then
            bad="$bad [$p served a file: $body]"
        elif [ "$code" != 404 ]; then
            bad="$bad [$p -> $code]"
        fi
    done <<EOF
../$SECRET_NAME
../../$SECRET_NAME
../../../$SECRET_NAME
..%2f$SECRET_NAME
..%2F..%2F$SECRET_NAME
%2e%2e/$SECRET_NAME
%2e%2e%2f%2e%2e%2f$SECRET_NAME
%2E%2E%2F%2E%2E%2F%2E%2E%2F$SECRET_NAME
.%2e/$SECRET_NAME
$GOOD/../../$SECRET_NAME
$GOOD%2f..%2f..%2f$SECRET_NAME
$GOOD%00
$GOOD%00.txt
%00$GOOD
$GOOD%0a
$LONG
${LONG}$GOOD
UnknownToken_Zz9
$SECRET_NAME
%$SECRET_NAME
$GOOD%20
$GOOD/
EOF
    [ -z "$bad" ] && t_pass || t_fail "$bad"
}
traversal_case

t_begin "http-01 with a traversal path on the https port and in a HEAD request serves nothing either"
code=$(curl -sk --path-as-is --max-time 5 -o "$WORK/tbody" -w '%{http_code}' --resolve "$H_NAME:$HOSTILE_HTTPS_PORT:127.0.0.1" \
    "https://$H_NAME:$HOSTILE_HTTPS_PORT/.well-known/acme-challenge/..%2f..%2f$SECRET_NAME")
hcode=$(curl -s -I --path-as-is --max-time 5 -o /dev/null -w '%{http_code}' \
    "http://127.0.0.1:$HTTP01_PORT/.well-known/acme-challenge/../../$SECRET_NAME")
if grep -q "$SECRET_TEXT" "$WORK/tbody"; then t_fail "https served the secret"
elif [ "$code" != 404 ] || [ "$hcode" != 404 ]; then t_fail "https -> $code, HEAD -> $hcode (want 404)"
else t_pass; fi

t_begin "the access log shows no request that served the secret"
if grep -E "acme-challenge.*$SECRET_NAME\" 200" "$(apache_dir "$H_INST")/logs/access.log"; then
    t_fail "a traversal request got 200"
else
    t_pass
fi

# ---------------------------------------------------------------------------
# d. the status handler
t_begin "the status handler (acme-status) never prints a private key"
if [ "$HAVE_STATUS" != 1 ]; then
    t_skip "the module does not register the acme-status handler yet"
else
    status_case() {
        local q code bad="" n=0 seen=""
        for q in "" "?json" "?format=json" "?name=$H_NAME" "?cert=$H_NAME&full=1" "?details=1" "/$H_NAME" "?debug"; do
            for scheme in http https; do
                if [ $scheme = http ]; then
                    code=$(curl -s --max-time 5 -o "$WORK/sbody" -w '%{http_code}' "http://127.0.0.1:$HTTP01_PORT/acme-status$q")
                else
                    code=$(curl -sk --max-time 5 -o "$WORK/sbody" -w '%{http_code}' --resolve "$H_NAME:$HOSTILE_HTTPS_PORT:127.0.0.1" \
                        "https://$H_NAME:$HOSTILE_HTTPS_PORT/acme-status$q")
                fi
                [ "$code" = 200 ] && { n=$((n + 1)); seen="$seen $scheme$q"; }
                if grep -q 'PRIVATE KEY' "$WORK/sbody"; then bad="$bad $scheme:/acme-status$q"; fi
            done
        done
        e2e_log "status answered 200 for:$seen"
        if [ -n "$bad" ]; then t_fail "a private key in:$bad"
        elif [ "$n" -eq 0 ]; then t_fail "the status handler never answered 200"
        else t_pass; fi
    }
    status_case
fi

[ "${STAGED_BY_TEST:-0}" = 1 ] && rm -f "$STORE/staging/$H_NAME/privkey.pem"
rm -f "/tmp/$SECRET_NAME"
e2e_log "t_paths took ${SECONDS}s"
t_summary
