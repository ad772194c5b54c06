# shellcheck shell=bash
# test/e2e/hostile_lib.sh -- helpers of the hostile-world suite
# (t_hostile_ca.sh, t_crash.sh, t_disk.sh, t_paths.sh), sourced after lib.sh.
#
# One Apache instance ("h") with mod_acme and one ACMEDomain vhost
# ($H_NAME) on 127.0.0.1:$HOSTILE_HTTPS_PORT, plus the http-01 port; the
# store is $STORE. The module and acmectl are copied into $WORK first, so
# that a rebuild by someone else in the middle of a run does not change
# what is tested (and so that www-data can execute the worker).

HOSTILE_HTTPS_PORT=${HOSTILE_HTTPS_PORT:-16443}
H_NAME=${H_NAME:-h.example.test}
H_INST=${H_INST:-h}

# hostile_require_root: the module's point is root parent + www-data worker.
hostile_require_root() {
    if [ "$(id -u)" -ne 0 ] || ! id "$APACHE_USER" >/dev/null 2>&1; then
        t_begin "${1:-hostile world}"
        t_skip "needs root and the user $APACHE_USER"
        t_summary
        exit 0
    fi
}

# hostile_binaries: copies mod_acme.so and acmectl into $WORK.
hostile_binaries() {
    [ -f "$TOP/mod_acme.so" ] || e2e_die "$TOP/mod_acme.so does not exist (run ./configure && make)"
    [ -x "$TOP/acmectl" ] || e2e_die "$TOP/acmectl does not exist (run ./configure && make)"
    cp "$TOP/mod_acme.so" "$WORK/mod_acme.so" && cp "$TOP/acmectl" "$WORK/acmectl" \
        && chmod 755 "$WORK/acmectl" || e2e_die "cannot copy the binaries into $WORK"
    H_MOD=$WORK/mod_acme.so
    H_ACMECTL=$WORK/acmectl
    ACMECTL=$H_ACMECTL
}




# h_config CA_URL [EXTRA_GLOBAL [EXTRA_VHOST]]: the module configuration.
h_config() {
    local ca=$1 extra=${2:-} vextra=${3:-}
    cat <<EOF
LoadModule acme_module "$H_MOD"
LogLevel info ssl:warn
ACMECertificateAuthority $ca
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$STORE"
ACMEAgreeToS on
ACMEContact e2e@example.test
ACMEPortMap 80:$HTTP01_PORT
ACMECheckInterval 2s
ACMEWorkerBinary "$H_ACMECTL"
$extra

<VirtualHost 127.0.0.1:$HOSTILE_HTTPS_PORT>
    ServerName $H_NAME
    DocumentRoot "$WORK/www/h"
    SSLEngine on
    ACMEDomain $H_NAME
    ACMERenewWindow 2000d
$vextra
</VirtualHost>

<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $H_NAME
    DocumentRoot "$WORK/www/h"
</VirtualHost>
EOF
}

h_elog() { printf '%s/logs/error.log\n' "$(apache_dir "$H_INST")"; }
h_count() { grep -cE -- "$1" "$(h_elog)" 2>/dev/null; }
h_show_log() { grep -E 'mod_acme|AH00' "$(h_elog)" | tail -n "${1:-8}" | sed 's/^/#   /'; }
h_activations() { h_count 'certificate\(s\) activated'; }
h_restarts() { h_count 'SIGUSR1 received'; }

# h_start CA_URL [EXTRA_GLOBAL [EXTRA_VHOST]]
h_start() {
    local d
    d=$(www_dir h)
    echo "vhost h" > "$d/index.html"; chmod 644 "$d/index.html"
    apache_start "$H_INST" "$HTTP01_PORT $HOSTILE_HTTPS_PORT" "$(h_config "$@")"
}
h_stop() { apache_stop "$H_INST"; }

# h_served_serial: serial of the certificate served for $H_NAME (or empty).
h_served_serial() {
    mkdir -p "$WORK/served"
    tls_served_chain "$HOSTILE_HTTPS_PORT" "$H_NAME" "$WORK/served/h" || return 1
    cert_serial "$WORK/served/h.leaf.pem"
}

# h_served_issuer_is_pebble: the served certificate verifies to pebble's root.
h_served_by_pebble() {
    mkdir -p "$WORK/served"
    tls_served_chain "$HOSTILE_HTTPS_PORT" "$H_NAME" "$WORK/served/h" || return 1
    [ -s "$WORK/served/h.chain.pem" ] || return 1
    openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$WORK/served/h.chain.pem" \
        "$WORK/served/h.leaf.pem" >/dev/null 2>&1
}

h_state() { printf '%s/state/%s.json\n' "$STORE" "$H_NAME"; }
# st_get KEY: a top-level value of the lineage's state file ("null" if none).
st_get() { jq -r --arg k "$1" '.[$k] | if . == null then "null" else tostring end' "$(h_state)" 2>/dev/null; }

# h_live_version: N of live/NAME/cert.pem -> ../../archive/NAME/certN.pem
h_live_version() {
    readlink "$STORE/live/$H_NAME/cert.pem" 2>/dev/null | sed -n 's/.*cert\([0-9]*\)\.pem$/\1/p'
}

# h_force_due: makes the lineage due now (last success 2 h back: past the
# 1 h minimum between window renewals; no backoff; failures 0). Atomic
# rename, so the supervisor reads the old or the new file, never half.
# The duplicate-certificate guard (state/_issued.json: at most 5 per week
# for the same names) is reset too: these tests renew one name many times.
h_force_due() {
    local st now
    rm -f "$STORE/state/_issued.json"
    st=$(h_state)
    now=$(date +%s)
    jq --argjson t $((now - 7200)) '.last_success = $t | .last_attempt = $t | .next_try = 0 | .failures = 0' \
        "$st" > "$st.forced" && mv -f "$st.forced" "$st"
}

# h_wait_attempt BEFORE SECONDS: waits until state "attempts" > BEFORE.
h_wait_attempt() {
    local before=$1 secs=$2
    wait_until "$secs" h_attempts_gt "$before"
}
h_attempts_gt() { [ "$(st_get attempts)" != null ] && [ "$(st_get attempts)" -gt "$1" ]; }

# h_wait_first_cert SECONDS: waits until live/NAME exists and is served.
h_wait_first_cert() {
    wait_until "$1" h_served_by_pebble
}

# store_consistent STORE NAME: every live/NAME link points into one
# complete archive set (same N), and that key matches that certificate.
store_consistent() {
    local store=$1 name=$2 f n t v="" kpub cpub
    for f in cert chain fullchain privkey; do
        t=$(readlink "$store/live/$name/$f.pem") || { e2e_log "live/$name/$f.pem is not a link"; return 1; }
        [ -s "$store/live/$name/$f.pem" ] || { e2e_log "live/$name/$f.pem -> $t is missing or empty"; return 1; }
        n=$(printf '%s' "$t" | sed -n "s|^\.\./\.\./archive/$name/$f\([0-9]*\)\.pem$|\1|p")
        [ -n "$n" ] || { e2e_log "live/$name/$f.pem -> $t: not an archive file"; return 1; }
        [ -z "$v" ] || [ "$v" = "$n" ] || { e2e_log "live/$name links disagree: $v vs $n ($f)"; return 1; }
        v=$n
    done
    kpub=$(openssl pkey -in "$store/live/$name/privkey.pem" -pubout 2>/dev/null)
    cpub=$(openssl x509 -in "$store/live/$name/cert.pem" -noout -pubkey 2>/dev/null)
    if [ -z "$kpub" ] || [ "$kpub" != "$cpub" ]; then
        e2e_log "live/$name: privkey.pem does not match cert.pem"
        return 1
    fi
}

# served_matches_live STORE NAME PORT: the served leaf is live/NAME/cert.pem.
served_matches_live() {
    local s l
    mkdir -p "$WORK/served"
    tls_served_chain "$3" "$2" "$WORK/served/chk" || return 1
    s=$(openssl x509 -in "$WORK/served/chk.leaf.pem" -noout -fingerprint -sha256 2>/dev/null)
    l=$(openssl x509 -in "$1/live/$2/cert.pem" -noout -fingerprint -sha256 2>/dev/null)
    [ -n "$s" ] && [ "$s" = "$l" ]
}
