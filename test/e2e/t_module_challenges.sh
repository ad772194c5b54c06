#!/usr/bin/env bash
# test/e2e/t_module_challenges.sh -- mod_acme answers every challenge type
# (issue "Every challenge type"), through Apache itself:
#
#   1. tls-alpn-01 only: Apache with no http listener at all, one SSL vhost
#      on TLSALPN_PORT (where pebble validates tls-alpn-01) with
#      "Protocols http/1.1 acme-tls/1": the vhost gets a pebble certificate.
#   2. The tls-alpn-01 challenge certificate (an answer file written by
#      build/tools/tls_answer through the engine) is presented only on
#      acme-tls/1 connections and only while the answer file exists; its
#      acmeIdentifier extension is critical and holds SHA-256(keyauthz).
#   3. configtest: tls-alpn-01 as the only type without acme-tls/1 in
#      Protocols fails with file:line and the reason; with another type
#      allowed it only warns.
#   4. tls-sni-01 against an independent validator (tls_sni01_validator.py,
#      written from ACME draft-01 section 7.3). Pebble never implemented
#      tls-sni-01 (Let's Encrypt turned it off in March 2019 and RFC 8555
#      does not have it), so no CA can drive this: the answer file is written
#      by build/tools/tls_answer through the engine, the validator plays the
#      CA against the running Apache.
#   5. dns-01 with a real DNS server: bind9 (bind_start) authoritative for
#      example.test, pebble resolving through it, ACMEDNSHook =
#      contrib/acme-dns-rfc2136: a certificate for example.test and
#      *.example.test, served for both, no TXT record left behind.
#   6. dns-01 failures on renewal of that lineage (a hook that fails, one
#      that hangs past ACMEHookTimeout, a record that never appears within
#      ACMEDNSPropagationTimeout): the error is recorded in state/NAME.json,
#      and the previous certificate stays served and live.
#   7. Fallback: "ACMEChallenges tls-alpn-01 http-01" on a vhost whose
#      Protocols lack acme-tls/1: the certificate is obtained with http-01.
#
# pebble resolves every name through the bind9 of case 5 (its zone has
# "* A 127.0.0.1"), so one pebble serves all cases.
#
# Run alone:  bash test/e2e/run.sh t_module_challenges.sh
#             (after ./configure && make && make tools)
# Ports: lib.sh's (TLSALPN_PORT, HTTP01_PORT, PEBBLE_*, BIND_PORT) and
# CH_HTTPS_PORT (default 8445) for the dns-01 vhost.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

MOD=$TOP/mod_acme.so
TLS_ANSWER=${TLS_ANSWER:-$TOP/build/tools/tls_answer}
VALIDATOR=$E2E_LIB_DIR/tls_sni01_validator.py
HOOK_RFC=$TOP/contrib/acme-dns-rfc2136
CH_HTTPS_PORT=${CH_HTTPS_PORT:-8445}
HOOKS=$WORK/hooks
SERVED=$WORK/served
mkdir -p "$HOOKS" "$SERVED"

# ---------------------------------------------------------------------------
# Prerequisites

t_begin "prerequisites: mod_acme.so, acmectl, build/tools/tls_answer, named, dig, nsupdate, jq, python3"
missing=""
for c in named dig nsupdate tsig-keygen jq python3 openssl curl; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -f "$MOD" ] || missing="$missing $MOD(./configure && make)"
[ -x "$TOP/acmectl" ] || missing="$missing $TOP/acmectl(make)"
[ -x "$HOOK_RFC" ] || missing="$missing $HOOK_RFC"
HAVE_TOOL=1
if [ ! -x "$TLS_ANSWER" ]; then
    HAVE_TOOL=0
    missing="$missing $TLS_ANSWER(make tools)"
fi
if [ -n "$missing" ]; then
    t_fail "missing:$missing"
    # without the module or the servers nothing below can run
    case "$missing" in
        *mod_acme.so*|*acmectl*|*named*|*jq*|*openssl*) t_summary; exit 1 ;;
    esac
else
    t_pass
fi

# The worker binary must be executable by www-data (the repository may be
# under /root): a copy in $WORK.
cp "$TOP/acmectl" "$WORK/acmectl" && chmod 755 "$WORK/acmectl" \
    || e2e_die "cannot copy acmectl into $WORK"

bind_start
pebble_start PEBBLE_DNS="127.0.0.1:$BIND_PORT"

# Credentials for contrib/acme-dns-rfc2136 (Certbot's dns-rfc2136 format,
# as t_dns_hooks.sh makes them). The hook runs as root in the supervisor,
# which inherits Apache's environment: exported here, before apache_start.
CREDS=$WORK/creds
mkdir -p "$CREDS" && chmod 700 "$CREDS"
(
    umask 077
    printf '%s\n' "dns_rfc2136_server = 127.0.0.1" "dns_rfc2136_port = $BIND_PORT" \
        "dns_rfc2136_name = $BIND_TSIG_NAME" "dns_rfc2136_secret = $BIND_TSIG_SECRET" \
        "dns_rfc2136_algorithm = $BIND_TSIG_ALGORITHM" > "$CREDS/rfc2136.ini"
)
export ACME_DNS_RFC2136_CREDENTIALS=$CREDS/rfc2136.ini

# ---------------------------------------------------------------------------
# Helpers

elog() { printf '%s/logs/error.log\n' "$(apache_dir "$1")"; }
show_acme_log() {
    grep -E 'acme|AH00|Segmentation' "$(elog "$1")" 2>/dev/null | tail -n "${2:-12}" | sed 's/^/#   /'
}
# json_get FILE KEY: a top-level value (null when absent).
json_get() { jq -r --arg k "$2" '.[$k] | if . == null then "null" else tostring end' "$1" 2>/dev/null; }

# module_base STORE: the global directives every instance uses.
module_base() {
    cat <<EOF
LoadModule acme_module "$MOD"
LogLevel info ssl:warn
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$1"
ACMEAgreeToS on
ACMEContact e2e@example.test
ACMEPortMap 80:$HTTP01_PORT 443:$TLSALPN_PORT
ACMECheckInterval 5s
ACMEWorkerBinary "$WORK/acmectl"
EOF
}

# tls_get PORT SNI PREFIX [ALPN]: one handshake with s_client (ALPN offered
# when given); writes PREFIX.leaf.pem, PREFIX.chain.pem and PREFIX.alpn (the
# negotiated protocol, empty if none). Non-zero if no certificate came.
tls_get() {
    local port=$1 sni=$2 prefix=$3 alpn=${4:-} out
    local args=(-connect "127.0.0.1:$port" -servername "$sni" -showcerts)
    [ -n "$alpn" ] && args+=(-alpn "$alpn")
    out=$(timeout 10 openssl s_client "${args[@]}" </dev/null 2>/dev/null)
    printf '%s\n' "$out" | awk -v leaf="$prefix.leaf.pem" -v chain="$prefix.chain.pem" '
        BEGIN { printf "" > leaf; printf "" > chain }
        /-----BEGIN CERTIFICATE-----/ { n++; on = 1 }
        on { print > (n == 1 ? leaf : chain) }
        /-----END CERTIFICATE-----/ { on = 0 }'
    printf '%s\n' "$out" | sed -n 's/^ALPN protocol: //p' | head -n 1 > "$prefix.alpn"
    [ -s "$prefix.leaf.pem" ]
}

# pebble_cert_served PORT SNI PREFIX: the certificate served for SNI
# verifies up to pebble's current root with the chain the server sent.
pebble_cert_served() {
    tls_get "$1" "$2" "$3" || return 1
    [ -s "$3.chain.pem" ] || return 1
    openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$3.chain.pem" "$3.leaf.pem" >/dev/null 2>&1
}

fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }

# acme_ident CERT: "critical HEX" or "noncritical HEX" for the certificate's
# id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31) extension, HEX the lowercase
# content of the extension's OCTET STRING (DER: 04 20 <32 bytes>); empty if
# the extension is absent.
acme_ident() {
    openssl x509 -in "$1" -outform DER 2>/dev/null \
        | openssl asn1parse -inform DER 2>/dev/null \
        | awk '
            /OBJECT *:1\.3\.6\.1\.5\.5\.7\.1\.31$/ { found = 1; crit = "noncritical"; next }
            found && /BOOLEAN/ { if ($0 ~ /:255$/ || $0 ~ /:TRUE$/) crit = "critical"; next }
            found && /OCTET STRING/ { sub(/.*HEX DUMP\]:/, ""); print crit, tolower($0); exit }
            found { exit }'
}

sha256_hex() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# A key authorization as ACME makes them: token "." thumbprint (base64url).
b64url_rand() { openssl rand "$1" | openssl base64 -A | tr '+/' '-_' | tr -d '='; }
new_keyauthz() { printf '%s.%s\n' "$(b64url_rand 32)" "$(b64url_rand 32)"; }

# challenge_files STORE: the files in STORE/challenges (one per line).
challenge_files() { find "$1/challenges" -mindepth 1 2>/dev/null | sed "s|^$1/challenges/||"; }

# ===========================================================================
# 3. configtest (no server needed; first, as it is quick)

# configtest_with NAME EXTRA: writes a config like apache_start would (with
# lib.sh's apache_write_conf) and runs apache2 -t; output in $CT_OUT, exit
# status in $CT_RC, the config file in $CT_CONF.
configtest_with() {
    local d
    d=$(apache_dir "$1")
    apache_write_conf "$1" "$CH_HTTPS_PORT" "$2"
    CT_CONF=$d/httpd.conf
    CT_OUT=$d/logs/configtest.log
    "$APACHE_BIN" -t -f "$CT_CONF" >"$CT_OUT" 2>&1
    CT_RC=$?
}

# line_of FILE REGEX: the line number of the first line matching REGEX.
line_of() { grep -n -m1 -E -- "$2" "$1" | cut -d: -f1; }

case_configtest() {
    t_begin "configtest: tls-alpn-01 alone without 'Protocols ... acme-tls/1' fails with file:line; with http-01 also allowed it only warns"
    local store=$WORK/store-ct l1 l2 msg
    vhost() {
        cat <<EOF
$(module_base "$store")
<VirtualHost 127.0.0.1:$CH_HTTPS_PORT>
    ServerName ct.example.test
    SSLEngine on
    Protocols http/1.1
    ACMEChallenges $1
    ACMEDomain ct.example.test
</VirtualHost>
EOF
    }
    # fatal: tls-alpn-01 is the only type and cannot be answered
    configtest_with ct1 "$(vhost tls-alpn-01)"
    if [ "$CT_RC" -eq 0 ]; then
        e2e_show_file "$CT_OUT"
        t_fail "configtest passed (want a failure: tls-alpn-01 is the only type and acme-tls/1 is not in Protocols)"; return
    fi
    l1=$(line_of "$CT_CONF" '^ *ACMEDomain ct\.example\.test')
    l2=$(line_of "$CT_CONF" '^ *ACMEChallenges ')
    msg=$(grep -E -- "$CT_CONF:($l1|$l2):" "$CT_OUT" | head -n 1)
    if [ -z "$msg" ]; then
        e2e_show_file "$CT_OUT"
        t_fail "configtest failed but names neither $CT_CONF:$l1 (ACMEDomain) nor :$l2 (ACMEChallenges)"; return
    fi
    if ! printf '%s\n' "$msg" | grep -q 'acme-tls/1' || ! printf '%s\n' "$msg" | grep -q 'Protocols'; then
        t_fail "the error does not mention Protocols and acme-tls/1: $msg"; return
    fi
    e2e_log "error: ${msg#*httpd.conf}"
    # only a warning: another type can be used
    configtest_with ct2 "$(vhost 'tls-alpn-01 http-01')"
    if [ "$CT_RC" -ne 0 ]; then
        e2e_show_file "$CT_OUT"
        t_fail "configtest failed with 'ACMEChallenges tls-alpn-01 http-01' (want only a warning)"; return
    fi
    if ! grep -q 'Syntax OK' "$CT_OUT"; then
        e2e_show_file "$CT_OUT"; t_fail "configtest did not say 'Syntax OK'"; return
    fi
    l1=$(line_of "$CT_CONF" '^ *ACMEDomain ct\.example\.test')
    l2=$(line_of "$CT_CONF" '^ *ACMEChallenges ')
    msg=$(grep -E -- "$CT_CONF:($l1|$l2):.*acme-tls/1" "$CT_OUT" | head -n 1)
    if [ -z "$msg" ]; then
        e2e_show_file "$CT_OUT"
        t_fail "no warning naming $CT_CONF:$l1 and acme-tls/1 with 'ACMEChallenges tls-alpn-01 http-01'"; return
    fi
    e2e_log "warning: ${msg#*httpd.conf}"
    t_pass
}
case_configtest

# ===========================================================================
# 1. tls-alpn-01 only, no http listener

STORE_A=$WORK/store-alpn
ALPN_NAME=alpn.example.test
alpn_config() {
    cat <<EOF
$(module_base "$STORE_A")
<VirtualHost 127.0.0.1:$TLSALPN_PORT>
    ServerName $ALPN_NAME
    SSLEngine on
    Protocols http/1.1 acme-tls/1
    ACMEChallenges tls-alpn-01
    ACMEDomain $ALPN_NAME
</VirtualHost>
EOF
}

ALPN_UP=0
case_alpn_only() {
    t_begin "tls-alpn-01 only (no http listener at all): the vhost serves a pebble certificate for exactly $ALPN_NAME"
    if port_open "$HTTP01_PORT"; then
        t_fail "something listens on $HTTP01_PORT already; the case needs it closed"; return
    fi
    if ! apache_start alpn "$TLSALPN_PORT" "$(alpn_config)"; then
        t_fail "Apache did not start; see $(elog alpn)"; return
    fi
    ALPN_UP=1
    local p=$SERVED/alpn st ch left
    if ! wait_until 60 pebble_cert_served "$TLSALPN_PORT" "$ALPN_NAME" "$p"; then
        show_acme_log alpn
        t_fail "no pebble certificate served for $ALPN_NAME within 60 s (state: $(json_get "$STORE_A/state/$ALPN_NAME.json" last_error))"; return
    fi
    t_check "the served certificate verifies with the served chain" \
        check_cert_verifies "$p.leaf.pem" "$p.chain.pem" || return
    t_check "SANs are exactly $ALPN_NAME" check_cert_names "$p.leaf.pem" "$ALPN_NAME" || return
    if port_open "$HTTP01_PORT"; then
        t_fail "something listened on $HTTP01_PORT meanwhile: http-01 might have been used"; return
    fi
    st=$STORE_A/state/$ALPN_NAME.json
    ch=$(json_get "$st" challenge)
    if [ "$ch" != tls-alpn-01 ]; then
        t_fail "state/$ALPN_NAME.json challenge is '$ch', want tls-alpn-01"; return
    fi
    # the worker removed its answer after validation
    left=$(challenge_files "$STORE_A")
    if [ -n "$left" ]; then
        t_fail "STORE/challenges has leftover answers after issuance: $(echo $left)"; return
    fi
    e2e_log "served: serial $(cert_serial "$p.leaf.pem"), issuer $(openssl x509 -in "$p.leaf.pem" -noout -issuer | sed 's/^issuer=//'); state challenge=$ch"
    t_pass
}
case_alpn_only

# ===========================================================================
# 2. the challenge certificate: only on acme-tls/1, only while pending

case_alpn_answer() {
    t_begin "tls-alpn-01 answer: challenge certificate only with ALPN acme-tls/1 and only while the answer file exists"
    if [ "$ALPN_UP" != 1 ] || [ ! -s "$SERVED/alpn.leaf.pem" ]; then
        t_fail "needs the Apache and certificate of the tls-alpn-01 case"; return
    fi
    if [ "$HAVE_TOOL" != 1 ]; then t_fail "no $TLS_ANSWER (make tools)"; return; fi
    local ka want p=$SERVED/alpn-ch file normal id names
    normal=$(fingerprint "$SERVED/alpn.leaf.pem")
    ka=$(new_keyauthz)
    want=$(sha256_hex "$ka")
    if ! file=$("$TLS_ANSWER" alpn "$STORE_A/challenges" "$ALPN_NAME" "$ka" 2>"$WORK/tool.err"); then
        t_fail "tls_answer failed: $(cat "$WORK/tool.err")"; return
    fi
    if [ "$file" != "$STORE_A/challenges/$ALPN_NAME.tls-alpn-01.pem" ]; then
        t_fail "tls_answer wrote '$file', want STORE/challenges/$ALPN_NAME.tls-alpn-01.pem"; return
    fi
    # with acme-tls/1: the challenge certificate
    if ! tls_get "$TLSALPN_PORT" "$ALPN_NAME" "$p" acme-tls/1; then
        t_fail "no certificate at all on an acme-tls/1 handshake"; return
    fi
    if [ "$(cat "$p.alpn")" != acme-tls/1 ]; then
        t_fail "ALPN negotiated '$(cat "$p.alpn")', want acme-tls/1"; return
    fi
    id=$(acme_ident "$p.leaf.pem")
    if [ -z "$id" ]; then
        t_fail "acme-tls/1 handshake got a certificate without the acmeIdentifier extension (subject $(openssl x509 -in "$p.leaf.pem" -noout -subject))"; return
    fi
    if [ "${id%% *}" != critical ]; then
        t_fail "the acmeIdentifier extension is not critical"; return
    fi
    if [ "${id#* }" != "0420$want" ]; then
        t_fail "acmeIdentifier holds ${id#* }, want 0420 + SHA-256(keyauthz) = 0420$want"; return
    fi
    names=$(cert_names "$p.leaf.pem")
    if [ "$names" != "$ALPN_NAME" ]; then
        t_fail "the challenge certificate's SANs are [$(echo $names)], want $ALPN_NAME"; return
    fi
    # without ALPN, and with ALPN http/1.1: the normal certificate
    if ! tls_get "$TLSALPN_PORT" "$ALPN_NAME" "$p-plain"; then
        t_fail "no certificate on a handshake without ALPN"; return
    fi
    if [ "$(fingerprint "$p-plain.leaf.pem")" != "$normal" ] || [ -n "$(acme_ident "$p-plain.leaf.pem")" ]; then
        t_fail "without ALPN acme-tls/1 the server did not present its normal certificate while an answer is pending"; return
    fi
    if ! tls_get "$TLSALPN_PORT" "$ALPN_NAME" "$p-h1" http/1.1 \
       || [ "$(fingerprint "$p-h1.leaf.pem")" != "$normal" ]; then
        t_fail "with ALPN http/1.1 the server did not present its normal certificate while an answer is pending"; return
    fi
    # no longer pending: no challenge certificate
    rm -f "$file"
    if tls_get "$TLSALPN_PORT" "$ALPN_NAME" "$p-gone" acme-tls/1 \
       && [ -n "$(acme_ident "$p-gone.leaf.pem")" ]; then
        t_fail "the challenge certificate is still presented after its answer file was removed"; return
    fi
    e2e_log "acme-tls/1: challenge cert (acmeIdentifier critical, = SHA-256(keyauthz)); plain and http/1.1: the pebble cert; after removal: $( [ -s "$p-gone.leaf.pem" ] && echo "the pebble cert (ALPN '$(cat "$p-gone.alpn")')" || echo "no certificate (handshake refused)")"
    t_pass
}
case_alpn_answer

# ===========================================================================
# 4. tls-sni-01 (see the header: no CA implements it, the validator plays it)

# sni_answer KEYAUTHZ: writes the tls-sni-01 answer for KEYAUTHZ with the
# engine (build/tools/tls_answer) into Apache's challenge directory; checks
# the engine's name against the draft's, computed here. Sets SNI_FILE and
# SNI_NAME; non-zero (with SNI_ERR) on failure.
sni_answer() {
    local out z engine_name
    if ! out=$("$TLS_ANSWER" sni "$STORE_A/challenges" "$1" 2>&1); then
        SNI_ERR="tls_answer sni failed: $out"; return 1
    fi
    SNI_FILE=$(printf '%s\n' "$out" | sed -n 1p)
    engine_name=$(printf '%s\n' "$out" | sed -n 2p)
    z=$(sha256_hex "$1")
    SNI_NAME="${z:0:32}.${z:32:32}.acme.invalid"
    if [ "$engine_name" != "$SNI_NAME" ] || [ "$SNI_FILE" != "$STORE_A/challenges/$SNI_NAME.tls-sni-01.pem" ]; then
        SNI_ERR="the engine's answer is for '$engine_name' in '$SNI_FILE', the draft says $SNI_NAME"
        return 1
    fi
}

# not_a_challenge_cert PEM NAME...: PEM (if any certificate came) is the
# vhost's normal certificate, not one for any of NAME...
not_a_challenge_cert() {
    local pem=$1 n; shift
    [ -s "$pem" ] || return 0
    for n in "$@"; do
        if cert_names "$pem" | grep -qxF "$n"; then
            e2e_log "$(basename "$pem"): a certificate for $n"; return 1
        fi
    done
    if [ "$(fingerprint "$pem")" != "$(fingerprint "$SERVED/alpn.leaf.pem")" ]; then
        e2e_log "$(basename "$pem"): not the vhost's certificate: [$(cert_names "$pem" | tr '\n' ' ')]"
        return 1
    fi
}

case_tls_sni() {
    t_begin "tls-sni-01: an independent draft-01 validator passes against Apache (SNI Z[0:32].Z[32:64].acme.invalid, no ALPN)"
    if [ "$ALPN_UP" != 1 ] || [ ! -s "$SERVED/alpn.leaf.pem" ]; then
        t_fail "needs the Apache of the tls-alpn-01 case"; return
    fi
    if [ "$HAVE_TOOL" != 1 ]; then t_fail "no $TLS_ANSWER (make tools)"; return; fi
    local ka res
    ka=$(new_keyauthz)
    sni_answer "$ka" || { t_fail "$SNI_ERR"; return; }
    res=$(python3 "$VALIDATOR" 127.0.0.1 "$TLSALPN_PORT" "$ka" --save-cert "$SERVED/sni-ok.pem" 2>&1)
    if [ $? -ne 0 ]; then
        show_acme_log alpn 3
        # diagnosis: is the answer reachable at all (e.g. only when the
        # handshake also offers ALPN acme-tls/1, which no tls-sni-01
        # validator does)?
        local diag="not even with ALPN acme-tls/1"
        if tls_get "$TLSALPN_PORT" "$SNI_NAME" "$SERVED/sni-alpn" acme-tls/1 \
           && cert_names "$SERVED/sni-alpn.leaf.pem" | grep -qxF "$SNI_NAME"; then
            diag="it is presented only when the client also offers ALPN acme-tls/1"
        fi
        rm -f "$SNI_FILE"
        t_fail "validator: $res (the answer file exists; $diag)"; return
    fi
    e2e_log "validator: $res"
    # no longer pending: the validation fails
    rm -f "$SNI_FILE"
    res=$(python3 "$VALIDATOR" 127.0.0.1 "$TLSALPN_PORT" "$ka" 2>&1)
    if [ $? -eq 0 ]; then
        t_fail "validator still passes after the answer file was removed: $res"; return
    fi
    t_pass
}
case_tls_sni

case_tls_sni_other() {
    t_begin "tls-sni-01: an unrelated ....acme.invalid name (another key authorization) gets no challenge certificate, with or without ALPN acme-tls/1"
    if [ "$ALPN_UP" != 1 ] || [ ! -s "$SERVED/alpn.leaf.pem" ]; then
        t_fail "needs the Apache of the tls-alpn-01 case"; return
    fi
    if [ "$HAVE_TOOL" != 1 ]; then t_fail "no $TLS_ANSWER (make tools)"; return; fi
    local ka ka2 z2 other res
    ka=$(new_keyauthz); ka2=$(new_keyauthz)
    sni_answer "$ka" || { t_fail "$SNI_ERR"; return; }    # pending: ka only
    z2=$(sha256_hex "$ka2"); other="${z2:0:32}.${z2:32:32}.acme.invalid"
    res=$(python3 "$VALIDATOR" 127.0.0.1 "$TLSALPN_PORT" "$ka2" --save-cert "$SERVED/sni-other.pem" 2>&1)
    if [ $? -eq 0 ]; then
        rm -f "$SNI_FILE"; t_fail "validator passed for a key authorization nobody answered: $res"; return
    fi
    if ! not_a_challenge_cert "$SERVED/sni-other.pem" "$other" "$SNI_NAME"; then
        rm -f "$SNI_FILE"; t_fail "an unrelated name got a challenge certificate (no ALPN)"; return
    fi
    # the same over acme-tls/1, where mod_ssl does ask the module
    tls_get "$TLSALPN_PORT" "$other" "$SERVED/sni-other-alpn" acme-tls/1
    if ! not_a_challenge_cert "$SERVED/sni-other-alpn.leaf.pem" "$other" "$SNI_NAME"; then
        rm -f "$SNI_FILE"; t_fail "an unrelated name got a challenge certificate (ALPN acme-tls/1)"; return
    fi
    rm -f "$SNI_FILE"
    e2e_log "unrelated name: $res; with acme-tls/1: $( [ -s "$SERVED/sni-other-alpn.leaf.pem" ] && echo "the vhost's certificate" || echo "no certificate")"
    t_pass
}
case_tls_sni_other

apache_stop alpn

# ===========================================================================
# 7. fallback: tls-alpn-01 preferred but not answerable, http-01 used

STORE_F=$WORK/store-fallback
FB_NAME=fallback.example.test
case_fallback() {
    t_begin "ACMEChallenges tls-alpn-01 http-01 without acme-tls/1 in Protocols: obtained with http-01"
    local conf p=$SERVED/fallback ch st
    conf=$(cat <<EOF
$(module_base "$STORE_F")
<VirtualHost 127.0.0.1:$TLSALPN_PORT>
    ServerName $FB_NAME
    SSLEngine on
    Protocols http/1.1
    ACMEChallenges tls-alpn-01 http-01
    ACMEDomain $FB_NAME
</VirtualHost>
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $FB_NAME
    <Location />
        Require all denied
    </Location>
</VirtualHost>
EOF
)
    if ! apache_start fallback "$HTTP01_PORT $TLSALPN_PORT" "$conf"; then
        t_fail "Apache did not start (configtest should only warn); see $(elog fallback)"; return
    fi
    if ! grep -q 'acme-tls/1' "$(apache_dir fallback)/logs/configtest.log" "$(elog fallback)" 2>/dev/null; then
        t_fail "no warning about acme-tls/1 at configtest or startup"; apache_stop fallback; return
    fi
    if ! wait_until 60 pebble_cert_served "$TLSALPN_PORT" "$FB_NAME" "$p"; then
        show_acme_log fallback
        t_fail "no pebble certificate for $FB_NAME within 60 s (last_error: $(json_get "$STORE_F/state/$FB_NAME.json" last_error))"
        apache_stop fallback; return
    fi
    t_check "SANs are exactly $FB_NAME" check_cert_names "$p.leaf.pem" "$FB_NAME" || { apache_stop fallback; return; }
    st=$STORE_F/state/$FB_NAME.json
    ch=$(json_get "$st" challenge)
    if [ "$ch" != http-01 ]; then
        t_fail "state/$FB_NAME.json challenge is '$ch', want http-01"; apache_stop fallback; return
    fi
    e2e_log "state challenge=$ch; tls-alpn-01: $(grep -E 'tls-alpn-01' "$(elog fallback)" | grep -v 'Protocols' | tail -n 1 | sed 's/^.*mod_acme: //' | head -c 200)"
    apache_stop fallback
    t_pass
}
case_fallback

# ===========================================================================
# 5. dns-01 through bind9 and contrib/acme-dns-rfc2136

STORE_D=$WORK/store-dns
DNS_LINEAGE=example.test
# dns_config HOOK [VHOST_EXTRA [GLOBAL_EXTRA]]
dns_config() {
    cat <<EOF
$(module_base "$STORE_D")
${3:-}
<VirtualHost 127.0.0.1:$CH_HTTPS_PORT>
    ServerName example.test
    ServerAlias *.example.test
    SSLEngine on
    ACMEChallenges dns-01
    ACMEDNSHook "$1"
    ACMEDNSResolver 127.0.0.1:$BIND_PORT
    ACMEDomain example.test *.example.test
${2:-}
</VirtualHost>
EOF
}

DNS_OK=0
case_dns01() {
    t_begin "dns-01 with bind9 and contrib/acme-dns-rfc2136: example.test and *.example.test obtained, served for both, no TXT left"
    local p=$SERVED/dns sni txt
    if ! apache_start dns "$CH_HTTPS_PORT" "$(dns_config "$HOOK_RFC")"; then
        t_fail "Apache did not start; see $(elog dns)"; return
    fi
    if ! wait_until 90 pebble_cert_served "$CH_HTTPS_PORT" example.test "$p-base"; then
        show_acme_log dns
        t_fail "no pebble certificate for example.test within 90 s (last_error: $(json_get "$STORE_D/state/$DNS_LINEAGE.json" last_error))"; return
    fi
    for sni in example.test foo.example.test; do
        if ! pebble_cert_served "$CH_HTTPS_PORT" "$sni" "$p-$sni"; then
            t_fail "SNI $sni: the served certificate does not verify up to pebble's root"; return
        fi
        t_check "SNI $sni: verifies with the served chain" \
            check_cert_verifies "$p-$sni.leaf.pem" "$p-$sni.chain.pem" || return
        t_check "SNI $sni: SANs are exactly example.test, *.example.test" \
            check_cert_names "$p-$sni.leaf.pem" example.test '*.example.test' || return
    done
    if [ "$(json_get "$STORE_D/state/$DNS_LINEAGE.json" challenge)" != dns-01 ]; then
        t_fail "state challenge is '$(json_get "$STORE_D/state/$DNS_LINEAGE.json" challenge)', want dns-01"; return
    fi
    # the cleanup hook removed both values (checked by a zone transfer)
    if ! txt=$(bind_zone_txt); then t_fail "zone transfer from bind failed"; return; fi
    if printf '%s\n' "$txt" | grep -q '_acme-challenge'; then
        t_fail "TXT records left in the zone: $(echo $txt)"; return
    fi
    DNS_OK=1
    e2e_log "served for example.test and foo.example.test: serial $(cert_serial "$p-example.test.leaf.pem"); zone TXT records: [$(echo $txt)]"
    t_pass
}
case_dns01

# ===========================================================================
# 6. dns-01 failures on renewal: the served certificate stays

cat > "$HOOKS/fail" <<'EOF'
#!/bin/sh
# a dns-01 hook whose DNS provider is down
echo "e2e-hook: DNS provider unreachable (simulated) for $2" >&2
exit 3
EOF
cat > "$HOOKS/hang" <<EOF
#!/bin/sh
# a dns-01 hook that never finishes; its child's pid is recorded so the test
# can check the whole process group was killed
sleep 300 &
echo \$! > "$HOOKS/hang.child"
wait
EOF
cat > "$HOOKS/noop" <<'EOF'
#!/bin/sh
# says it published the record but does nothing
exit 0
EOF
chmod 755 "$HOOKS/fail" "$HOOKS/hang" "$HOOKS/noop"

# renewal_failure WHAT HOOK REGEX [GLOBAL_EXTRA [VHOST_EXTRA]]: restarts the dns
# instance with HOOK and ACMERenewWindow 2000d (longer than pebble's 5-year
# lifetime), so the supervisor renews the lineage at once; waits for the
# attempt to fail; checks last_error matches REGEX (grep -E), the served
# certificate and live/ are unchanged, and no restart was asked for.
renewal_failure() {
    local what=$1 hook=$2 re=$3 global=${4:-} vextra=${5:-}
    t_begin "dns-01 renewal, $what: state error, previous certificate stays served and live"
    if [ "$DNS_OK" != 1 ]; then t_fail "needs the certificate of the dns-01 case"; return; fi
    local st=$STORE_D/state/$DNS_LINEAGE.json serial link link_after before t0 err status p=$SERVED/dns-fail
    apache_stop dns
    serial=$(cert_serial "$SERVED/dns-example.test.leaf.pem")
    link=$(readlink "$STORE_D/live/$DNS_LINEAGE/cert.pem")
    # The supervisor does not renew within an hour of the last success and
    # backs off after a failure; this test stands in for the time passing:
    # last_success two hours ago, no pending backoff.
    t0=$(date +%s)
    if ! jq --argjson t $((t0 - 7200)) '.last_success = $t | .last_attempt = $t | .next_try = 0' \
            "$st" > "$st.tmp" || ! mv "$st.tmp" "$st"; then
        t_fail "cannot age $st"; return
    fi
    before=$(grep -cE 'activated, graceful restart|AH00493' "$(elog dns)" 2>/dev/null)
    if ! apache_start dns "$CH_HTTPS_PORT" "$(dns_config "$hook" "    ACMERenewWindow 2000d
$vextra" "$global")"; then
        t_fail "Apache did not start; see $(elog dns)"; return
    fi
    # wait for the attempt (last_attempt newer than t0) to end in an error
    attempt_done() {
        [ "$(json_get "$st" last_attempt)" -ge "$t0" ] 2>/dev/null \
            && [ "$(json_get "$st" status)" != valid ]
    }
    if ! wait_until 45 attempt_done; then
        show_acme_log dns
        t_fail "no failed renewal attempt recorded within 45 s (status $(json_get "$st" status), last_attempt $(json_get "$st" last_attempt), t0 $t0)"; return
    fi
    status=$(json_get "$st" status); err=$(json_get "$st" last_error)
    if [ "$status" != error ]; then t_fail "state status '$status', want error"; return; fi
    if ! printf '%s\n' "$err" | grep -Eq -- "$re"; then
        t_fail "last_error does not match /$re/: $err"; return
    fi
    # give a (wrong) restart a moment to happen, then check nothing changed
    sleep 2
    if ! tls_get "$CH_HTTPS_PORT" example.test "$p"; then t_fail "no certificate served after the failure"; return; fi
    if [ "$(cert_serial "$p.leaf.pem")" != "$serial" ]; then
        t_fail "the served certificate changed (serial $(cert_serial "$p.leaf.pem"), was $serial)"; return
    fi
    link_after=$(readlink "$STORE_D/live/$DNS_LINEAGE/cert.pem")
    if [ "$link_after" != "$link" ]; then
        t_fail "live/$DNS_LINEAGE/cert.pem now -> $link_after, was $link"; return
    fi
    if [ "$(grep -cE 'activated, graceful restart|AH00493' "$(elog dns)")" != "$before" ]; then
        t_fail "a graceful restart was asked for or done after the failed renewal"; return
    fi
    e2e_log "last_error: $err"
    e2e_log "served serial $serial unchanged, live/$DNS_LINEAGE/cert.pem -> $link"
    t_pass
}

renewal_failure "hook exits non-zero" "$HOOKS/fail" 'DNS provider unreachable \(simulated\)'

renewal_failure "hook hangs (ACMEHookTimeout 3s)" "$HOOKS/hang" \
    '(3 s|3 seconds|3s).*killed|killed.*(3 s|3 seconds|3s)' "ACMEHookTimeout 3s"
# the hook's whole process group was killed (its child too)
if [ "$DNS_OK" = 1 ]; then
    t_begin "hung hook: its child process was killed with it"
    if [ ! -s "$HOOKS/hang.child" ]; then
        t_fail "the hanging hook never ran (no $HOOKS/hang.child)"
    elif kill -0 "$(cat "$HOOKS/hang.child")" 2>/dev/null; then
        t_fail "the hook's child (pid $(cat "$HOOKS/hang.child")) still runs"
        kill "$(cat "$HOOKS/hang.child")" 2>/dev/null
    else
        t_pass
    fi
fi

renewal_failure "TXT record never appears (ACMEDNSPropagationTimeout 5s)" "$HOOKS/noop" \
    'did not become visible' "" "    ACMEDNSPropagationTimeout 5s"

apache_stop dns
t_summary
