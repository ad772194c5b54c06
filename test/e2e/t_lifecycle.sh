#!/usr/bin/env bash
# test/e2e/t_lifecycle.sh -- a certificate's life after the first issuance
# (issue "Certificate lifecycle"), checked the way a user checks it:
#
#   1. acmectl renew: --force-renewal makes version 2 and flips live/;
#      --pre/--deploy/--post-hook with Certbot's environment (pre and post
#      once per run, FAILED_DOMAINS); a Certbot deploy script in
#      STORE/renewal-hooks/deploy/ runs unchanged; nothing due -> nothing
#      renewed; one failing lineage does not stop the other; a failing
#      deploy hook does not undo the renewal.
#   2. revoke (pebble's management API says Revoked, reason 4), certificates
#      shows it, delete removes the lineage; revoke deletes by default.
#   3. expand: more names go into the same lineage; --duplicate does not.
#   4. --allow-subset-of-names drops the name that cannot be validated.
#   5. --preferred-chain with pebble's alternate roots.
#   6. the duplicate-certificate guard (5 per exact name set per 7 days).
#   7. account key rollover; the old key is refused by the CA.
#   8. --preferred-profile against a CA without profiles.
#   9. an IP address identifier.
#  10. the module: deploy/pre/post hooks; backoff recorded in state/NAME.json.
#
# Run alone (ports away from other runs):
#   DNS_PORT=18053 CTS_MGMT_PORT=18055 PEBBLE_PORT=16000 PEBBLE_MGMT_PORT=16001 \
#   HTTP01_PORT=16002 TLSALPN_PORT=16003 bash test/e2e/run.sh t_lifecycle.sh
# LIFECYCLE_HTTPS_PORT (default 8471) is the HTTPS port of the module cases.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

e2e_init

if [ ! -x "$ACMECTL" ]; then
    t_begin "acmectl is built"
    t_fail "$ACMECTL does not exist (run ./configure && make)"
    t_summary
    exit
fi

LIFECYCLE_HTTPS_PORT=${LIFECYCLE_HTTPS_PORT:-8471}

challtestsrv_start
pebble_start
acmectl_ca_args

STORE=$WORK/store              # most acmectl cases
WEB=$(www_dir main)            # served by Apache on the http-01 port
UNSERVED=$WORK/unserved        # a directory Apache does not serve
mkdir -p "$UNSERVED/.well-known/acme-challenge"
chmod -R 755 "$UNSERVED"
HOOKS=$WORK/hooks
mkdir -p "$HOOKS"

# ---------------------------------------------------------------------------
# Hooks

# $HOOKS/log PHASE LOGFILE: one line per run with Certbot's variables
# ("unset" when a variable is not in the environment at all).
cat > "$HOOKS/log" <<'EOF'
#!/bin/sh
echo "$1 lineage=${RENEWED_LINEAGE-unset} domains=${RENEWED_DOMAINS-unset} failed=${FAILED_DOMAINS-unset}" >> "$2"
EOF
# a deploy hook that fails
cat > "$HOOKS/fail" <<'EOF'
#!/bin/sh
echo "e2e deploy hook: reload of the mail server failed" >&2
exit 3
EOF
chmod 755 "$HOOKS/log" "$HOOKS/fail"

# certbot_deploy_hook FILE DEST LOG: a deploy hook as an administrator writes
# it for Certbot's renewal-hooks/deploy/: it knows only RENEWED_LINEAGE and
# RENEWED_DOMAINS, copies the renewed files where another service reads
# them, and notes what it did.
certbot_deploy_hook() {
    cat > "$1" <<EOF
#!/bin/sh
# Certbot deploy hook: hand the renewed certificate to dovecot/exim
set -e
name=\$(basename "\$RENEWED_LINEAGE")
mkdir -p "$2/\$name"
cp "\$RENEWED_LINEAGE/fullchain.pem" "\$RENEWED_LINEAGE/privkey.pem" "$2/\$name/"
echo "\$RENEWED_DOMAINS" > "$2/\$name/domains"
echo "dir lineage=\$RENEWED_LINEAGE domains=\$RENEWED_DOMAINS" >> "$3"
EOF
    chmod 755 "$1"
}

# ---------------------------------------------------------------------------
# Helpers

# ok_run: the last acmectl run exited 0, else t_fail with its output.
ok_run() {
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "acmectl exited $LAST_RC: $(head -c 400 "$WORK/last.err")"
        last_failure_diag
        return 1
    fi
}

# issued_why STORE LINEAGE N NAME...: prints what is wrong with live/LINEAGE
# (Certbot's layout at version N, verifies up to pebble's root, names
# exactly NAME...); prints nothing and returns 0 when all is right.
issued_why() {
    local st=$1 lin=$2 n=$3; shift 3
    check_lineage "$st" "$lin" "$n" >&2 || { echo "lineage $lin is not at version $n"; return 1; }
    check_cert_verifies "$st/live/$lin/cert.pem" "$st/live/$lin/chain.pem" >&2 \
        || { echo "live/$lin/cert.pem does not verify against pebble's root"; return 1; }
    check_cert_names "$st/live/$lin/cert.pem" "$@" >&2 \
        || { echo "live/$lin/cert.pem: SAN set is not exactly $*"; return 1; }
}

# issued STORE LINEAGE N NAME...: issued_why, or t_fail with its reason.
issued() {
    local why
    why=$(issued_why "$@" 2>"$WORK/issued.diag") && return 0
    t_fail "$why"
    head -n 10 "$WORK/issued.diag"
    return 1
}

# the archive version live/NAME/cert.pem points to
live_version() {
    readlink "$1/live/$2/cert.pem" 2>/dev/null | sed -n 's|.*/cert\([0-9][0-9]*\)\.pem$|\1|p'
}

# words_sorted "a b c": the words, sorted, space separated
words_sorted() { printf '%s\n' $1 | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }

# count_lines FILE REGEX
count_lines() { grep -cE -- "$2" "$1" 2>/dev/null; }

# pebble's orders so far (new-order requests in its log)
pebble_orders() { grep -c 'POST /order-plz' "$WORK/pebble.log"; }

# pebble_cert_status SERIAL FIELD: a field of pebble's management answer
pebble_cert_status() {
    curl -s --cacert "$ACME_CA_BUNDLE" \
        "https://localhost:$PEBBLE_MGMT_PORT/cert-status-by-serial/$1" | jq -r ".$2 // empty"
}

# top_issuer CHAIN: the issuer CN of the last certificate of CHAIN
top_issuer() {
    awk '/-----BEGIN CERTIFICATE-----/ { buf = "" } { buf = buf $0 "\n" }
         /-----END CERTIFICATE-----/ { last = buf } END { printf "%s", last }' "$1" \
        | openssl x509 -noout -issuer -nameopt multiline 2>/dev/null \
        | sed -n 's/^ *commonName *= *//p'
}

# root_cn N: the CN of pebble's root N (management port)
root_pem() {
    curl -sf --cacert "$ACME_CA_BUNDLE" "https://localhost:$PEBBLE_MGMT_PORT/roots/$1"
}
pem_cn() { openssl x509 -noout -subject -nameopt multiline 2>/dev/null | sed -n 's/^ *commonName *= *//p'; }

certonly_web() {   # certonly_web STORE ARGS...: webroot certonly with WEB
    local st=$1; shift
    acmectl_run certonly --webroot -w "$WEB" "$@" --config-dir "$st" "${ACMECTL_CA_ARGS[@]}"
}

# ===========================================================================
# 9. IP identifier (standalone: before Apache takes the http-01 port)

case_ip() {
    t_begin "certonly --standalone -d 127.0.0.1: certificate with SAN IP Address:127.0.0.1"
    local st=$WORK/store-ip san
    acmectl_run certonly --standalone --http-01-port "$HTTP01_PORT" -d 127.0.0.1 \
        --config-dir "$st" "${ACMECTL_CA_ARGS[@]}"
    if [ "$LAST_RC" -ne 0 ]; then
        # Only the CA's own refusal of IP identifiers is a reason to skip.
        if grep -Eiq 'rejectedIdentifier|unsupportedIdentifier|ip address|identifier type' "$WORK/last.err" \
           && last_err_one_line; then
            t_skip "pebble refuses IP identifiers: $(cat "$WORK/last.err")"
        else
            t_fail "acmectl exited $LAST_RC: $(head -c 400 "$WORK/last.err")"
            last_failure_diag
        fi
        return
    fi
    san=$(openssl x509 -in "$st/live/127.0.0.1/cert.pem" -noout -ext subjectAltName 2>/dev/null | sed -n '2,$p' | tr -d ' ')
    if [ "$san" != "IPAddress:127.0.0.1" ]; then
        t_fail "SAN is '$san', want exactly 'IP Address:127.0.0.1'"; return
    fi
    t_check "the certificate does not verify against pebble's root" \
        check_cert_verifies "$st/live/127.0.0.1/cert.pem" "$st/live/127.0.0.1/chain.pem" || return
    # openssl's own IP check, as a TLS client would do it
    if ! openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$st/live/127.0.0.1/chain.pem" \
            -verify_ip 127.0.0.1 "$st/live/127.0.0.1/cert.pem" >/dev/null 2>&1; then
        t_fail "openssl verify -verify_ip 127.0.0.1 fails"; return
    fi
    t_pass
}

# ===========================================================================
# 1. renew

S1=$WORK/store-renew
HOOKLOG1=$WORK/renew-hooks.log
DEPLOYED=$WORK/deployed        # where the Certbot deploy hook copies to
R1=r1.example.test
R2_NAMES="r2.example.test www.r2.example.test"

renew_hooks=()
renew_hook_args() {
    renew_hooks=(--pre-hook "$HOOKS/log pre $HOOKLOG1"
                 --deploy-hook "$HOOKS/log deploy $HOOKLOG1"
                 --post-hook "$HOOKS/log post $HOOKLOG1")
}

case_renew_setup() {
    t_begin "renew setup: two webroot lineages ($R1; r2.example.test with www)"
    certonly_web "$S1" -d "$R1"; ok_run || return 1
    certonly_web "$S1" -d r2.example.test -d www.r2.example.test; ok_run || return 1
    issued "$S1" "$R1" 1 "$R1" || return 1
    issued "$S1" r2.example.test 1 $R2_NAMES || return 1
    # the Certbot deploy script goes where Certbot users put it
    mkdir -p "$S1/renewal-hooks/deploy"
    certbot_deploy_hook "$S1/renewal-hooks/deploy/50-mailserver" "$DEPLOYED" "$HOOKLOG1"
    t_pass
}

# certonly with --pre/--deploy/--post-hook: Certbot runs them around the
# order (not the hook directories: they are renew's) and keeps them in the
# renewal conf for later renewals.
case_certonly_hooks() {
    local st=$WORK/store-certonly-hooks log=$WORK/certonly-hooks.log lin=ch.example.test conf why=()
    t_begin "certonly --pre/--deploy/--post-hook: run once each in that order (not renewal-hooks/), kept in the renewal conf"
    : > "$log"
    mkdir -p "$st/renewal-hooks/deploy"
    printf '#!/bin/sh\necho dir >> %s\n' "$log" > "$st/renewal-hooks/deploy/10-dir"
    chmod 755 "$st/renewal-hooks/deploy/10-dir"
    certonly_web "$st" -d "$lin" --pre-hook "$HOOKS/log pre $log" \
        --deploy-hook "$HOOKS/log deploy $log" --post-hook "$HOOKS/log post $log"
    ok_run || return
    [ "$(cut -d' ' -f1 "$log" | tr '\n' ' ')" = "pre deploy post " ] \
        || why+=("hooks ran as: $(cut -d' ' -f1 "$log" | tr '\n' ' ')")
    grep -qx "deploy lineage=$st/live/$lin domains=$lin failed=unset" "$log" \
        || why+=("the deploy hook did not see RENEWED_LINEAGE/RENEWED_DOMAINS")
    conf=$st/renewal/$lin.conf
    grep -q "^renew_hook = $HOOKS/log deploy $log\$" "$conf" || why+=("no renew_hook in $conf")
    grep -q "^pre_hook = $HOOKS/log pre $log\$" "$conf" || why+=("no pre_hook in $conf")
    grep -q "^post_hook = $HOOKS/log post $log\$" "$conf" || why+=("no post_hook in $conf")
    if [ ${#why[@]} -gt 0 ]; then
        t_fail "$(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"; e2e_show_file "$log"; return
    fi
    t_pass
}

case_renew_force() {
    t_begin "renew --force-renewal with --pre/--deploy/--post-hook: both lineages at version 2, new serials, hooks once each with Certbot's variables"
    local s1a s2a s1b s2b why=() n line
    s1a=$(cert_serial "$S1/archive/$R1/cert1.pem")
    s2a=$(cert_serial "$S1/archive/r2.example.test/cert1.pem")
    : > "$HOOKLOG1"
    renew_hook_args
    acmectl_run renew --force-renewal "${renew_hooks[@]}" --config-dir "$S1"
    ok_run || return
    issued "$S1" "$R1" 2 "$R1" || return
    issued "$S1" r2.example.test 2 $R2_NAMES || return
    s1b=$(cert_serial "$S1/live/$R1/cert.pem"); s2b=$(cert_serial "$S1/live/r2.example.test/cert.pem")
    [ -n "$s1b" ] && [ "$s1b" != "$s1a" ] || why+=("$R1 serial unchanged ($s1a)")
    [ -n "$s2b" ] && [ "$s2b" != "$s2a" ] || why+=("r2 serial unchanged ($s2a)")
    # pre first and once, post last and once, a deploy per lineage
    n=$(count_lines "$HOOKLOG1" '^pre '); [ "$n" = 1 ] || why+=("pre hook ran $n times")
    n=$(count_lines "$HOOKLOG1" '^post '); [ "$n" = 1 ] || why+=("post hook ran $n times")
    [ "$(head -n 1 "$HOOKLOG1" | cut -d' ' -f1)" = pre ] || why+=("pre hook is not the first hook")
    [ "$(tail -n 1 "$HOOKLOG1" | cut -d' ' -f1)" = post ] || why+=("post hook is not the last hook")
    n=$(count_lines "$HOOKLOG1" '^deploy '); [ "$n" = 2 ] || why+=("deploy hook ran $n times, want 2")
    grep -qx "deploy lineage=$S1/live/$R1 domains=$R1 failed=unset" "$HOOKLOG1" \
        || why+=("no deploy run with RENEWED_LINEAGE=$S1/live/$R1 RENEWED_DOMAINS=$R1")
    line=$(grep "^deploy lineage=$S1/live/r2.example.test domains=" "$HOOKLOG1" | head -n 1)
    [ "$(words_sorted "$(echo "$line" | sed 's/.* domains=\(.*\) failed=.*/\1/')")" = "$(words_sorted "$R2_NAMES")" ] \
        || why+=("no deploy run with RENEWED_LINEAGE=$S1/live/r2.example.test and RENEWED_DOMAINS=$R2_NAMES")
    grep -q '^post .* failed=$' "$HOOKLOG1" || why+=("post hook's FAILED_DOMAINS is not set and empty")
    if [ "${#why[@]}" -gt 0 ]; then
        t_fail "$(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"
        e2e_show_file "$HOOKLOG1"
        return
    fi
    e2e_log "post hook saw: $(grep '^post ' "$HOOKLOG1")"
    t_pass
}

case_renew_certbot_dir_hook() {
    t_begin "a Certbot deploy script in STORE/renewal-hooks/deploy/ runs unchanged (copies the renewed files)"
    local why=() lin
    for lin in "$R1" r2.example.test; do
        cmp -s "$DEPLOYED/$lin/fullchain.pem" "$S1/archive/$lin/fullchain2.pem" \
            || why+=("$lin: copied fullchain.pem is not fullchain2.pem")
        cmp -s "$DEPLOYED/$lin/privkey.pem" "$S1/archive/$lin/privkey2.pem" \
            || why+=("$lin: copied privkey.pem is not privkey2.pem")
    done
    [ "$(cat "$DEPLOYED/$R1/domains" 2>/dev/null)" = "$R1" ] || why+=("$R1: RENEWED_DOMAINS was '$(cat "$DEPLOYED/$R1/domains" 2>/dev/null)'")
    [ "$(words_sorted "$(cat "$DEPLOYED/r2.example.test/domains" 2>/dev/null)")" = "$(words_sorted "$R2_NAMES")" ] \
        || why+=("r2: RENEWED_DOMAINS was '$(cat "$DEPLOYED/r2.example.test/domains" 2>/dev/null)'")
    [ "$(count_lines "$HOOKLOG1" '^dir ')" = 2 ] || why+=("the script ran $(count_lines "$HOOKLOG1" '^dir ') times, want 2")
    if [ "${#why[@]}" -gt 0 ]; then
        t_fail "$(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"; e2e_show_file "$HOOKLOG1"; return
    fi
    t_pass
}

case_renew_not_due() {
    t_begin "renew without --force-renewal on fresh certificates: renews nothing, says they are not due, runs no hook"
    local before after n
    before=$(store_snapshot "$S1/archive"; store_snapshot "$S1/live")
    n=$(pebble_orders)
    : > "$HOOKLOG1"
    renew_hook_args
    acmectl_run renew "${renew_hooks[@]}" --config-dir "$S1"
    ok_run || return
    after=$(store_snapshot "$S1/archive"; store_snapshot "$S1/live")
    if [ "$before" != "$after" ]; then t_fail "archive/ or live/ changed"; return; fi
    if [ "$(pebble_orders)" != "$n" ]; then t_fail "pebble got $(( $(pebble_orders) - n )) new order(s)"; return; fi
    if ! grep -qi 'not due' "$WORK/last.out"; then
        t_fail "the output does not say 'not due': $(head -c 300 "$WORK/last.out")"; return
    fi
    if ! grep -q "$S1/live/$R1/fullchain.pem" "$WORK/last.out" \
       || ! grep -q "$S1/live/r2.example.test/fullchain.pem" "$WORK/last.out"; then
        t_fail "the output does not list both lineages as skipped"; e2e_show_file "$WORK/last.out"; return
    fi
    if [ -s "$HOOKLOG1" ]; then t_fail "hooks ran although nothing was due"; e2e_show_file "$HOOKLOG1"; return; fi
    t_pass
}

case_renew_one_fails() {
    t_begin "renew with one failing lineage (webroot not served): the other renews; pre/post once; FAILED_DOMAINS names the failed one; exit non-zero"
    local conf=$S1/renewal/r2.example.test.conf why=() n
    # the administrator moved r2's webroot to a directory Apache does not serve
    sed -i "s|$WEB|$UNSERVED|g" "$conf"
    grep -q "$UNSERVED" "$conf" || { t_fail "could not point $conf at $UNSERVED"; return; }
    : > "$HOOKLOG1"
    renew_hook_args
    acmectl_run renew --force-renewal "${renew_hooks[@]}" --config-dir "$S1"
    [ "$LAST_RC" -ne 0 ] || why+=("exit 0 although r2's renewal failed")
    [ "$LAST_RC" -ne 124 ] || why+=("timed out")
    [ "$(live_version "$S1" "$R1")" = 3 ] || why+=("$R1 is at version $(live_version "$S1" "$R1"), want 3")
    [ "$(live_version "$S1" r2.example.test)" = 2 ] || why+=("r2 is at version $(live_version "$S1" r2.example.test), want 2 (unchanged)")
    [ ! -e "$S1/archive/r2.example.test/cert3.pem" ] || why+=("archive/r2.example.test/cert3.pem exists")
    grep -q 'r2.example.test' "$WORK/last.err" || why+=("stderr does not name r2.example.test")
    n=$(count_lines "$HOOKLOG1" '^pre '); [ "$n" = 1 ] || why+=("pre hook ran $n times")
    n=$(count_lines "$HOOKLOG1" '^post '); [ "$n" = 1 ] || why+=("post hook ran $n times")
    n=$(count_lines "$HOOKLOG1" '^deploy '); [ "$n" = 1 ] || why+=("deploy hook ran $n times, want 1")
    grep -qx "deploy lineage=$S1/live/$R1 domains=$R1 failed=unset" "$HOOKLOG1" || why+=("no deploy run for $R1")
    local failed
    failed=$(sed -n 's/^post .* failed=//p' "$HOOKLOG1")
    [ "$(words_sorted "$failed")" = "$(words_sorted "$R2_NAMES")" ] \
        || why+=("post hook's FAILED_DOMAINS is '$failed', want '$R2_NAMES'")
    issued_why "$S1" r2.example.test 2 $R2_NAMES >/dev/null 2>&1 || why+=("r2's live certificate is no longer the valid version 2")
    if [ "${#why[@]}" -gt 0 ]; then
        t_fail "$(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"; e2e_show_file "$HOOKLOG1"; last_failure_diag; return
    fi
    e2e_log "stderr: $(head -c 250 "$WORK/last.err")"
    e2e_log "post hook saw: $(grep '^post ' "$HOOKLOG1")"
    t_pass
    sed -i "s|$UNSERVED|$WEB|g" "$conf"
}

case_renew_deploy_fails() {
    t_begin "a failing deploy hook is reported, the renewal stands"
    local v before
    before=$(live_version "$S1" "$R1")
    acmectl_run renew --force-renewal --cert-name "$R1" --deploy-hook "$HOOKS/fail" --config-dir "$S1"
    # acmectl_cmd_renew: hook failures are reported and do not change the exit status
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "exit $LAST_RC, want 0 (the renewal succeeded; only the hook failed)"; last_failure_diag; return
    fi
    v=$((before + 1))
    if [ ! -s "$S1/archive/$R1/cert$v.pem" ] || [ "$(live_version "$S1" "$R1")" != "$v" ]; then
        t_fail "live/$R1 is not at the new version $v"; return
    fi
    issued "$S1" "$R1" "$v" "$R1" || return
    if ! cat "$WORK/last.out" "$WORK/last.err" | grep -qi 'deploy hook failed'; then
        t_fail "no 'Deploy hook failed' message"; last_failure_diag; return
    fi
    e2e_log "$(cat "$WORK/last.out" "$WORK/last.err" | grep -i 'deploy hook failed' | head -n 1)"
    t_pass
}

# ===========================================================================
# 2. revoke, certificates, delete

case_revoke() {
    local lin=rv.example.test serial st reason before
    t_begin "revoke --reason superseded --no-delete-after-revoke: pebble says Revoked (reason 4); certificates shows INVALID: REVOKED"
    certonly_web "$STORE" -d "$lin"; ok_run || return
    serial=$(cert_serial "$STORE/live/$lin/cert.pem")
    st=$(pebble_cert_status "$serial" Status)
    [ "$st" = Valid ] || { t_fail "before revoking, pebble says '$st' for serial $serial"; return; }
    acmectl_run revoke --cert-name "$lin" --reason superseded --no-delete-after-revoke --config-dir "$STORE"
    ok_run || return
    st=$(pebble_cert_status "$serial" Status); reason=$(pebble_cert_status "$serial" Reason)
    if [ "$st" != Revoked ] || [ "$reason" != 4 ]; then
        t_fail "pebble says Status '$st' Reason '$reason' for $serial, want Revoked 4"; return
    fi
    [ -e "$STORE/live/$lin/cert.pem" ] && [ -s "$STORE/renewal/$lin.conf" ] \
        || { t_fail "--no-delete-after-revoke: the lineage is gone"; return; }
    acmectl_run certificates --config-dir "$STORE"; ok_run || return
    if ! awk -v n="$lin" '/Certificate Name: / { on = ($3 == n) } on' "$WORK/last.out" \
            | grep -q 'INVALID: REVOKED'; then
        t_fail "certificates does not show INVALID: REVOKED for $lin"; e2e_show_file "$WORK/last.out" 30; return
    fi
    acmectl_run certificates --json --config-dir "$STORE"; ok_run || return
    if [ "$(jq -r --arg n "$lin" '.certificates[] | select(.name == $n) | "\(.revoked) \(.valid)"' "$WORK/last.out")" != "true false" ]; then
        t_fail "JSON for $lin: $(jq -c --arg n "$lin" '.certificates[] | select(.name == $n) | {revoked, valid}' "$WORK/last.out")"; return
    fi
    if [ -n "$(jq -r --arg n "$lin" '.certificates[] | select(.name != $n and .revoked != false) | .name' "$WORK/last.out")" ]; then
        t_fail "other lineages shown as revoked: $(jq -r --arg n "$lin" '.certificates[] | select(.name != $n and .revoked != false) | .name' "$WORK/last.out")"; return
    fi
    t_pass

    t_begin "delete --cert-name: live/NAME, archive/NAME and renewal/NAME.conf are gone, other lineages untouched"
    before=$(store_snapshot "$STORE/live" | grep -v "^\./${lin}[/ ]"; store_snapshot "$STORE/archive" | grep -v "^\./${lin}[/ ]")
    acmectl_run delete --cert-name "$lin" --config-dir "$STORE"; ok_run || return
    if [ -e "$STORE/live/$lin" ] || [ -e "$STORE/archive/$lin" ] || [ -e "$STORE/renewal/$lin.conf" ]; then
        t_fail "left behind: $(ls -d "$STORE/live/$lin" "$STORE/archive/$lin" "$STORE/renewal/$lin.conf" 2>/dev/null | tr '\n' ' ')"; return
    fi
    if [ "$before" != "$(store_snapshot "$STORE/live"; store_snapshot "$STORE/archive")" ]; then
        t_fail "other lineages changed"; return
    fi
    acmectl_run certificates --json --config-dir "$STORE"
    if jq -e --arg n "$lin" '.certificates[] | select(.name == $n)' "$WORK/last.out" >/dev/null 2>&1; then
        t_fail "certificates still lists $lin"; return
    fi
    t_pass

    t_begin "revoke without --no-delete-after-revoke: revoked at the CA and the lineage deleted (Certbot 2's default)"
    lin=rv2.example.test
    certonly_web "$STORE" -d "$lin"; ok_run || return
    serial=$(cert_serial "$STORE/live/$lin/cert.pem")
    acmectl_run revoke --cert-name "$lin" --config-dir "$STORE"; ok_run || return
    st=$(pebble_cert_status "$serial" Status)
    [ "$st" = Revoked ] || { t_fail "pebble says '$st' for $serial"; return; }
    if [ -e "$STORE/live/$lin" ] || [ -e "$STORE/archive/$lin" ] || [ -e "$STORE/renewal/$lin.conf" ]; then
        t_fail "the lineage was not deleted"; return
    fi
    t_pass
}

# ===========================================================================
# 3. expand

case_expand() {
    t_begin "expand: certonly -d ex then -d ex -d www.ex: the same lineage at version 2 with both names, no ex-0001"
    certonly_web "$STORE" -d ex.example.test; ok_run || return
    issued "$STORE" ex.example.test 1 ex.example.test || return
    certonly_web "$STORE" -d ex.example.test -d www.ex.example.test; ok_run || return
    issued "$STORE" ex.example.test 2 ex.example.test www.ex.example.test || return
    if [ -e "$STORE/live/ex.example.test-0001" ] || [ -e "$STORE/renewal/ex.example.test-0001.conf" ]; then
        t_fail "a second lineage ex.example.test-0001 was created"; return
    fi
    check_cert_names "$STORE/archive/ex.example.test/cert1.pem" ex.example.test \
        || { t_fail "version 1 in the archive changed"; return; }
    t_pass

    t_begin "expand: --duplicate with the same names makes a new lineage ex-0001"
    certonly_web "$STORE" -d ex.example.test -d www.ex.example.test --duplicate; ok_run || return
    issued "$STORE" ex.example.test-0001 1 ex.example.test www.ex.example.test || return
    [ "$(live_version "$STORE" ex.example.test)" = 2 ] || { t_fail "--duplicate changed ex.example.test"; return; }
    t_pass
}

# --reuse-key keeps the lineage's key; without it every version gets a new
# one; a renewal keeps reuse_key from the renewal conf.
case_reuse_key() {
    local k1 k2 k3
    t_begin "--reuse-key: version 2 has version 1's key; renew keeps reuse_key from the renewal conf"
    certonly_web "$STORE" -d rk.example.test; ok_run || return
    certonly_web "$STORE" -d rk.example.test --reuse-key; ok_run || return
    issued "$STORE" rk.example.test 2 rk.example.test || return
    k1=$(openssl pkey -in "$STORE/archive/rk.example.test/privkey1.pem" -pubout | sha256sum)
    k2=$(openssl pkey -in "$STORE/archive/rk.example.test/privkey2.pem" -pubout | sha256sum)
    [ "$k1" = "$k2" ] || { t_fail "--reuse-key made a new key"; return; }
    acmectl_run renew --cert-name rk.example.test --force-renewal --config-dir "$STORE"
    ok_run || return
    k3=$(openssl pkey -in "$STORE/archive/rk.example.test/privkey3.pem" -pubout | sha256sum)
    [ "$k3" = "$k1" ] || { t_fail "renew did not keep reuse_key from the renewal conf"; return; }
    grep -q '^reuse_key = True' "$STORE/renewal/rk.example.test.conf" \
        || { t_fail "renewal conf lacks reuse_key = True"; return; }
    t_pass
}

# ===========================================================================
# 4. --allow-subset-of-names

case_subset() {
    local before
    t_begin "without --allow-subset-of-names: good+bad fails, names bad, stores nothing"
    before=$(store_snapshot "$STORE")
    acmectl_run certonly -w "$WEB" -d good.example.test -w "$UNSERVED" -d bad.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    if [ "$LAST_RC" -eq 0 ]; then t_fail "succeeded although bad.example.test cannot be validated"; return; fi
    t_check "stderr is not one 'acmectl:' line" last_err_one_line || return
    grep -q 'bad\.example\.test' "$WORK/last.err" || { t_fail "stderr does not name bad.example.test: $(cat "$WORK/last.err")"; return; }
    if [ "$before" != "$(store_snapshot "$STORE")" ]; then t_fail "the store changed"; return; fi
    t_pass

    t_begin "--allow-subset-of-names: a certificate for good.example.test only; the output says bad.example.test was dropped"
    acmectl_run certonly -w "$WEB" -d good.example.test -w "$UNSERVED" -d bad.example.test \
        --allow-subset-of-names --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    ok_run || return
    issued "$STORE" good.example.test 1 good.example.test || return
    if ! grep -Ei 'drop|without' "$WORK/last.out" "$WORK/last.err" | grep -q 'bad\.example\.test'; then
        t_fail "the output does not say bad.example.test was dropped"; last_failure_diag; return
    fi
    e2e_log "$(grep -hEi 'drop|without' "$WORK/last.out" "$WORK/last.err" | head -n 2 | cut -c1-200 | tr '\n' '|')"
    t_pass
}

# ===========================================================================
# 6. duplicate guard

case_dup_guard() {
    local i before orders lin=dup.example.test
    t_begin "duplicate guard: five certificates for the same name in a week succeed"
    for i in 1 2 3 4 5; do
        certonly_web "$STORE" -d "$lin"; ok_run || return
        [ "$(live_version "$STORE" "$lin")" = "$i" ] || { t_fail "order $i: live/$lin is at version $(live_version "$STORE" "$lin")"; return; }
    done
    t_pass

    t_begin "duplicate guard: the sixth is refused (5 per week), nothing is ordered, the store is unchanged"
    before=$(store_snapshot "$STORE")
    orders=$(pebble_orders)
    certonly_web "$STORE" -d "$lin"
    if [ "$LAST_RC" -eq 0 ]; then t_fail "the sixth order went through"; return; fi
    t_check "stderr is not one 'acmectl:' line" last_err_one_line || return
    if ! grep -q '5' "$WORK/last.err" || ! grep -Eiq 'week|7 days' "$WORK/last.err"; then
        t_fail "the message does not mention the limit of 5 per week: $(cat "$WORK/last.err")"; return
    fi
    grep -q -- '--ignore-duplicate-limit' "$WORK/last.err" || e2e_log "note: the message does not name --ignore-duplicate-limit"
    if [ "$(pebble_orders)" != "$orders" ]; then t_fail "pebble received $(( $(pebble_orders) - orders )) new order(s)"; return; fi
    if [ "$before" != "$(store_snapshot "$STORE")" ]; then t_fail "the store changed"; return; fi
    e2e_log "$(head -c 300 "$WORK/last.err")"
    t_pass

    t_begin "duplicate guard: renew --force-renewal is held back too"
    orders=$(pebble_orders)
    acmectl_run renew --force-renewal --cert-name "$lin" --config-dir "$STORE"
    if [ "$LAST_RC" -eq 0 ]; then t_fail "renew went through"; return; fi
    grep -Eiq 'week|7 days' "$WORK/last.err" || { t_fail "no limit message: $(cat "$WORK/last.err")"; return; }
    [ "$(pebble_orders)" = "$orders" ] || { t_fail "pebble received a new order"; return; }
    [ "$(live_version "$STORE" "$lin")" = 5 ] || { t_fail "live/$lin changed"; return; }
    t_pass

    t_begin "duplicate guard: --ignore-duplicate-limit lets the sixth through"
    certonly_web "$STORE" -d "$lin" --ignore-duplicate-limit; ok_run || return
    issued "$STORE" "$lin" 6 "$lin" || return
    t_pass
}

# ===========================================================================
# 8. profiles

case_profile() {
    t_begin "--preferred-profile shortlived against pebble 2.4 (no profiles): one clear line, nothing ordered, store unchanged"
    local before orders
    before=$(store_snapshot "$STORE")
    orders=$(pebble_orders)
    certonly_web "$STORE" -d profile.example.test --preferred-profile shortlived
    if [ "$LAST_RC" -eq 0 ]; then t_fail "succeeded"; return; fi
    t_check "stderr is not one 'acmectl:' line" last_err_one_line || return
    grep -Eiq "no profile.*'?shortlived'?" "$WORK/last.err" \
        || { t_fail "message does not say the CA offers no profile 'shortlived': $(cat "$WORK/last.err")"; return; }
    [ "$(pebble_orders)" = "$orders" ] || { t_fail "an order was sent"; return; }
    [ "$before" = "$(store_snapshot "$STORE")" ] || { t_fail "the store changed"; return; }
    e2e_log "$(cat "$WORK/last.err")"
    t_pass
}

# ===========================================================================
# 7. key rollover

case_rollover() {
    local st=$WORK/store-roll copy=$WORK/store-roll-oldkey lin=kr.example.test
    local adir old_id new_id old_uri new_uri old_pub new_pub old_ct new_ct
    t_begin "update_account --rollover-key: a new key (new id) in the account dir, same account URL, same registration"
    certonly_web "$st" -d "$lin"; ok_run || return
    adir=$st/accounts/localhost:$PEBBLE_PORT/dir
    old_id=$(ls "$adir" 2>/dev/null)
    [ "$(echo "$old_id" | wc -w)" = 1 ] || { t_fail "want one account in $adir, have: $old_id"; return; }
    cp -a "$adir/$old_id" "$WORK/old-account"
    old_uri=$(jq -r '.uri // empty' "$adir/$old_id/regr.json")
    old_pub=$(openssl pkey -in "$adir/$old_id/private_key.pem" -pubout 2>/dev/null)
    acmectl_run update_account --rollover-key --server "$ACME_SERVER" --ca-bundle "$ACME_CA_BUNDLE" \
        --config-dir "$st"
    ok_run || return
    new_id=$(ls "$adir" 2>/dev/null)
    if [ "$(echo "$new_id" | wc -w)" != 1 ] || [ "$new_id" = "$old_id" ]; then
        t_fail "account dirs after rollover: '$new_id' (before: '$old_id')"; return
    fi
    check_mode "$adir/$new_id/private_key.pem" 600 || { t_fail "new private_key.pem mode"; return; }
    new_pub=$(openssl pkey -in "$adir/$new_id/private_key.pem" -pubout 2>/dev/null)
    if [ -z "$new_pub" ] || [ "$new_pub" = "$old_pub" ]; then t_fail "the key did not change"; return; fi
    new_uri=$(jq -r '.uri // empty' "$adir/$new_id/regr.json")
    if [ -z "$new_uri" ] || [ "$new_uri" != "$old_uri" ]; then
        t_fail "account URL '$new_uri' after rollover, was '$old_uri'"; return
    fi
    # the registration (contacts) goes with the new key
    old_ct=$(jq -c '.body.contact // empty' "$WORK/old-account/regr.json")
    new_ct=$(jq -c '.body.contact // empty' "$adir/$new_id/regr.json")
    if [ -z "$old_ct" ] || [ "$new_ct" != "$old_ct" ]; then
        t_fail "regr.json contact after rollover '$new_ct', was '$old_ct'"; return
    fi
    e2e_log "$(cat "$WORK/last.out")"
    t_pass

    t_begin "update_account -m: the contact the CA now has is stored in regr.json"
    acmectl_run update_account -m changed@example.test --server "$ACME_SERVER" \
        --ca-bundle "$ACME_CA_BUNDLE" --config-dir "$st"
    ok_run || return
    new_ct=$(jq -c '.body.contact // empty' "$adir/$new_id/regr.json")
    [ "$new_ct" = '["mailto:changed@example.test"]' ] \
        || { t_fail "regr.json contact '$new_ct' after update_account -m"; return; }
    t_pass

    t_begin "rollover: a renewal with the new key works"
    acmectl_run renew --force-renewal --cert-name "$lin" --config-dir "$st"; ok_run || return
    issued "$st" "$lin" 2 "$lin" || return
    t_pass

    t_begin "rollover: the old key (a store copy with it as the only account) is refused by pebble"
    rm -rf "$copy"
    cp -a "$st" "$copy"
    rm -rf "${copy:?}/accounts/localhost:$PEBBLE_PORT/dir/"*
    cp -a "$WORK/old-account" "$copy/accounts/localhost:$PEBBLE_PORT/dir/$old_id"
    acmectl_run renew --force-renewal --cert-name "$lin" --config-dir "$copy"
    if [ "$LAST_RC" -eq 0 ]; then t_fail "the old key still works"; return; fi
    if ! grep -Eiq 'JWS|unauthorized|malformed|signature' "$WORK/last.err"; then
        t_fail "stderr does not carry pebble's JWS/unauthorized text: $(cat "$WORK/last.err")"; return
    fi
    [ "$(live_version "$copy" "$lin")" = 2 ] || { t_fail "the copy's lineage changed"; return; }
    e2e_log "$(head -c 300 "$WORK/last.err")"
    t_pass
}

# ===========================================================================
# 5. preferred chain (pebble with two alternate roots)

case_preferred_chain() {
    local st=$WORK/store-chain r cn0 cn1 cn2 top
    for r in 0 1 2; do root_pem "$r" > "$WORK/root$r.pem"; done
    cn0=$(pem_cn < "$WORK/root0.pem"); cn1=$(pem_cn < "$WORK/root1.pem"); cn2=$(pem_cn < "$WORK/root2.pem")
    t_begin "--preferred-chain \"<CN of root 1>\": the stored chain ends at root 1 and verifies against it"
    if [ -z "$cn0" ] || [ -z "$cn1" ] || [ -z "$cn2" ] || [ "$cn0" = "$cn1" ]; then
        t_fail "pebble's roots: '$cn0' '$cn1' '$cn2' (want three different CNs)"; return
    fi
    e2e_log "pebble roots: 0='$cn0' 1='$cn1' 2='$cn2'"
    certonly_web "$st" -d chain1.example.test --preferred-chain "$cn1"; ok_run || return
    top=$(top_issuer "$st/live/chain1.example.test/chain.pem")
    [ "$top" = "$cn1" ] || { t_fail "topmost certificate of chain.pem is issued by '$top', want '$cn1'"; return; }
    if ! openssl verify -CAfile "$WORK/root1.pem" -untrusted "$st/live/chain1.example.test/chain.pem" \
            "$st/live/chain1.example.test/cert.pem" >/dev/null 2>&1; then
        t_fail "cert.pem + chain.pem do not verify against root 1"; return
    fi
    if ! openssl verify -CAfile "$WORK/root1.pem" -untrusted "$st/live/chain1.example.test/fullchain.pem" \
            "$st/live/chain1.example.test/fullchain.pem" >/dev/null 2>&1; then
        t_fail "fullchain.pem does not verify against root 1"; return
    fi
    t_pass

    t_begin "--preferred-chain with a CN no chain has: the default chain (root 0) is stored"
    certonly_web "$st" -d chain2.example.test --preferred-chain "No Such Root CA e2e"; ok_run || return
    top=$(top_issuer "$st/live/chain2.example.test/chain.pem")
    [ "$top" = "$cn0" ] || { t_fail "topmost certificate is issued by '$top', want root 0 '$cn0'"; return; }
    check_cert_verifies "$st/live/chain2.example.test/cert.pem" "$st/live/chain2.example.test/chain.pem" \
        || { t_fail "does not verify against root 0"; return; }
    t_pass

    t_begin "renew keeps the lineage's --preferred-chain (Certbot records preferred_chain in the renewal conf)"
    acmectl_run renew --force-renewal --cert-name chain1.example.test --config-dir "$st"; ok_run || return
    [ "$(live_version "$st" chain1.example.test)" = 2 ] || { t_fail "not renewed"; return; }
    top=$(top_issuer "$st/live/chain1.example.test/chain.pem")
    if [ "$top" != "$cn1" ]; then
        t_fail "after renew the chain ends at '$top', not the preferred '$cn1' (renewal/chain1.example.test.conf has preferred_chain: $(grep -c preferred_chain "$st/renewal/chain1.example.test.conf"))"
        return
    fi
    t_pass
}

# ===========================================================================
# 10. the module

MOD=$TOP/mod_acme.so
HP=$LIFECYCLE_HTTPS_PORT

# module_conf STORE EXTRA_GLOBAL VHOSTS
module_conf() {
    cat <<EOF
LoadModule acme_module "$MOD"
LogLevel info ssl:warn
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$1"
ACMEAgreeToS on
ACMEContact e2e@example.test
ACMEPortMap 80:$HTTP01_PORT
ACMECheckInterval 2s
ACMEWorkerBinary "$WORK/acmectl"
$2
$3
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName http.example.test
    DocumentRoot "$WEB"
</VirtualHost>
EOF
}

case_module_hooks() {
    local ms=$WORK/store-module log=$WORK/module-hooks.log dep=$WORK/module-deployed why=() n lin line
    t_begin "module: ACMEPreHook/ACMEDeployHook/ACMEPostHook and a Certbot script in renewal-hooks/deploy/ after the module obtains two certificates"
    mkdir -p "$ms/renewal-hooks/deploy"
    : > "$log"
    certbot_deploy_hook "$ms/renewal-hooks/deploy/50-mailserver" "$dep" "$log"
    www_dir m1 >/dev/null; www_dir m2 >/dev/null
    if ! apache_start lcmod "$HTTP01_PORT $HP" "$(module_conf "$ms" "
ACMEPreHook \"$HOOKS/log pre $log\"
ACMEDeployHook \"$HOOKS/log deploy $log\"
ACMEPostHook \"$HOOKS/log post $log\"" "
<VirtualHost 127.0.0.1:$HP>
    ServerName m1.example.test
    ServerAlias www.m1.example.test
    DocumentRoot \"$WORK/www/m1\"
    SSLEngine on
    ACMEDomain m1.example.test www.m1.example.test
</VirtualHost>
<VirtualHost 127.0.0.1:$HP>
    ServerName m2.example.test
    DocumentRoot \"$WORK/www/m2\"
    SSLEngine on
    ACMEDomain m2.example.test
</VirtualHost>")"; then
        t_fail "Apache with the module did not start"; return
    fi
    if ! wait_until 60 grep -q '^post ' "$log"; then
        t_fail "no post hook within 60 s"; e2e_show_file "$log"
        grep 'acme' "$(apache_dir lcmod)/logs/error.log" | tail -n 10 | sed 's/^/#   /'; return
    fi
    sleep 5     # the supervisor after the graceful restart must not run hooks again
    issued "$ms" m1.example.test 1 m1.example.test www.m1.example.test || return
    issued "$ms" m2.example.test 1 m2.example.test || return
    n=$(count_lines "$log" '^pre '); [ "$n" = 1 ] || why+=("pre hook ran $n times")
    n=$(count_lines "$log" '^post '); [ "$n" = 1 ] || why+=("post hook ran $n times")
    [ "$(head -n 1 "$log" | cut -d' ' -f1)" = pre ] || why+=("pre is not the first hook")
    [ "$(tail -n 1 "$log" | cut -d' ' -f1)" = post ] || why+=("post is not the last hook")
    grep -q '^post .* failed=$' "$log" || why+=("post hook's FAILED_DOMAINS not set and empty")
    for lin in m1.example.test m2.example.test; do
        for n in deploy dir; do
            line=$(grep "^$n lineage=$ms/live/$lin domains=" "$log")
            [ "$(printf '%s\n' "$line" | grep -c .)" = 1 ] || { why+=("$n hook for $lin ran $(printf '%s\n' "$line" | grep -c .) times"); continue; }
            line=$(echo "$line" | sed -e 's/.* domains=//' -e 's/ failed=.*//')
            [ "$(words_sorted "$line")" = "$(words_sorted "$([ $lin = m1.example.test ] && echo m1.example.test www.m1.example.test || echo m2.example.test)")" ] \
                || why+=("$n hook for $lin: RENEWED_DOMAINS '$line'")
        done
        cmp -s "$dep/$lin/fullchain.pem" "$ms/archive/$lin/fullchain1.pem" \
            || why+=("the Certbot script did not copy $lin's fullchain")
    done
    if [ "${#why[@]}" -gt 0 ]; then
        t_fail "$(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"; e2e_show_file "$log"; return
    fi
    t_pass
}

# state_get FILE KEY
state_get() { jq -r --arg k "$2" '.[$k] | if . == null then "null" else tostring end' "$1" 2>/dev/null; }
# state_is FILE KEY VALUE (re-read on every call, for wait_until)
state_is() { [ "$(state_get "$1" "$2")" = "$3" ]; }

# state_next_try_now FILE: sets next_try to now, keeps every other field
state_next_try_now() {
    python3 - "$1" <<'PY'
import json, os, sys, time
p = sys.argv[1]
with open(p) as f:
    d = json.load(f)
d["next_try"] = int(time.time())
st = os.stat(p)
with open(p + ".e2e", "w") as f:
    json.dump(d, f, indent=2)
os.chmod(p + ".e2e", st.st_mode & 0o7777)
os.chown(p + ".e2e", st.st_uid, st.st_gid)
os.rename(p + ".e2e", p)
PY
}

case_module_backoff() {
    local ms=$WORK/store-backoff lin=bo.example.test sf pid k t_set el
    sf=$ms/state/$lin.json
    el=$(apache_dir lcbo)/logs/error.log
    t_begin "module backoff (CA down, ACMECheckInterval 2s): failures=1, next_try = attempt + 60..66 s, no retry before it"
    pebble_stop
    t_set=$(date +%s)
    if ! apache_start lcbo "$HTTP01_PORT $HP" "$(module_conf "$ms" "" "
<VirtualHost 127.0.0.1:$HP>
    ServerName $lin
    DocumentRoot \"$WORK/www/m1\"
    SSLEngine on
    ACMEDomain
</VirtualHost>")"; then
        t_fail "Apache with the module did not start"; return
    fi
    wait_until 10 apache_pid lcbo >/dev/null
    pid=$(apache_pid lcbo)
    # backoff_step K LO HI: waits until failures=K, checks next_try - last_attempt
    backoff_step() {
        local k=$1 lo=$2 hi=$3 last next now
        if ! wait_until 20 state_is "$sf" failures "$k"; then
            t_fail "failures did not reach $k within 20 s (state: $(jq -c . "$sf" 2>/dev/null))"
            grep acme "$el" | tail -n 5 | sed 's/^/#   /'; return 1
        fi
        sleep 0.3
        last=$(state_get "$sf" last_attempt); next=$(state_get "$sf" next_try); now=$(date +%s)
        if [ "$(state_get "$sf" status)" != error ] || [ "$(state_get "$sf" last_error)" = null ]; then
            t_fail "status '$(state_get "$sf" status)', last_error '$(state_get "$sf" last_error)'"; return 1
        fi
        if ! [ "$last" -ge "$((t_set - 1))" ] 2>/dev/null || ! [ "$last" -le "$now" ]; then
            t_fail "last_attempt $last is not between the test's step ($t_set) and now ($now)"; return 1
        fi
        if ! [ $((next - last)) -ge "$lo" ] || ! [ $((next - last)) -le "$hi" ]; then
            t_fail "failures=$k: next_try is attempt + $((next - last)) s, want $lo..$hi"; return 1
        fi
        e2e_log "failures=$k: next_try = attempt + $((next - last)) s (want $lo..$hi); attempts=$(state_get "$sf" attempts)"
    }
    backoff_step 1 60 66 || return
    # the supervisor checks every 2 s: it must not try again before next_try
    sleep 5
    [ "$(state_get "$sf" failures)" = 1 ] || { t_fail "retried before next_try: failures=$(state_get "$sf" failures)"; return; }
    t_pass

    local step
    for step in "2 600 660" "3 6000 6600" "4 86400 95040"; do
        set -- $step
        t_begin "module backoff: next_try set to now in state/$lin.json -> failures=$1, next_try = attempt + $2..$3 s"
        t_set=$(date +%s)
        state_next_try_now "$sf" || { t_fail "cannot rewrite $sf"; return; }
        backoff_step "$1" "$2" "$3" || return
        t_pass
    done

    t_begin "module backoff: no graceful restart happened, the httpd parent is the same"
    if [ "$(apache_pid lcbo)" != "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
        t_fail "the httpd parent changed ($pid -> $(apache_pid lcbo))"; return
    fi
    k=$(count_lines "$el" 'AH00493|graceful restart|SIGUSR1|SIGHUP')
    [ "$k" = 0 ] || { t_fail "$k restart line(s) in the error log"; grep -E 'AH00493|graceful' "$el" | head -n 3 | sed 's/^/#   /'; return; }
    [ ! -e "$ms/live/$lin" ] || { t_fail "a certificate appeared with the CA down"; return; }
    t_pass
}

# ===========================================================================

case_ip

web_ok=0
if apache_start lcweb "$HTTP01_PORT" "
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName web.example.test
    DocumentRoot \"$WEB\"
</VirtualHost>"; then
    web_ok=1
else
    t_begin "harness: Apache serving the webroot on 127.0.0.1:$HTTP01_PORT"
    t_fail "Apache did not start"
fi

if [ "$web_ok" = 1 ]; then
    if case_renew_setup; then
        case_renew_force
        case_renew_certbot_dir_hook
        case_renew_not_due
        case_renew_one_fails
        case_renew_deploy_fails
    fi
    case_certonly_hooks
    case_revoke
    case_expand
    case_reuse_key
    case_subset
    case_dup_guard
    case_profile
    case_rollover
    pebble_start PEBBLE_ALTERNATE_ROOTS=2 PEBBLE_CHAIN_LENGTH=3
    case_preferred_chain
    apache_stop lcweb
fi

if [ "$(id -u)" -ne 0 ] || ! id "$APACHE_USER" >/dev/null 2>&1; then
    t_begin "module: hooks and backoff"
    t_skip "needs root and the user $APACHE_USER"
elif [ ! -f "$MOD" ]; then
    t_begin "module: hooks and backoff"
    t_fail "$MOD does not exist (run ./configure && make)"
else
    cp "$ACMECTL" "$WORK/acmectl" && chmod 755 "$WORK/acmectl"
    pebble_start
    case_module_hooks
    apache_stop lcmod
    case_module_backoff
    apache_stop lcbo
fi

t_summary
