#!/usr/bin/env bash
# End-to-end tests of ACME Renewal Information (RFC 9773) in acmectl renew,
# against pebble behind test/e2e/ca_proxy.py, which adds renewalInfo to the
# directory, answers the windows the cases choose, can refuse an order that
# "replaces" a certificate (alreadyReplaced), and records every request.
#
#   a. a window in the past: renew now, newOrder says replaces = old CertID
#   b. a window next month: not due; the chosen time is inside the window
#      and is reused (no new fetch) until next_fetch
#   c. alreadyReplaced: one retry without replaces, which succeeds
#   d. no renewalInfo in the directory: the lifetime rule (not due)
#   e. renewalInfo fails (500): a note, and the lifetime rule (not due)
#
# Run alone:  bash test/e2e/t_ari.sh      (after ./configure && make)

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init

if [ ! -x "$ACMECTL" ]; then
    t_begin "acmectl is built"
    t_fail "$ACMECTL does not exist (run ./configure && make)"
    t_summary
    exit
fi

challtestsrv_start
pebble_start

STORE=$WORK/store
NAME=ari.example.test




# cert_id CERT: the ARI CertID computed with openssl only:
# base64url(AKI keyIdentifier) "." base64url(DER serial content octets).
cert_id() {
    local aki serial
    aki=$(openssl x509 -in "$1" -noout -ext authorityKeyIdentifier 2>/dev/null \
              | sed -n '2,$p' | sed -e 's/keyid://' | tr -d ' :\n')
    serial=$(openssl x509 -in "$1" -noout -serial | cut -d= -f2)
    python3 - "$aki" "$serial" <<'EOF'
import base64, sys
aki, serial = sys.argv[1], sys.argv[2]
if len(serial) % 2:
    serial = "0" + serial
s = bytes.fromhex(serial)
if s[0] & 0x80:                 # DER INTEGER: positive, so a leading 0x00
    s = b"\0" + s
b = lambda x: base64.urlsafe_b64encode(x).decode().rstrip("=")
print(b(bytes.fromhex(aki)) + "." + b(s))
EOF
}

# state_py CODE: runs python with the lineage's state JSON as `st` (and
# `store`, `name`); exit status from CODE (assert ...).
state_py() {
    python3 - "$STORE/state/$NAME.json" "$1" <<'EOF'
import json, sys, datetime
st = json.load(open(sys.argv[1]))
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
now = datetime.datetime.now(datetime.timezone.utc).timestamp()
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("# state check failed: %s: %s" % (sys.argv[2], e))
    print("# state: " + json.dumps(st.get("ari")))
    sys.exit(1)
EOF
}

# log_py CODE: runs python with the proxy's request log as `reqs` (only
# the requests since the last proxy_control '{"clear_requests":true}').
log_py() {
    proxy_requests "$WORK/requests.json" || { e2e_log "cannot read the proxy's log"; return 1; }
    python3 - "$WORK/requests.json" "$1" <<'EOF'
import json, sys
reqs = json.load(open(sys.argv[1]))
orders = [r for r in reqs if r.get("endpoint") == "newOrder" and r["method"] == "POST"]
ari = [r for r in reqs if r["path"].startswith("/renewal-info/")]
try:
    exec(sys.argv[2])
except AssertionError as e:
    print("# proxy log check failed: %s: %s" % (sys.argv[2], e))
    for r in orders + ari:
        print("#   %s %s -> %s %s" % (r["method"], r["path"], r.get("status"),
                                     json.dumps(r.get("payload"))[:200]))
    sys.exit(1)
EOF
}

live_version() {
    readlink "$STORE/live/$NAME/cert.pem" | sed -n 's/.*cert\([0-9]*\)\.pem$/\1/p'
}

renew() {
    acmectl_run renew --config-dir "$STORE" --cert-name "$NAME" "$@"
}

proxy_start
e2e_log "ca_proxy on $PROXY_URL"

# ---------------------------------------------------------------------------

case_certonly() {
    t_begin "certonly through ca_proxy (the directory offers renewalInfo)"
    proxy_control '{"ari": {"start_offset": 2592000, "end_offset": 2764800, "retry_after": 3600}}' \
        || { t_fail "cannot configure the proxy"; return; }
    acmectl_run certonly --standalone --http-01-port "$HTTP01_PORT" -d "$NAME" \
        --config-dir "$STORE" --server "$PROXY_URL/dir" \
        --ca-bundle "$ACME_CA_BUNDLE" --email e2e@example.test --agree-tos \
        --non-interactive
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "certonly exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag
        return 1
    fi
    t_check "the certificate does not verify" \
        check_cert_verifies "$STORE/live/$NAME/cert.pem" "$STORE/live/$NAME/chain.pem" || return 1
    t_check "store layout of version 1" check_lineage "$STORE" "$NAME" 1 || return 1
    t_check "the lineage's server is not the proxy" \
        grep -q "^server = $PROXY_URL/dir" "$STORE/renewal/$NAME.conf" || return 1
    t_check "pebble's certificate has no AKI" \
        eval 'openssl x509 -in "$STORE/live/$NAME/cert.pem" -noout -ext authorityKeyIdentifier | grep -q .' || return 1
    t_pass
}

case_past_window() {
    local old_id
    t_begin "ARI window in the past: renew now, newOrder replaces the old CertID"
    old_id=$(cert_id "$STORE/live/$NAME/cert.pem")
    [ -n "$old_id" ] || { t_fail "cannot compute the CertID with openssl"; return; }
    proxy_control '{"clear_requests": true, "ari": {"start_offset": -259200, "end_offset": -86400, "retry_after": 3600, "explanation": "https://ca.example/ari"}}' \
        || { t_fail "cannot configure the proxy"; return; }
    renew
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "renew exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag
        return
    fi
    t_check "live/ is not version 2 after renew ($(live_version))" \
        check_lineage "$STORE" "$NAME" 2 || return
    t_check "the renewed certificate does not verify" \
        check_cert_verifies "$STORE/live/$NAME/cert.pem" "$STORE/live/$NAME/chain.pem" || return
    t_check "the CA was not asked GET /renewal-info/$old_id, or newOrder lacked replaces=$old_id" \
        log_py "
assert [r for r in ari if r['path'] == '/renewal-info/$old_id' and r['method'] == 'GET'], 'no GET of the CertID'
assert len(orders) == 1, '%d orders' % len(orders)
assert orders[0]['payload'].get('replaces') == '$old_id', orders[0]['payload']
assert orders[0]['status'] == 201, orders[0]['status']
" || return
    t_check "output does not say why (ARI)" grep -q "ARI" "$WORK/last.out" || return
    t_pass
}

case_future_window() {
    local id before start end
    t_begin "ARI window next month: not due; chosen inside the window and reused"
    id=$(cert_id "$STORE/live/$NAME/cert.pem")
    # 30 to 32 days from now (fixed, as a CA's window is), re-asked after
    # an hour
    start=$(date -u -d '+30 days' +%Y-%m-%dT%H:%M:%SZ)
    end=$(date -u -d '+32 days' +%Y-%m-%dT%H:%M:%SZ)
    proxy_control '{"clear_requests": true, "ari": {"start": "'"$start"'", "end": "'"$end"'", "retry_after": 3600}}' \
        || { t_fail "cannot configure the proxy"; return; }
    renew
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "renew exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag
        return
    fi
    t_check "renew renewed ($(live_version))" check_lineage "$STORE" "$NAME" 2 || return
    t_check "renew does not say 'not due'" grep -q "not due" "$WORK/last.out" || return
    t_check "state ari: wrong certificate, window, chosen time or next_fetch" \
        state_py "
a = st['ari']
assert a['cert_id'] == '$id', a['cert_id']
s, e, c, n = t(a['start']), t(a['end']), t(a['chosen']), t(a['next_fetch'])
assert a['start'] == '$start' and a['end'] == '$end', 'window'
assert abs(s - (now + 2592000)) < 120 and abs(e - (now + 2764800)) < 120, 'window'
assert s <= c < e, 'chosen outside the window'
assert 3400 < n - now <= 3600, 'next_fetch is not now + Retry-After'
" || return
    before=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ari"]["chosen"])' \
                 "$STORE/state/$NAME.json")
    # a second run within next_fetch: no fetch, same decision
    proxy_control '{"clear_requests": true}'
    renew
    t_check "second renew failed or renewed" \
        eval '[ "$LAST_RC" -eq 0 ] && grep -q "not due" "$WORK/last.out"' || return
    t_check "the second run asked the CA again before next_fetch" \
        log_py "assert not ari, '%d renewalInfo requests' % len(ari)" || return
    t_check "the chosen time changed" \
        state_py "assert st['ari']['chosen'] == '$before', st['ari']['chosen']" || return
    # past next_fetch with the same window: fetched again, chosen kept
    state_py "
st['ari']['next_fetch'] = '2000-01-01T00:00:00Z'
json.dump(st, open(sys.argv[1], 'w'))" || { t_fail "cannot edit the state"; return; }
    renew
    t_check "the third run did not fetch again after next_fetch" \
        log_py "assert len(ari) == 1, '%d renewalInfo requests' % len(ari)" || return
    t_check "the chosen time changed for the same window" \
        state_py "assert st['ari']['chosen'] == '$before', st['ari']['chosen']" || return
    t_pass
}

case_already_replaced() {
    local id
    t_begin "alreadyReplaced: acmectl orders again without replaces"
    id=$(cert_id "$STORE/live/$NAME/cert.pem")
    # the window recorded in case b is not to be asked for again yet: a
    # later run (simulated) finds next_fetch passed
    state_py "
st['ari']['next_fetch'] = '2000-01-01T00:00:00Z'
json.dump(st, open(sys.argv[1], 'w'))" || { t_fail "cannot edit the state"; return; }
    proxy_control '{"clear_requests": true, "already_replaced": 1, "ari": {"start_offset": -7200, "end_offset": -3600}}' \
        || { t_fail "cannot configure the proxy"; return; }
    renew
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "renew exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag
        return
    fi
    t_check "live/ is not version 3 ($(live_version))" check_lineage "$STORE" "$NAME" 3 || return
    t_check "the proxy did not see replaces=$id refused (409), then an order without replaces" \
        log_py "
assert len(orders) == 2, '%d orders' % len(orders)
assert orders[0]['payload'].get('replaces') == '$id', orders[0]['payload']
assert orders[0]['status'] == 409, orders[0]['status']
assert 'replaces' not in orders[1]['payload'], orders[1]['payload']
assert orders[1]['status'] == 201, orders[1]['status']
" || return
    t_check "output does not mention the retry" grep -qi "already replaced" "$WORK/last.out" || return
    t_pass
}

case_no_ari() {
    t_begin "no renewalInfo in the directory: the lifetime rule applies (not due)"
    proxy_control '{"clear_requests": true, "already_replaced": 0, "ari": null}' \
        || { t_fail "cannot configure the proxy"; return; }
    renew
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "renew exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag
        return
    fi
    t_check "renew renewed ($(live_version))" check_lineage "$STORE" "$NAME" 3 || return
    t_check "renew does not say 'not due'" grep -q "not due" "$WORK/last.out" || return
    t_check "no renewalInfo should have been fetched, nor an order made" \
        log_py "
assert not ari, '%d renewalInfo requests' % len(ari)
assert not orders, '%d orders' % len(orders)
assert any(r.get('endpoint') == 'directory' for r in reqs), 'directory not read'
" || return
    t_pass
}

case_ari_error() {
    t_begin "renewalInfo answers 500: a note, and the lifetime rule decides (not due)"
    proxy_control '{"clear_requests": true, "ari": {"start_offset": -7200, "end_offset": -3600}, "rules": [{"match": {"method": "GET", "path_prefix": "/renewal-info/"}, "action": "problem", "status": 500, "detail": "ARI is down (ca_proxy)"}]}' \
        || { t_fail "cannot configure the proxy"; return; }
    renew
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "renew exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag
        return
    fi
    t_check "renew renewed ($(live_version))" check_lineage "$STORE" "$NAME" 3 || return
    t_check "renew does not say 'not due'" grep -q "not due" "$WORK/last.out" || return
    t_check "renew does not explain that the renewal information failed" \
        grep -q "Could not fetch the renewal information.*ARI is down" "$WORK/last.out" || return
    t_check "the proxy did not answer the renewalInfo GET with 500" \
        log_py "assert [r['status'] for r in ari] == [500], [r['status'] for r in ari]" || return
    proxy_control '{"rules": [], "ari": null}'
    t_pass
}


# ---------------------------------------------------------------------------
# The module: the supervisor asks for renewal information through the
# unprivileged worker, records the window in state/NAME.json "ari", and
# renews when the chosen time has come, with "replaces" in the new order.

MOD_NAME=mod-ari.example.test
MOD_STORE=$WORK/mod-store
MOD_HTTPS_PORT=${ARI_HTTPS_PORT:-8447}

mod_state_py() {
    STORE=$MOD_STORE NAME=$MOD_NAME state_py "$1"
}

mod_live_version() {
    readlink "$MOD_STORE/live/$MOD_NAME/cert.pem" 2>/dev/null \
        | sed -n 's/.*cert\([0-9]*\)\.pem$/\1/p'
}

mod_config() {
    cat <<EOF
LoadModule acme_module "$TOP/mod_acme.so"
LogLevel info ssl:warn
ACMECertificateAuthority $PROXY_URL/dir
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$MOD_STORE"
ACMEAgreeToS on
ACMEPortMap 80:$HTTP01_PORT
ACMECheckInterval 2s
ACMEWorkerBinary "$WORK/acmectl-mod"
<VirtualHost 127.0.0.1:$MOD_HTTPS_PORT>
    ServerName $MOD_NAME
    SSLEngine on
    ACMEDomain $MOD_NAME
</VirtualHost>
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $MOD_NAME
    <Location /.well-known/acme-status>
        SetHandler acme-status
    </Location>
</VirtualHost>
EOF
}

# mod_status_ari_is SOURCE: the status JSON from SOURCE ("acmectl" or
# "handler") names the window that state/NAME.json records (start, end,
# chosen) for the module's certificate, whatever form it was written in.
mod_status_ari_is() {
    local json
    if [ "$1" = acmectl ]; then
        json=$("$TOP/acmectl" status --json --config-dir "$MOD_STORE" 2>&1) \
            || { echo "# acmectl status failed: $json"; return 1; }
    else
        json=$(curl -s "http://127.0.0.1:$HTTP01_PORT/.well-known/acme-status") \
            || { echo "# no status handler answer"; return 1; }
    fi
    python3 - "$MOD_STORE/state/$MOD_NAME.json" "$MOD_NAME" "$json" <<'PY'
import json, sys, datetime
st = json.load(open(sys.argv[1]))["ari"]
def sec(v):
    if isinstance(v, (int, float)):
        return int(v)
    return int(datetime.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())
doc = json.loads(sys.argv[3])
certs = [c for c in doc["certificates"] if c["name"] == sys.argv[2]]
assert certs, "no status entry for %s" % sys.argv[2]
a = certs[0].get("ari")
assert isinstance(a, dict), "status has no ARI window: %r" % (a,)
for k in ("start", "end", "chosen"):
    assert a.get(k) is not None and sec(a[k]) == sec(st[k]), \
        "%s: status %r, state %r" % (k, a.get(k), st[k])
PY
}

mod_version_is() {
    test "$(mod_live_version)" = "$1"
}

# wait_for SECONDS CMD...: polls CMD every 0.5 s.
wait_for() {
    local n=$(( $1 * 2 )) i
    shift
    for i in $(seq "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}

case_module_ari() {
    local old_id
    t_begin "module: ARI window in the past -> the supervisor renews with replaces"
    if [ "$(id -u)" -ne 0 ]; then
        t_skip "needs root (httpd with an unprivileged worker)"; return
    fi
    cp "$TOP/acmectl" "$WORK/acmectl-mod" && chmod 755 "$WORK/acmectl-mod"
    proxy_control '{"clear_requests": true, "already_replaced": 0, "ari": {"start_offset": 2592000, "end_offset": 2764800, "retry_after": 3600}}' \
        || { t_fail "cannot configure the proxy"; return; }
    apache_start ari "$MOD_HTTPS_PORT $HTTP01_PORT" "$(mod_config)" \
        || { t_fail "apache did not start"; return; }
    if ! wait_for 60 mod_version_is 1; then
        t_fail "no first certificate within 60 s"
        e2e_show_file "$(apache_dir ari)/logs/error.log" 20; return
    fi
    # the supervisor records the (future) window for the new certificate
    if ! wait_for 30 mod_state_py "assert t(st['ari']['chosen']) > now"; then
        t_fail "no ARI window recorded for the certificate"
        e2e_show_file "$(apache_dir ari)/logs/error.log" 20; return
    fi
    old_id=$(cert_id "$MOD_STORE/live/$MOD_NAME/cert.pem")
    t_check "recorded cert_id is the certificate's CertID" \
        mod_state_py "assert st['ari']['cert_id'] == '$old_id', st['ari']" || return
    t_check "a window next month renews nothing" mod_version_is 1 || return
    t_check "acmectl status --json shows the module's ARI window" \
        mod_status_ari_is acmectl || return
    t_check "the status handler shows the module's ARI window" \
        mod_status_ari_is handler || return
    # the CA moves the window into the past; the record expires
    proxy_control '{"clear_requests": true, "ari": {"start_offset": -7200, "end_offset": -3600, "retry_after": 3600}}'
    python3 -c '
import json, os, sys
p = sys.argv[1]; st = json.load(open(p))
st["ari"]["next_fetch"] = "2000-01-01T00:00:00Z"
json.dump(st, open(p + ".tmp", "w")); os.replace(p + ".tmp", p)
' "$MOD_STORE/state/$MOD_NAME.json"
    if ! wait_for 60 mod_version_is 2; then
        t_fail "the module did not renew within 60 s of a past window"
        e2e_show_file "$(apache_dir ari)/logs/error.log" 20; return
    fi
    t_check "the module's newOrder replaces the old CertID" \
        log_py "assert any((o.get('payload') or {}).get('replaces') == '$old_id' for o in orders), [o.get('payload') for o in orders]" || return
    t_check "state says the renewal was for ARI" \
        mod_state_py "assert st.get('due_reason') == 'ari', st.get('due_reason')" || return
    apache_stop ari
    t_pass
}

case_certonly && {
    case_past_window
    case_future_window
    case_already_replaced
    case_no_ari
    case_ari_error
}
case_module_ari

t_summary
