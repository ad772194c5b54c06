#!/usr/bin/env bash
# test/e2e/t_hostile_ca.sh -- mod_acme behind a hostile CA.
#
# Apache with the module gets its certificate from pebble through
# test/e2e/ca_proxy.py. Then, one case each, a renewal is forced while the
# proxy misbehaves: malformed JSON (directory, order, authz), HTTP 500,
# 429 with Retry-After, a truncated body, an oversized body, a chain whose
# leaf is not our key, a certificate for other names, an expired
# certificate, a slow-loris answer. Each case checks:
#   - the old certificate is still served (same serial)
#   - state/NAME.json: status error, last_error with the reason,
#     failures >= 1, next_try in the future
#   - live/ unchanged (same archive version, same archive files)
#   - no graceful restart for that pass
# Then pebble's knobs (nonce rejection 50%, authz reuse, chain length 1
# and 5): issuance still succeeds through the module and acmectl, and the
# stored chain is what pebble served.
#
# Run: DNS_PORT=18353 CTS_MGMT_PORT=18355 PEBBLE_PORT=16300 \
#      PEBBLE_MGMT_PORT=16301 HTTP01_PORT=16302 TLSALPN_PORT=16303 \
#      bash test/e2e/run.sh t_hostile_ca.sh
# HOSTILE_SLOW=0 skips the slow-loris case (it takes about a minute:
# libcurl's whole-request timeout in the worker is 60 s).

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
hostile_require_root "mod_acme behind a hostile CA"
e2e_init
hostile_binaries
STORE=$WORK/store

challtestsrv_start
pebble_start
proxy_start
e2e_log "ca_proxy on $PROXY_URL"

if ! h_start "$PROXY_URL/dir"; then
    t_begin "harness: Apache with mod_acme behind ca_proxy starts"
    t_fail "see $(h_elog)"; t_summary; exit 1
fi

t_begin "a good certificate through ca_proxy (the baseline)"
if h_wait_first_cert 60 && wait_until 10 store_consistent "$STORE" "$H_NAME"; then
    e2e_log "version $(h_live_version), serial $(h_served_serial)"
    t_pass
else
    t_fail "no certificate from pebble served within 60 s"; h_show_log 15
    t_summary; exit 1
fi
# wait for the supervisor that follows the restart to settle
sleep 2

# archive_listing: the lineage's archive files (name and size)
archive_listing() { (cd "$STORE/archive/$H_NAME" && ls -l --time-style=+ | awk 'NR > 1 { print $5, $NF }'); }

# hostile_case TITLE RULES_JSON ERROR_REGEX [WAIT_SECONDS [MIN_NEXT_TRY_DELTA [MAX_NEXT_TRY_DELTA]]]
hostile_case() {
    local title=$1 rules=$2 want=$3 wait=${4:-40} min_delta=${5:-1} max_delta=${6:-}
    local serial ver act rst att arch t0 now st err fails next elapsed
    t_begin "hostile CA: $title"
    serial=$(h_served_serial) || { t_fail "nothing served before the case"; return; }
    ver=$(h_live_version); act=$(h_activations); rst=$(h_restarts)
    att=$(st_get attempts); [ "$att" = null ] && att=0
    arch=$(archive_listing)
    proxy_control "{\"rules\": $rules, \"clear_requests\": true}" \
        || { t_fail "ca_proxy refused the rules $rules"; return; }
    t0=$(date +%s)
    h_force_due
    if ! h_wait_attempt "$att" "$wait"; then
        proxy_control '{"rules": []}'
        t_fail "no attempt recorded within ${wait}s"; h_show_log; return
    fi
    elapsed=$(( $(date +%s) - t0 ))
    proxy_control '{"rules": []}'
    now=$(date +%s)
    st=$(st_get status); err=$(st_get last_error); fails=$(st_get failures); next=$(st_get next_try)
    e2e_log "after ${elapsed}s: status=$st failures=$fails next_try=now+$((next - now))s last_error=$err"
    proxy_requests "$WORK/requests.json" && \
        jq -r '.[] | select(.action != "forward") | "#   proxy: \(.method) \(.path) -> \(.status) (\(.action))"' \
            "$WORK/requests.json" | head -n 5
    [ "$st" = error ] || { t_fail "state status is '$st', want error"; return; }
    printf '%s\n' "$err" | grep -qiE -- "$want" \
        || { t_fail "last_error does not match /$want/: $err"; return; }
    [ "$fails" != null ] && [ "$fails" -ge 1 ] || { t_fail "failures is $fails"; return; }
    [ "$next" -gt "$now" ] || { t_fail "next_try $next is not in the future (now $now)"; return; }
    # (2 s of slack: the attempt's own time base vs ours)
    [ $((next - t0 - elapsed)) -ge $((min_delta - 2)) ] \
        || { t_fail "next_try is only $((next - t0 - elapsed))s after the attempt, want >= ${min_delta}s"; return; }
    if [ -n "$max_delta" ] && [ $((next - now)) -gt "$max_delta" ]; then
        t_fail "next_try is $((next - now))s away ($(( (next - now) / 86400 )) days), want <= ${max_delta}s: renewals stop for good"; return
    fi
    [ "$(h_live_version)" = "$ver" ] || { t_fail "live/ moved from version $ver to $(h_live_version)"; return; }
    [ "$(archive_listing)" = "$arch" ] || { t_fail "archive/ changed: $(archive_listing | tr '\n' ' ')"; return; }
    store_consistent "$STORE" "$H_NAME" || { t_fail "store inconsistent"; return; }
    [ "$(h_served_serial)" = "$serial" ] || { t_fail "served serial changed from $serial to $(h_served_serial)"; return; }
    [ "$(h_activations)" = "$act" ] && [ "$(h_restarts)" = "$rst" ] \
        || { t_fail "a graceful restart was logged for the failed pass"; return; }
    [ -z "$(ls -A "$STORE/challenges" 2>/dev/null)" ] \
        || { t_fail "challenge answers left behind: $(ls -A "$STORE/challenges")"; return; }
    t_pass
}

# endpoints (pebble's paths; the directory names its endpoints)
R_DIR='{"method": "GET", "path_prefix": "/dir"}'
R_ORDER='{"method": "POST", "endpoint": "newOrder"}'
R_AUTHZ='{"method": "POST", "path_prefix": "/authZ/"}'
R_CERT='{"method": "POST", "path_prefix": "/certZ/"}'
R_FINALIZE='{"method": "POST", "path_prefix": "/finalize-order/"}'

hostile_case "429 with Retry-After 3600 on newOrder: next_try honours it" \
    "[{\"match\": $R_ORDER, \"action\": \"problem\", \"status\": 429, \"type\": \"urn:ietf:params:acme:error:rateLimited\", \"detail\": \"slow down (ca_proxy)\", \"retry_after\": 3600}]" \
    'rateLimited|slow down' 40 3600
# A hostile (or broken) CA can ask for an absurd wait: Retry-After of
# 99999999999 s (3000 years). Honouring it verbatim stops renewals for good
# (until someone deletes the state file); the wait should be capped. We
# accept anything up to 31 days.
hostile_case "429 with Retry-After 99999999999 (3000 years): the wait is capped (<= 31 days)" \
    "[{\"match\": $R_ORDER, \"action\": \"problem\", \"status\": 429, \"type\": \"urn:ietf:params:acme:error:rateLimited\", \"detail\": \"forever (ca_proxy)\", \"retry_after\": 99999999999}]" \
    'rateLimited|forever' 40 1 $((31 * 86400))
hostile_case "malformed JSON directory" \
    "[{\"match\": $R_DIR, \"action\": \"malformed\"}]" \
    'directory|JSON|json|parse'
hostile_case "malformed JSON order" \
    "[{\"match\": $R_ORDER, \"action\": \"malformed\"}]" \
    'order|JSON|json|parse'
hostile_case "malformed JSON authorization" \
    "[{\"match\": $R_AUTHZ, \"action\": \"malformed\"}]" \
    'authori|JSON|json|parse'
hostile_case "HTTP 500 serverInternal on newOrder" \
    "[{\"match\": $R_ORDER, \"action\": \"problem\", \"status\": 500, \"detail\": \"boom (ca_proxy)\"}]" \
    'serverInternal|boom|500'
hostile_case "HTTP 500 with an HTML body on newOrder" \
    "[{\"match\": $R_ORDER, \"action\": \"raw\", \"status\": 500, \"headers\": {\"Content-Type\": \"text/html\"}, \"body\": \"<html>oops</html>\"}]" \
    '500'
hostile_case "truncated body (newOrder)" \
    "[{\"match\": $R_ORDER, \"action\": \"truncate\"}]" \
    'transfer closed|remaining|partial|truncat|cannot reach'
hostile_case "oversized body (2 MiB directory): the 1 MiB cap is named" \
    "[{\"match\": $R_DIR, \"action\": \"oversize\", \"bytes\": 2097152}]" \
    'larger than 1048576 bytes'
hostile_case "chain whose leaf is not our key" \
    "[{\"match\": $R_CERT, \"action\": \"forge_chain\", \"key\": \"fresh\"}]" \
    'public key'
hostile_case "certificate for other names" \
    "[{\"match\": $R_CERT, \"action\": \"forge_chain\", \"names\": [\"other.example.test\"]}]" \
    'names.*differ|other\.example\.test'
hostile_case "expired certificate (our key, our names)" \
    "[{\"match\": $R_CERT, \"action\": \"forge_chain\", \"not_before\": -172800, \"not_after\": -86400}]" \
    'expired'
hostile_case "certificate not valid for another week" \
    "[{\"match\": $R_CERT, \"action\": \"forge_chain\", \"not_before\": 604800, \"not_after\": 1209600}]" \
    'not valid before'
hostile_case "garbage instead of a PEM chain" \
    "[{\"match\": $R_CERT, \"action\": \"raw\", \"status\": 200, \"headers\": {\"Content-Type\": \"application/pem-certificate-chain\"}, \"body\": \"-----BEGIN CERTIFICATE-----\\nnot base64 at all\\n-----END CERTIFICATE-----\\n\"}]" \
    'certificate|PEM|parse'
# The worker finalizes as soon as its authorizations are valid, without
# fetching the order first; a CA that keeps saying the order is not ready
# fails the attempt with that reason (after one fetch and one more try).
# finalize_pattern FILE: the proxy's finalize (F) and order (O) POSTs in
# the order they came
finalize_pattern() {
    jq -r '[.[] | select(.method == "POST") | if (.path | startswith("/finalize-order/")) then "F" elif (.path | startswith("/my-order/")) then "O" else empty end] | join("")' "$1"
}
hostile_case "finalize always answered orderNotReady" \
    "[{\"match\": $R_FINALIZE, \"action\": \"problem\", \"status\": 403, \"type\": \"urn:ietf:params:acme:error:orderNotReady\", \"detail\": \"not ready (ca_proxy)\"}]" \
    'orderNotReady|not ready'
t_begin "finalize always answered orderNotReady: finalized first, the order fetched, finalized once more, then given up"
pat=$(finalize_pattern "$WORK/requests.json")
e2e_log "finalize (F) and order (O) requests: $pat"
[ "$pat" = FOF ] && t_pass || t_fail "want FOF, got '$pat'"
if [ "${HOSTILE_SLOW:-1}" != 0 ]; then
    # one byte per second of a 4 KiB body: only the engine's timeout ends it
    hostile_case "slow loris (newOrder trickled 1 byte/s): bounded by the engine's timeout" \
        "[{\"match\": $R_ORDER, \"action\": \"trickle\", \"interval\": 1, \"seconds\": 700, \"bytes\": 4096}]" \
        'timed out|did not finish' 200
    e2e_log "slow loris: the worker gave up after the time above (libcurl CURLOPT_TIMEOUT 60 s, supervisor kill at 600 s)"
fi

# A good renewal after all that: the store and the module recover.
t_begin "after the hostile cases, a normal renewal succeeds and is activated once"
ver=$(h_live_version); act=$(h_activations)
h_force_due
if wait_until 60 eval '[ "$(h_live_version)" != "$ver" ] && [ "$(st_get status)" = valid ]' \
   && wait_until 20 eval '[ "$(h_activations)" -gt "$act" ]' \
   && wait_until 20 served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT"; then
    t_pass
else
    t_fail "version $ver -> $(h_live_version), status $(st_get status), last_error $(st_get last_error)"; h_show_log
fi

# A CA whose parts lag behind each other says orderNotReady once although
# every authorization is valid: the worker fetches the order, sees it
# ready, finalizes again, and the renewal succeeds.
t_begin "finalize answered orderNotReady once: the order is fetched, finalized again, and the renewal succeeds"
proxy_control "{\"rules\": [{\"match\": $R_FINALIZE, \"action\": \"problem\", \"status\": 403, \"type\": \"urn:ietf:params:acme:error:orderNotReady\", \"detail\": \"lagging (ca_proxy)\", \"times\": 1}], \"clear_requests\": true}" \
    || e2e_die "ca_proxy refused the rule"
ver=$(h_live_version); act=$(h_activations)
h_force_due
if wait_until 60 eval '[ "$(h_live_version)" != "$ver" ] && [ "$(st_get status)" = valid ]' \
   && wait_until 20 eval '[ "$(h_activations)" -gt "$act" ]' \
   && wait_until 20 served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT" \
   && proxy_requests "$WORK/requests.json"; then
    fin=$(jq '[.[] | select(.method == "POST" and (.path | startswith("/finalize-order/")))] | length' "$WORK/requests.json")
    rej=$(jq '[.[] | select(.method == "POST" and (.path | startswith("/finalize-order/")) and .action == "problem")] | length' "$WORK/requests.json")
    pat=$(finalize_pattern "$WORK/requests.json")
    e2e_log "finalize requests: $fin ($rej answered orderNotReady), finalize (F) and order (O) requests: $pat"
    if [ "$fin" = 2 ] && [ "$rej" = 1 ] && [[ "$pat" == FOF* ]]; then
        t_pass
    else
        t_fail "want 2 finalize requests (1 rejected) with an order fetch between them; got $fin ($rej), '$pat'"
    fi
else
    t_fail "version $ver -> $(h_live_version), status $(st_get status), last_error $(st_get last_error)"; h_show_log
fi
proxy_control '{"rules": []}'

# ---------------------------------------------------------------------------
# Pebble's knobs: issuance still succeeds, the stored chain is what pebble
# served (its length and that it verifies to pebble's root).

# count_certs FILE
count_certs() { grep -c 'BEGIN CERTIFICATE' "$1" 2>/dev/null; }

# module_renew_ok: forces a renewal and waits for a new activated version.
module_renew_ok() {
    local ver act
    ver=$(h_live_version); act=$(h_activations)
    h_force_due
    wait_until 90 eval '[ "$(h_live_version)" != "$ver" ] && [ "$(st_get status)" = valid ]' || {
        e2e_log "no new version (status $(st_get status), last_error $(st_get last_error))"; return 1; }
    wait_until 20 eval '[ "$(h_activations)" -gt "$act" ]' || { e2e_log "not activated"; return 1; }
    wait_until 20 served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT" || { e2e_log "not served"; return 1; }
}

knob_case() {
    local title=$1 want_chain=$2; shift 2
    t_begin "pebble $title: issuance by the module and by acmectl succeeds, stored chain as served"
    h_stop
    pebble_start "$@"
    # a restarted pebble has forgotten every account; the module does not
    # register again by itself (see the case "CA forgot our account"), so
    # start this case without one
    rm -rf "${STORE:?}/accounts"
    h_start "$PROXY_URL/dir" || { t_fail "Apache did not start"; return; }
    sleep 2
    module_renew_ok || { t_fail "module renewal failed"; h_show_log; return; }
    local v n
    v=$(h_live_version)
    n=$(count_certs "$STORE/archive/$H_NAME/chain$v.pem")
    check_cert_verifies "$STORE/archive/$H_NAME/cert$v.pem" "$STORE/archive/$H_NAME/chain$v.pem" \
        || { t_fail "the module's stored chain does not verify to pebble's root"; return; }
    if [ -z "$want_chain" ] && [ "$title" = PEBBLE_CHAIN_LENGTH=5 ] && [ "$n" -lt 3 ]; then
        t_fail "the module stored $n chain certificates with a 5-long chain"; return
    fi
    if [ -n "$want_chain" ] && [ "$n" != "$want_chain" ]; then
        t_fail "the module stored $n chain certificates, want $want_chain"; return
    fi
    [ "$(count_certs "$STORE/archive/$H_NAME/fullchain$v.pem")" = $((n + 1)) ] \
        || { t_fail "fullchain is not cert + $n"; return; }
    acmectl_ca_args
    local cs=$WORK/cli-${title//[^A-Za-z0-9]/_}
    # pebble validates http-01 on Apache's port: acmectl --standalone
    # takes it while Apache is stopped
    h_stop
    acmectl_run certonly "${ACMECTL_CA_ARGS[@]}" --config-dir "$cs" --standalone \
        --http-01-port "$HTTP01_PORT" -d cli.example.test
    h_start "$PROXY_URL/dir" || { t_fail "Apache did not start again"; return; }
    [ "$LAST_RC" = 0 ] || { t_fail "acmectl certonly failed"; last_failure_diag; return; }
    local ln
    ln=$(basename "$(find "$cs/live" -mindepth 1 -maxdepth 1 -type d | head -n 1)")
    check_cert_verifies "$cs/live/$ln/cert.pem" "$cs/live/$ln/chain.pem" \
        || { t_fail "acmectl's chain does not verify"; return; }
    [ "$(count_certs "$cs/live/$ln/chain.pem")" = "$n" ] \
        || { t_fail "acmectl stored $(count_certs "$cs/live/$ln/chain.pem") chain certificates, the module $n"; return; }
    e2e_log "chain certificates stored: $n"
    t_pass
}

# The CA forgot our account (pebble restarted; in real life: an account
# deactivated or a staging reset): accountDoesNotExist. A new account
# should be registered and the order go on, or at least the state says
# what to do. Expected to succeed; see the report.
t_begin "CA forgot our account (accountDoesNotExist): the module registers a new account and renews"
h_stop
pebble_start
h_start "$PROXY_URL/dir" || e2e_die "Apache did not start"
sleep 2
att=$(st_get attempts)
h_force_due
if ! h_wait_attempt "$att" 40; then
    t_fail "no attempt within 40 s"
elif [ "$(st_get status)" = valid ]; then
    t_pass
else
    t_fail "status $(st_get status): $(st_get last_error) (the stored account URL is reused forever; every later attempt fails the same way until someone deletes STORE/accounts)"
fi

knob_case "PEBBLE_WFE_NONCEREJECT=50 and PEBBLE_AUTHZREUSE=100" "" \
    PEBBLE_WFE_NONCEREJECT=50 PEBBLE_AUTHZREUSE=100
knob_case "PEBBLE_CHAIN_LENGTH=1" "${HOSTILE_CHAIN1:-1}" PEBBLE_CHAIN_LENGTH=1
knob_case "PEBBLE_CHAIN_LENGTH=5" "${HOSTILE_CHAIN5:-}" PEBBLE_CHAIN_LENGTH=5

e2e_log "t_hostile_ca took ${SECONDS}s"
t_summary
