#!/usr/bin/env bash
# End-to-end tests of the dns-01 hooks in contrib/ (issue "Every challenge
# type", dns-01 hook part):
#
#   a. contrib/acme-dns-rfc2136 alone against a private bind9 (TSIG, RFC 2136)
#   b. acmectl --manual dns-01 with that hook: a wildcard certificate from
#      pebble, which resolves through the same bind9
#   c. contrib/acme-dns-cloudflare against test/e2e/mock_cloudflare.py (never
#      the real API)
#   d. hook failures through acmectl: a failing hook, a hanging hook
#
# Run alone:  bash test/e2e/run.sh t_dns_hooks.sh   (after ./configure && make)
# Ports: BIND_PORT (default 8054), MOCK_CF_PORT (default 0: any free port),
# and lib.sh's pebble ports.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init

HOOK_RFC=$TOP/contrib/acme-dns-rfc2136
HOOK_CF=$TOP/contrib/acme-dns-cloudflare
MOCK_CF=$E2E_LIB_DIR/mock_cloudflare.py
MOCK_CF_PORT=${MOCK_CF_PORT:-0}
CREDS=$WORK/creds
STORE=$WORK/store
HOOKS=$WORK/hooks
HOOK_OUT=$WORK/hook.out
HOOK_ERR=$WORK/hook.err
CF_TOKEN=e2e-token-$$-$RANDOM

t_begin "prerequisites: named, nsupdate, dig, curl, jq, python3, acmectl, contrib hooks"
missing=""
for c in named nsupdate dig tsig-keygen curl jq python3; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -x "$ACMECTL" ] || missing="$missing $ACMECTL(run ./configure && make)"
[ -x "$HOOK_RFC" ] || missing="$missing $HOOK_RFC"
[ -x "$HOOK_CF" ] || missing="$missing $HOOK_CF"
if [ -n "$missing" ]; then
    t_fail "missing:$missing (scripts/install-deps.sh)"
    t_summary
    exit
fi
t_pass

bind_start
mkdir -p "$CREDS" "$HOOKS"
chmod 700 "$CREDS"

# ---------------------------------------------------------------------------
# Helpers

# hook_run HOOK ARGS...: runs a contrib hook with a timeout; stdout ->
# $HOOK_OUT, stderr -> $HOOK_ERR, status -> $HOOK_RC.
hook_run() {
    printf '$ %s\n' "$*" >> "$WORK/hooks.log"
    timeout 60 "$@" >"$HOOK_OUT" 2>"$HOOK_ERR" </dev/null
    HOOK_RC=$?
    { sed 's/^/  out: /' "$HOOK_OUT"; sed 's/^/  err: /' "$HOOK_ERR"; echo "  exit $HOOK_RC"; } \
        >> "$WORK/hooks.log"
    return "$HOOK_RC"
}

# expect_hook_ok WHAT: the last hook run succeeded.
expect_hook_ok() {
    if [ "$HOOK_RC" -ne 0 ]; then
        t_fail "$1: hook exited $HOOK_RC: $(head -c 300 "$HOOK_ERR")"
        return 1
    fi
}

# expect_hook_failed REGEX: the last hook run failed with exactly one stderr
# line naming the hook and matching REGEX (grep -E -i).
expect_hook_failed() {
    local re=$1 n
    if [ "$HOOK_RC" -eq 0 ]; then
        t_fail "the hook succeeded but should have failed"; return 1
    fi
    if [ "$HOOK_RC" -eq 124 ]; then
        t_fail "the hook did not finish within 60 s"; return 1
    fi
    n=$(awk 'END { print NR }' "$HOOK_ERR")
    if [ "$n" != 1 ]; then
        t_fail "stderr has $n lines, want 1"; e2e_show_file "$HOOK_ERR" 10; return 1
    fi
    if ! grep -q '^acme-dns-[a-z0-9]*: ' "$HOOK_ERR"; then
        t_fail "stderr does not name the hook: $(cat "$HOOK_ERR")"; return 1
    fi
    if ! grep -Eiq -- "$re" "$HOOK_ERR"; then
        t_fail "stderr does not match /$re/: $(cat "$HOOK_ERR")"; return 1
    fi
}

# want_txt NAME VALUE...: the TXT values of NAME at bind are exactly VALUE...
# (none: no record).
want_txt() {
    local name=$1 got want; shift
    got=$(bind_txt "$name")
    want=$( [ $# -gt 0 ] && printf '%s\n' "$@" | LC_ALL=C sort)
    if [ "$got" != "$want" ]; then
        e2e_log "TXT $name: got [$(printf "%s " $got)] want [$(printf "%s " $want)]"
        return 1
    fi
}

# write_rfc2136_creds FILE [SECRET [ZONE]]: Certbot's dns-rfc2136 format, 0600.
write_rfc2136_creds() {
    local f=$1 secret=${2:-$BIND_TSIG_SECRET} zone=${3:-}
    (
        umask 077
        {
            echo "# Certbot dns-rfc2136 credentials (test)"
            echo "dns_rfc2136_server = 127.0.0.1"
            echo "dns_rfc2136_port = $BIND_PORT"
            echo "dns_rfc2136_name = $BIND_TSIG_NAME"
            echo "dns_rfc2136_secret = $secret"
            echo "dns_rfc2136_algorithm = $BIND_TSIG_ALGORITHM"
            [ -n "$zone" ] && echo "dns_rfc2136_zone = $zone"
        } > "$f"
    )
    chmod 600 "$f"
}

# A TXT value as ACME makes them: base64url of 32 bytes (43 characters).
acme_value() {
    openssl rand 32 | openssl base64 -A | tr '+/' '-_' | tr -d '='
}

RFC_CREDS=$CREDS/rfc2136.ini
write_rfc2136_creds "$RFC_CREDS"
export ACME_DNS_RFC2136_CREDENTIALS=$RFC_CREDS

# ---------------------------------------------------------------------------
# a. acme-dns-rfc2136 alone

V1=$(acme_value); V2=$(acme_value); V3=$(acme_value)

# reset_txt: removes every TXT record the tests use (directly with nsupdate,
# not through the hook), so that a failed case does not fail the next ones.
reset_txt() {
    local n
    {
        printf 'server 127.0.0.1 %s\nzone %s.\n' "$BIND_PORT" "$BIND_ZONE"
        for n in example.test a.b.example.test half.example.test; do
            printf 'update delete _acme-challenge.%s. TXT\n' "$n"
        done
        printf 'send\n'
    } | nsupdate -t 10 -k "$BIND_DIR/tsig.key" >>"$WORK/hooks.log" 2>&1
}

rfc_add_remove() {
    t_begin "rfc2136 hook: setup adds TXT, a second value coexists, cleanup removes only its own"
    reset_txt
    hook_run "$HOOK_RFC" setup example.test "$V1"
    expect_hook_ok "setup example.test v1" || return
    t_check "after setup v1: TXT _acme-challenge.example.test is not [v1]" \
        want_txt _acme-challenge.example.test "$V1" || return
    # the second value the Certbot way: CERTBOT_DOMAIN of a wildcard, action 'auth'
    CERTBOT_DOMAIN='*.example.test' CERTBOT_VALIDATION=$V2 hook_run "$HOOK_RFC" auth
    expect_hook_ok "auth with CERTBOT_DOMAIN=*.example.test" || return
    t_check "after the second setup: not [v1 v2]" \
        want_txt _acme-challenge.example.test "$V1" "$V2" || return
    hook_run "$HOOK_RFC" cleanup example.test "$V1"
    expect_hook_ok "cleanup v1" || return
    t_check "after cleanup v1: not [v2]" want_txt _acme-challenge.example.test "$V2" || return
    CERTBOT_DOMAIN=example.test CERTBOT_VALIDATION=$V2 hook_run "$HOOK_RFC" cleanup
    expect_hook_ok "cleanup v2 (from CERTBOT_*)" || return
    t_check "after cleanup v2: records left" want_txt _acme-challenge.example.test || return
    t_pass
}

rfc_zone_walk() {
    t_begin "rfc2136 hook: zone found by SOA lookup walking up (a.b.example.test)"
    reset_txt
    hook_run "$HOOK_RFC" setup a.b.example.test "$V3"
    expect_hook_ok "setup a.b.example.test" || return
    t_check "TXT _acme-challenge.a.b.example.test is not [v3]" \
        want_txt _acme-challenge.a.b.example.test "$V3" || return
    hook_run "$HOOK_RFC" del a.b.example.test "$V3"
    expect_hook_ok "del a.b.example.test" || return
    t_check "record left after cleanup" want_txt _acme-challenge.a.b.example.test || return
    t_pass
}

rfc_bad_secret() {
    t_begin "rfc2136 hook: a wrong TSIG secret fails with one clear line"
    reset_txt
    local bad=$CREDS/rfc2136-badsecret.ini wrong
    wrong=$(printf 'not-the-right-secret-%s' "$RANDOM" | openssl base64 -A)
    # with dns_rfc2136_zone: the update itself is refused
    write_rfc2136_creds "$bad" "$wrong" example.test
    ACME_DNS_RFC2136_CREDENTIALS=$bad hook_run "$HOOK_RFC" setup example.test "$V1"
    expect_hook_failed 'BADSIG|TSIG' || return
    t_check "a record was added with the wrong secret" want_txt _acme-challenge.example.test || return
    # without it: the signed SOA lookup already fails, and says so
    write_rfc2136_creds "$bad" "$wrong"
    ACME_DNS_RFC2136_CREDENTIALS=$bad hook_run "$HOOK_RFC" setup example.test "$V1"
    expect_hook_failed 'BADSIG|TSIG|verify' || return
    t_check "a record was added with the wrong secret" want_txt _acme-challenge.example.test || return
    t_pass
}

rfc_open_creds() {
    t_begin "rfc2136 hook: a credentials file readable by others (0644) is refused"
    reset_txt
    local open=$CREDS/rfc2136-open.ini n
    n=$(grep -c 'updating zone.*adding an RR' "$WORK/named.log")
    write_rfc2136_creds "$open"
    chmod 644 "$open"
    ACME_DNS_RFC2136_CREDENTIALS=$open hook_run "$HOOK_RFC" setup example.test "$V1"
    expect_hook_failed "permission.*$open|$open.*permission" || return
    t_check "a record was added" want_txt _acme-challenge.example.test || return
    if [ "$(grep -c 'updating zone.*adding an RR' "$WORK/named.log")" != "$n" ]; then
        t_fail "named saw an update from the refused run"; return
    fi
    chmod 640 "$open"
    ACME_DNS_RFC2136_CREDENTIALS=$open hook_run "$HOOK_RFC" setup example.test "$V1"
    expect_hook_failed "permission" || return
    t_pass
}

rfc_bad_args() {
    t_begin "rfc2136 hook: bad arguments fail with one clear line"
    reset_txt
    hook_run "$HOOK_RFC" frobnicate example.test "$V1"
    expect_hook_failed "unknown action" || return
    hook_run "$HOOK_RFC" setup 'bad;name.example.test' "$V1"
    expect_hook_failed "invalid domain name" || return
    hook_run "$HOOK_RFC" setup example.test 'a value"; update add evil'
    expect_hook_failed "invalid TXT value" || return
    (unset CERTBOT_DOMAIN CERTBOT_VALIDATION; hook_run "$HOOK_RFC" setup; exit $HOOK_RC)
    HOOK_RC=$?
    expect_hook_failed "no domain name" || return
    t_check "something was added" want_txt _acme-challenge.example.test || return
    t_pass
}

# ---------------------------------------------------------------------------
# b. acmectl --manual dns-01 with the rfc2136 hook, pebble resolving via bind

case_acmectl_rfc2136() {
    t_begin "acmectl dns-01 with acme-dns-rfc2136: example.test + *.example.test"
    reset_txt
    local txt
    acmectl_run certonly --manual --preferred-challenges dns-01 \
        --manual-auth-hook "$HOOK_RFC setup" --manual-cleanup-hook "$HOOK_RFC cleanup" \
        -d example.test -d '*.example.test' -vv \
        --dns-resolver "127.0.0.1:$BIND_PORT" --dns-propagation-timeout 30 \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "acmectl exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag; return
    fi
    t_check "live/example.test/cert.pem does not verify against pebble's root" \
        check_cert_verifies "$STORE/live/example.test/cert.pem" "$STORE/live/example.test/chain.pem" \
        || return
    t_check "SAN set is not exactly example.test, *.example.test" \
        check_cert_names "$STORE/live/example.test/cert.pem" example.test '*.example.test' || return
    # the records were seen at bind before pebble was asked to validate
    if ! grep -q "dns-01 records visible at 127.0.0.1:$BIND_PORT" "$WORK/last.err"; then
        t_fail "acmectl did not wait for the TXT records at bind (--dns-resolver)"
        return
    fi
    # both challenges used _acme-challenge.example.test: two values at once
    if [ "$(grep -c "updating zone 'example.test/IN': adding an RR at '_acme-challenge.example.test' TXT" "$WORK/named.log")" -lt 2 ]; then
        t_fail "named did not see two TXT additions for _acme-challenge.example.test"
        e2e_show_file "$WORK/named.log" 10; return
    fi
    if ! txt=$(bind_zone_txt); then
        t_fail "zone transfer of example.test failed"; return
    fi
    if [ -n "$txt" ]; then
        t_fail "TXT records left in the zone: $(printf "%s " $txt)"; return
    fi
    t_pass
}

# ---------------------------------------------------------------------------
# c. acme-dns-cloudflare against the mock API

MOCK_URL=""
mock_cf_start() {
    local pf=$WORK/mock_cloudflare.port i
    rm -f "$pf"
    python3 "$MOCK_CF" --port "$MOCK_CF_PORT" --port-file "$pf" --token "$CF_TOKEN" \
        --email admin@example.test --key e2e-global-key-$$ \
        --zone example.test --zone example.org --lifetime 900 \
        >>"$WORK/mock_cloudflare.log" 2>&1 </dev/null &
    E2E_PIDS+=("mock_cloudflare:$!")
    for i in $(seq 100); do
        [ -s "$pf" ] && port_open "$(cat "$pf")" && break
        kill -0 "$(e2e_pid_of mock_cloudflare)" 2>/dev/null || break
        sleep 0.1
    done
    if ! [ -s "$pf" ] || ! port_open "$(cat "$pf")"; then
        e2e_show_file "$WORK/mock_cloudflare.log"
        return 1
    fi
    MOCK_URL=http://127.0.0.1:$(cat "$pf")
    export ACME_DNS_CLOUDFLARE_API=$MOCK_URL/client/v4
}

mock_reset() { curl -sf -X POST "$MOCK_URL/_reset" >/dev/null; }
# mock_records: "NAME CONTENT TTL ZONE" lines of TXT records, sorted
mock_records() {
    curl -sf "$MOCK_URL/_records" \
        | jq -r '.[] | select(.type == "TXT") | "\(.name) \(.content) \(.ttl) \(.zone)"' \
        | LC_ALL=C sort
}
mock_requests() { curl -sf "$MOCK_URL/_requests" | jq -r '.[] | "\(.method) \(.path) \(.auth)"'; }

want_records() {
    local got want
    got=$(mock_records)
    want=$( [ $# -gt 0 ] && printf '%s\n' "$@" | LC_ALL=C sort)
    if [ "$got" != "$want" ]; then
        e2e_log "mock records: got [$(printf "%s " $got)] want [$(printf "%s " $want)]"
        return 1
    fi
}

write_cf_creds() {   # write_cf_creds FILE LINE...
    local f=$1; shift
    ( umask 077; printf '%s\n' "# Certbot dns-cloudflare credentials (test)" "$@" > "$f" )
    chmod 600 "$f"
}

cf_good_creds() {
    write_cf_creds "$CREDS/cloudflare.ini" "dns_cloudflare_api_token = $CF_TOKEN"
    export ACME_DNS_CLOUDFLARE_CREDENTIALS=$CREDS/cloudflare.ini
}

cf_add_remove() {
    t_begin "cloudflare hook: setup creates the TXT record, values coexist, cleanup deletes only its own"
    local reqs z
    mock_reset
    hook_run "$HOOK_CF" setup example.test "$V1"
    expect_hook_ok "setup v1" || return
    t_check "mock records after setup v1" \
        want_records "_acme-challenge.example.test $V1 120 example.test" || return
    CERTBOT_DOMAIN='*.example.test' CERTBOT_VALIDATION=$V2 hook_run "$HOOK_CF" auth
    expect_hook_ok "auth with CERTBOT_DOMAIN=*.example.test" || return
    t_check "mock records after the second setup" \
        want_records "_acme-challenge.example.test $V1 120 example.test" \
                     "_acme-challenge.example.test $V2 120 example.test" || return
    hook_run "$HOOK_CF" cleanup example.test "$V1"
    expect_hook_ok "cleanup v1" || return
    t_check "mock records after cleanup v1" \
        want_records "_acme-challenge.example.test $V2 120 example.test" || return
    CERTBOT_DOMAIN=example.test CERTBOT_VALIDATION=$V2 hook_run "$HOOK_CF" cleanup
    expect_hook_ok "cleanup v2" || return
    t_check "records left after both cleanups" want_records || return
    reqs=$(mock_requests)
    if printf '%s\n' "$reqs" | grep -qv ' bearer$'; then
        t_fail "a request without the Bearer token: $(printf '%s\n' "$reqs" | grep -v ' bearer$' | head -n 1)"; return
    fi
    z=$(curl -sf -H "Authorization: Bearer $CF_TOKEN" "$ACME_DNS_CLOUDFLARE_API/zones?name=example.test" | jq -r '.result[0].id')
    if ! printf '%s\n' "$reqs" | grep -qx "DELETE /client/v4/zones/$z/dns_records/[0-9a-f]* bearer" \
       || ! printf '%s\n' "$reqs" | grep -qx "GET /client/v4/zones/$z/dns_records?type=TXT&name=_acme-challenge.example.test&content=$V1 bearer"; then
        t_fail "cleanup did not look the record up and DELETE it by id"
        printf '%s\n' "$reqs" | sed 's/^/#   /'; return
    fi
    t_pass
}

cf_idempotent() {
    t_begin "cloudflare hook: setup is idempotent (an identical record exists)"
    mock_reset
    hook_run "$HOOK_CF" setup example.test "$V1" && hook_run "$HOOK_CF" setup example.test "$V1"
    expect_hook_ok "setup twice" || return
    t_check "records after setup twice" \
        want_records "_acme-challenge.example.test $V1 120 example.test" || return
    hook_run "$HOOK_CF" cleanup example.test "$V1"
    expect_hook_ok "cleanup" || return
    t_check "records left" want_records || return
    t_pass
}

cf_zone_walk() {
    t_begin "cloudflare hook: zone lookup walks up the labels (a.b.example.test in example.test)"
    local reqs
    mock_reset
    hook_run "$HOOK_CF" setup a.b.example.test "$V3"
    expect_hook_ok "setup a.b.example.test" || return
    t_check "mock records" \
        want_records "_acme-challenge.a.b.example.test $V3 120 example.test" || return
    reqs=$(mock_requests | grep '^GET /client/v4/zones?' | awk '{print $2}' | tr '\n' ' ')
    if [ "$reqs" != "/client/v4/zones?name=a.b.example.test /client/v4/zones?name=b.example.test /client/v4/zones?name=example.test " ]; then
        t_fail "zone lookups were: $reqs"; return
    fi
    hook_run "$HOOK_CF" cleanup a.b.example.test "$V3"
    expect_hook_ok "cleanup a.b.example.test" || return
    t_check "records left" want_records || return
    hook_run "$HOOK_CF" setup www.example.net "$V3"
    expect_hook_failed "no Cloudflare zone.*www\.example\.net" || return
    t_pass
}

cf_wrong_token() {
    t_begin "cloudflare hook: a wrong token fails with Cloudflare's error text"
    mock_reset
    local wrong=$CREDS/cloudflare-wrong.ini
    write_cf_creds "$wrong" "dns_cloudflare_api_token = not-$CF_TOKEN"
    ACME_DNS_CLOUDFLARE_CREDENTIALS=$wrong hook_run "$HOOK_CF" setup example.test "$V1"
    expect_hook_failed "Authentication error" || return
    t_check "a record was created" want_records || return
    t_pass
}

cf_open_creds() {
    t_begin "cloudflare hook: a world-readable credentials file is refused before any request"
    mock_reset
    local open=$CREDS/cloudflare-open.ini
    write_cf_creds "$open" "dns_cloudflare_api_token = $CF_TOKEN"
    chmod 644 "$open"
    ACME_DNS_CLOUDFLARE_CREDENTIALS=$open hook_run "$HOOK_CF" setup example.test "$V1"
    expect_hook_failed "permission.*$open|$open.*permission" || return
    if [ -n "$(mock_requests)" ]; then
        t_fail "the mock saw requests: $(mock_requests | head -n 3 | tr '\n' ' ')"; return
    fi
    t_check "a record was created" want_records || return
    t_pass
}

cf_global_key() {
    t_begin "cloudflare hook: Certbot's older global API key format (email + key)"
    mock_reset
    local gk=$CREDS/cloudflare-globalkey.ini
    write_cf_creds "$gk" "dns_cloudflare_email = admin@example.test" \
        "dns_cloudflare_api_key = e2e-global-key-$$"
    ACME_DNS_CLOUDFLARE_CREDENTIALS=$gk hook_run "$HOOK_CF" setup example.org "$V2"
    expect_hook_ok "setup with the global key" || return
    t_check "mock records" want_records "_acme-challenge.example.org $V2 120 example.org" || return
    ACME_DNS_CLOUDFLARE_CREDENTIALS=$gk hook_run "$HOOK_CF" cleanup example.org "$V2"
    expect_hook_ok "cleanup with the global key" || return
    t_check "records left" want_records || return
    if mock_requests | grep -qv ' key$'; then
        t_fail "a request did not use X-Auth-Key"; return
    fi
    t_pass
}

# ---------------------------------------------------------------------------
# d. failing and hanging hooks through acmectl

make_hooks() {
    cat > "$HOOKS/fail" <<'EOF'
#!/bin/sh
echo "provider says: zone example.test is locked (e2e-4711)" >&2
exit 3
EOF
    cat > "$HOOKS/hang" <<EOF
#!/bin/sh
# a hook that never returns, with a child of its own
sleep 600 &
echo \$! > "$WORK/hang-child.pid"
echo \$\$ > "$WORK/hang.pid"
wait
EOF
    # rfc2136 for the base name, failure for the wildcard: does acmectl clean
    # up the record the first hook made?
    cat > "$HOOKS/half" <<EOF
#!/bin/sh
if [ -n "\${HALF_FAIL_NEXT:-}" ] && [ -e "$WORK/half.first" ]; then
    echo "second hook fails on purpose (e2e-half)" >&2
    exit 4
fi
touch "$WORK/half.first"
exec "$HOOK_RFC" setup
EOF
    chmod 755 "$HOOKS"/*
}

# expect_acmectl_failed BEFORE REGEX: acmectl failed with one stderr line
# matching REGEX and the store is unchanged.
expect_acmectl_failed() {
    local before=$1 re=$2 after
    if [ "$LAST_RC" -eq 0 ]; then t_fail "acmectl succeeded but should have failed"; return 1; fi
    if [ "$LAST_RC" -eq 124 ]; then t_fail "acmectl did not finish within ${ACMECTL_TIMEOUT}s"; return 1; fi
    t_check "stderr is not exactly one 'acmectl: ' line" last_err_one_line || return 1
    if ! grep -Eiq -- "$re" "$WORK/last.err"; then
        t_fail "stderr does not match /$re/: $(cat "$WORK/last.err")"; return 1
    fi
    after=$(store_snapshot "$STORE")
    if [ "$before" != "$after" ]; then
        t_fail "the failed run changed the store"
        diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 20 | sed 's/^/#   /'
        return 1
    fi
}

# proc_running PID: the process exists and is not a zombie (killed processes
# whose new parent has not reaped them yet count as gone); waits up to 2 s.
proc_running() {
    local st i
    for i in $(seq 20); do
        st=$(sed -n 's/^[0-9]* (.*) \([A-Za-z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
        case "$st" in ""|Z|X) return 1 ;; esac
        sleep 0.1
    done
    return 0
}


fail_hook_error() {
    t_begin "acmectl: an auth hook that exits non-zero -> one line with the hook's error, store unchanged"
    local before t0 t1 pid
    before=$(store_snapshot "$STORE")
    acmectl_run certonly --manual --preferred-challenges dns-01 \
        --manual-auth-hook "$HOOKS/fail" -d fail.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_acmectl_failed "$before" 'zone example\.test is locked \(e2e-4711\)' && t_pass
}

fail_hook_creds() {
    t_begin "acmectl: the rfc2136 hook refusing its credentials -> its message, store unchanged"
    local before t0 t1 pid
    local open=$CREDS/rfc2136-open2.ini
    write_rfc2136_creds "$open"; chmod 644 "$open"
    before=$(store_snapshot "$STORE")
    ACME_DNS_RFC2136_CREDENTIALS=$open acmectl_run certonly --manual --preferred-challenges dns-01 \
        --manual-auth-hook "$HOOK_RFC setup" --manual-cleanup-hook "$HOOK_RFC cleanup" \
        -d perm.example.test --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_acmectl_failed "$before" "unsafe permissions.*$open" && t_pass
}

fail_hook_hang() {
    t_begin "acmectl --hook-timeout 3: a hanging hook is killed (with its children), clear message"
    local before t0 t1 pid
    rm -f "$WORK/hang.pid" "$WORK/hang-child.pid"
    before=$(store_snapshot "$STORE")
    t0=$(date +%s)
    acmectl_run certonly --manual --preferred-challenges dns-01 --hook-timeout 3 \
        --manual-auth-hook "$HOOKS/hang" -d hang.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    t1=$(date +%s)
    if expect_acmectl_failed "$before" 'time|3 ?s|killed'; then
        if [ $((t1 - t0)) -gt 30 ]; then
            t_fail "acmectl took $((t1 - t0)) s with --hook-timeout 3"
        elif ! [ -s "$WORK/hang-child.pid" ]; then
            t_fail "the hanging hook did not run"
        else
            pid=$(cat "$WORK/hang-child.pid")
            if proc_running "$pid"; then
                kill "$pid" 2>/dev/null
                t_fail "the hook's child (sleep, pid $pid) survived the timeout"
            else
                t_pass
            fi
        fi
    fi
    [ -s "$WORK/hang.pid" ] && kill "$(cat "$WORK/hang.pid")" 2>/dev/null
}

fail_partial_cleanup() {
    t_begin "acmectl: second auth hook fails -> the first one's TXT record is cleaned up"
    reset_txt
    local before t0 t1 pid
    rm -f "$WORK/half.first"
    before=$(store_snapshot "$STORE")
    HALF_FAIL_NEXT=1 acmectl_run certonly --manual --preferred-challenges dns-01 \
        --manual-auth-hook "$HOOKS/half" --manual-cleanup-hook "$HOOK_RFC cleanup" \
        -d half.example.test -d '*.half.example.test' \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    if expect_acmectl_failed "$before" 'e2e-half'; then
        local txt
        if ! grep -q "adding an RR at '_acme-challenge.half.example.test' TXT" "$WORK/named.log"; then
            t_fail "the first auth hook did not add its record (nothing to clean up)"
        elif ! txt=$(bind_zone_txt); then
            t_fail "zone transfer failed"
        elif [ -n "$txt" ]; then
            t_fail "TXT records left in the zone after the failed run: $(printf "%s " $txt)"
        else
            t_pass
        fi
    fi
}

# ---------------------------------------------------------------------------

rfc_add_remove
rfc_zone_walk
rfc_bad_secret
rfc_open_creds
rfc_bad_args

# pebble resolves (and validates dns-01) through our bind9
pebble_start PEBBLE_DNS="127.0.0.1:$BIND_PORT"
acmectl_ca_args
case_acmectl_rfc2136

if mock_cf_start; then
    cf_good_creds
    cf_add_remove
    cf_idempotent
    cf_zone_walk
    cf_wrong_token
    cf_open_creds
    cf_global_key
else
    t_begin "harness: mock Cloudflare API"
    t_fail "mock_cloudflare.py did not start"
fi

make_hooks
fail_hook_error
fail_hook_creds
fail_hook_hang
fail_partial_cleanup

t_summary
