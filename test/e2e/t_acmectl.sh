#!/usr/bin/env bash
# End-to-end tests of the acmectl CLI against pebble (issue "Engine and
# acmectl"). Every case checks what a user would check: the certificate
# verifies up to pebble's root, its SAN set is exactly the requested names,
# the store has Certbot's layout and modes, and a failed run says one clear
# line and leaves the store as it was.
#
# Run alone:  bash test/e2e/t_acmectl.sh      (after ./configure && make)

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
acmectl_ca_args

STORE=$WORK/store            # the main store, used by most cases
WEB_MAIN=$(www_dir main)     # default vhost's DocumentRoot
WEB_SECOND=$(www_dir second) # DocumentRoot of the vhost web2.example.test
HOOKS=$WORK/hooks
HOOKLOG=$WORK/hooks.log
AUTHOUT=$WORK/auth-output.log

# ---------------------------------------------------------------------------
# Hooks for --manual, written the way an administrator writes them for Certbot.

make_hooks() {
    mkdir -p "$HOOKS"
    cat > "$HOOKS/http-auth" <<EOF
#!/bin/sh
# http-01: put the key authorization where Apache serves it
printf '%s' "\$CERTBOT_VALIDATION" > "$WEB_MAIN/.well-known/acme-challenge/\$CERTBOT_TOKEN" || exit 1
chmod 644 "$WEB_MAIN/.well-known/acme-challenge/\$CERTBOT_TOKEN"
echo "auth domain=\$CERTBOT_DOMAIN token=\$CERTBOT_TOKEN remaining=\$CERTBOT_REMAINING_CHALLENGES all=\$CERTBOT_ALL_DOMAINS" >> "$HOOKLOG"
echo "authout-\$CERTBOT_DOMAIN"
EOF
    cat > "$HOOKS/http-cleanup" <<EOF
#!/bin/sh
rm -f "$WEB_MAIN/.well-known/acme-challenge/\$CERTBOT_TOKEN"
echo "cleanup domain=\$CERTBOT_DOMAIN token=\$CERTBOT_TOKEN" >> "$HOOKLOG"
echo "\$CERTBOT_DOMAIN \$CERTBOT_AUTH_OUTPUT" >> "$AUTHOUT"
EOF
    cat > "$HOOKS/http-auth-wrong" <<EOF
#!/bin/sh
# writes a value that is not the key authorization
printf '%s' "not-the-key-authorization" > "$WEB_MAIN/.well-known/acme-challenge/\$CERTBOT_TOKEN"
chmod 644 "$WEB_MAIN/.well-known/acme-challenge/\$CERTBOT_TOKEN"
EOF
    cat > "$HOOKS/dns-auth" <<EOF
#!/bin/sh
# dns-01: set the TXT record through pebble-challtestsrv's management API
curl -sf -X POST -d '{"host":"_acme-challenge.'"\$CERTBOT_DOMAIN"'.","value":"'"\$CERTBOT_VALIDATION"'"}' http://127.0.0.1:$CTS_MGMT_PORT/set-txt || exit 1
echo "dnsauth domain=\$CERTBOT_DOMAIN token=\${CERTBOT_TOKEN-unset} remaining=\$CERTBOT_REMAINING_CHALLENGES all=\$CERTBOT_ALL_DOMAINS" >> "$HOOKLOG"
EOF
    cat > "$HOOKS/dns-cleanup" <<EOF
#!/bin/sh
curl -sf -X POST -d '{"host":"_acme-challenge.'"\$CERTBOT_DOMAIN"'."}' http://127.0.0.1:$CTS_MGMT_PORT/clear-txt
echo "dnscleanup domain=\$CERTBOT_DOMAIN" >> "$HOOKLOG"
EOF
    chmod 755 "$HOOKS"/*
}

# ---------------------------------------------------------------------------
# Helpers for the cases

# expect_issued STORE LINEAGE N NAME...: the last run succeeded and
# STORE/live/LINEAGE is version N, verifies, and names exactly NAME...
expect_issued() {
    local store=$1 lin=$2 n=$3 why=(); shift 3
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "acmectl exited $LAST_RC: $(head -c 300 "$WORK/last.err")"
        last_failure_diag
        return 1
    fi
    # every check runs, so that one report shows all that is wrong
    check_cert_verifies "$store/live/$lin/cert.pem" "$store/live/$lin/chain.pem" \
        || why+=("live/$lin/cert.pem does not verify against pebble's root")
    check_cert_verifies "$store/live/$lin/fullchain.pem" "$store/live/$lin/fullchain.pem" \
        || why+=("live/$lin/fullchain.pem does not verify")
    check_cert_names "$store/live/$lin/cert.pem" "$@" \
        || why+=("SAN set is not exactly: $*")
    check_lineage "$store" "$lin" "$n" \
        || why+=("store layout/modes of lineage $lin (version $n)")
    if [ "${#why[@]}" -gt 0 ]; then
        t_fail "$(IFS=';'; echo "${why[*]}" | sed 's/;/; /g')"
        return 1
    fi
    return 0
}

# expect_failed SNAPSHOT_BEFORE STORE REGEX: the last run failed with
# exactly one stderr line "acmectl: ..." matching REGEX (grep -E -i), and
# the store is as before.
expect_failed() {
    local before=$1 store=$2 re=$3 after
    if [ "$LAST_RC" -eq 0 ]; then
        t_fail "acmectl succeeded but should have failed"
        return 1
    fi
    if [ "$LAST_RC" -eq 124 ]; then
        t_fail "acmectl did not finish within ${ACMECTL_TIMEOUT}s"
        return 1
    fi
    t_check "stderr is not exactly one 'acmectl: ' line" last_err_one_line || return 1
    if ! grep -Eiq -- "$re" "$WORK/last.err"; then
        t_fail "stderr does not match /$re/: $(cat "$WORK/last.err")"
        return 1
    fi
    after=$(store_snapshot "$store")
    if [ "$before" != "$after" ]; then
        t_fail "the failed run changed the store"
        diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | head -n 20 | sed 's/^/#   /'
        return 1
    fi
    return 0
}

# challenge_dir_empty DIR: no challenge files left behind.
challenge_dir_empty() {
    local left
    left=$(find "$1/.well-known/acme-challenge" -mindepth 1 2>/dev/null)
    if [ -n "$left" ]; then
        e2e_log "left behind: $left"
        return 1
    fi
}

# key_is FILE TYPE: the private key is of TYPE (ec256 ec384 rsa2048 ...).
key_is() {
    local f=$1 want=$2 text
    text=$(openssl pkey -in "$f" -text -noout 2>/dev/null) \
        || { e2e_log "openssl pkey cannot read $f"; return 1; }
    case "$want" in
        ec256) printf '%s\n' "$text" | grep -q 'Private-Key: (256 bit' \
                 && printf '%s\n' "$text" | grep -Eq 'NIST CURVE: P-256|prime256v1' ;;
        ec384) printf '%s\n' "$text" | grep -q 'Private-Key: (384 bit' \
                 && printf '%s\n' "$text" | grep -Eq 'NIST CURVE: P-384|secp384r1' ;;
        rsa*)  printf '%s\n' "$text" | grep -q "Private-Key: (${want#rsa} bit" \
                 && printf '%s\n' "$text" | grep -q '^modulus:' ;;
        *) return 1 ;;
    esac || { e2e_log "$f is not $want: $(printf '%s\n' "$text" | head -n 1)"; return 1; }
}

archive_version() {
    # live/NAME/cert.pem -> ../../archive/NAME/certN.pem  => N
    readlink "$1/live/$2/cert.pem" | sed -n 's|.*/cert\([0-9][0-9]*\)\.pem$|\1|p'
}

# ---------------------------------------------------------------------------
# a. standalone

case_standalone() {
    t_begin "certonly --standalone: one name"
    acmectl_run certonly --standalone --http-01-port "$HTTP01_PORT" \
        -d standalone.example.test --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$STORE" standalone.example.test 1 standalone.example.test || return
    if port_open "$HTTP01_PORT"; then
        t_fail "port $HTTP01_PORT still open after acmectl exited"; return
    fi
    t_pass
}

# Apache serving the webroots on the http-01 port: the default vhost serves
# WEB_MAIN, the vhost web2.example.test serves WEB_SECOND.
start_web() {
    apache_start web "$HTTP01_PORT" "
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName web1.example.test
    DocumentRoot \"$WEB_MAIN\"
</VirtualHost>
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName web2.example.test
    DocumentRoot \"$WEB_SECOND\"
</VirtualHost>"
}

check_web() {
    t_begin "harness: Apache serves both webroots by ServerName"
    echo main > "$WEB_MAIN/probe.txt"; echo second > "$WEB_SECOND/probe.txt"
    chmod 644 "$WEB_MAIN/probe.txt" "$WEB_SECOND/probe.txt"
    local a b
    a=$(curl -sf -H 'Host: web1.example.test' "http://127.0.0.1:$HTTP01_PORT/probe.txt")
    b=$(curl -sf -H 'Host: web2.example.test' "http://127.0.0.1:$HTTP01_PORT/probe.txt")
    rm -f "$WEB_MAIN/probe.txt" "$WEB_SECOND/probe.txt"
    if [ "$a" != main ] || [ "$b" != second ]; then
        t_fail "got '$a' and '$b'"; return 1
    fi
    t_pass
}

# b. webroot
case_webroot() {
    t_begin "certonly --webroot: one name, real Apache"
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d webroot.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$STORE" webroot.example.test 1 webroot.example.test || return
    t_check "challenge files left in the webroot" challenge_dir_empty "$WEB_MAIN" || return
    t_pass

    t_begin "certonly --webroot: two -w/-d pairs (two vhosts)"
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d web1.example.test \
        -w "$WEB_SECOND" -d web2.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$STORE" web1.example.test 1 web1.example.test web2.example.test || return
    t_check "challenge files left in $WEB_MAIN" challenge_dir_empty "$WEB_MAIN" || return
    t_check "challenge files left in $WEB_SECOND" challenge_dir_empty "$WEB_SECOND" || return
    t_pass
}

# c. manual http-01
case_manual_http() {
    t_begin "certonly --manual http-01: hooks, environment, cleanup"
    : > "$HOOKLOG"; : > "$AUTHOUT"
    acmectl_run certonly --manual --preferred-challenges http-01 \
        --manual-auth-hook "$HOOKS/http-auth" --manual-cleanup-hook "$HOOKS/http-cleanup" \
        -d manual1.example.test -d manual2.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$STORE" manual1.example.test 1 manual1.example.test manual2.example.test || return
    t_check "the cleanup hook did not remove the challenge files" challenge_dir_empty "$WEB_MAIN" || return
    # both auth hooks before any cleanup hook
    local order
    order=$(awk '{print $1}' "$HOOKLOG" | tr '\n' ' ')
    if [ "$order" != "auth auth cleanup cleanup " ]; then
        t_fail "hook order is '$order', want 'auth auth cleanup cleanup'"
        e2e_show_file "$HOOKLOG"; return
    fi
    local d
    for d in manual1.example.test manual2.example.test; do
        # CERTBOT_ALL_DOMAINS: both names, in any order
        if ! grep -q "^auth domain=$d token=[A-Za-z0-9_-]\{20,\} remaining=[01] all=[^ ]*\$" "$HOOKLOG" \
           || [ "$(grep "^auth domain=$d " "$HOOKLOG" | sed 's/.* all=//' | tr ',' '\n' | LC_ALL=C sort | tr '\n' ' ')" \
                != "manual1.example.test manual2.example.test " ]; then
            t_fail "auth hook environment for $d wrong"; e2e_show_file "$HOOKLOG"; return
        fi
        if ! grep -qx "$d authout-$d" "$AUTHOUT"; then
            t_fail "CERTBOT_AUTH_OUTPUT did not reach the cleanup hook for $d"
            e2e_show_file "$AUTHOUT"; return
        fi
    done
    if [ "$(grep '^auth ' "$HOOKLOG" | sed -n 's/.* remaining=\([0-9]*\) .*/\1/p' | tr '\n' ' ')" != "1 0 " ]; then
        t_fail "CERTBOT_REMAINING_CHALLENGES not 1 then 0"; e2e_show_file "$HOOKLOG"; return
    fi
    t_pass
}

# d. manual dns-01 with a wildcard
case_manual_dns() {
    t_begin "certonly --manual dns-01: *.wild.example.test + wild.example.test"
    : > "$HOOKLOG"
    acmectl_run certonly --manual --preferred-challenges dns-01 \
        --manual-auth-hook "$HOOKS/dns-auth" --manual-cleanup-hook "$HOOKS/dns-cleanup" \
        -d '*.wild.example.test' -d wild.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    # Certbot names the lineage after the first -d without "*."
    local lin
    lin=$(cd "$STORE/live" 2>/dev/null && ls -d ./*wild.example.test 2>/dev/null | head -n 1)
    lin=${lin#./}
    if [ "$LAST_RC" -eq 0 ] && [ -z "$lin" ]; then
        t_fail "no lineage directory for wild.example.test under live/"; return
    fi
    expect_issued "$STORE" "${lin:-wild.example.test}" 1 '*.wild.example.test' wild.example.test || return
    if [ "$(grep -c '^dnsauth domain=wild.example.test token=unset ' "$HOOKLOG")" != 2 ]; then
        t_fail "want two dns auth hook runs with CERTBOT_DOMAIN=wild.example.test and no CERTBOT_TOKEN"
        e2e_show_file "$HOOKLOG"; return
    fi
    if [ "$(grep -c '^dnscleanup ' "$HOOKLOG")" != 2 ]; then
        t_fail "want two dns cleanup hook runs"; e2e_show_file "$HOOKLOG"; return
    fi
    t_pass
}

# f. key types
case_key_types() {
    local kt
    for kt in ec256 ec384 rsa2048 rsa3072 rsa4096; do
        t_begin "certonly --key-type $kt"
        acmectl_run certonly --webroot -w "$WEB_MAIN" -d "kt-$kt.example.test" \
            --key-type "$kt" --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
        expect_issued "$STORE" "kt-$kt.example.test" 1 "kt-$kt.example.test" || continue
        t_check "privkey is not $kt" key_is "$STORE/live/kt-$kt.example.test/privkey.pem" "$kt" || continue
        t_pass
    done
}

# g. several names
case_several_names() {
    t_begin "certonly: three names in one certificate"
    acmectl_run certonly --webroot -w "$WEB_MAIN" \
        -d multi.example.test -d www.multi.example.test -d api.multi.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$STORE" multi.example.test 1 \
        multi.example.test www.multi.example.test api.multi.example.test || return
    t_pass
}

# h. second run, --duplicate, --cert-name
case_lineages() {
    t_begin "certonly again for the same names: version 2 of the lineage"
    local s1 s2
    s1=$(cert_serial "$STORE/archive/webroot.example.test/cert1.pem")
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d webroot.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    if expect_issued "$STORE" webroot.example.test 2 webroot.example.test; then
        s2=$(cert_serial "$STORE/archive/webroot.example.test/cert2.pem")
        if [ -z "$s1" ] || [ "$s1" = "$s2" ]; then
            t_fail "serial of cert2 ($s2) equals cert1 ($s1)"
        elif [ -e "$STORE/live/webroot.example.test-0001" ]; then
            t_fail "a second lineage was created instead of a new version"
        elif [ "$(store_snapshot "$STORE/archive/webroot.example.test" | grep -c '/cert1.pem f ')" != 1 ]; then
            t_fail "cert1.pem is gone from the archive"
        else
            t_pass
        fi
    fi

    t_begin "certonly --duplicate: a new lineage NAME-0001"
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d webroot.example.test --duplicate \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    if expect_issued "$STORE" webroot.example.test-0001 1 webroot.example.test; then
        if [ "$(archive_version "$STORE" webroot.example.test)" != 2 ]; then
            t_fail "--duplicate changed the original lineage"
        else
            t_pass
        fi
    fi

    t_begin "certonly --cert-name other: lineage named 'other'"
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d certname.example.test --cert-name other \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    if expect_issued "$STORE" other 1 certname.example.test; then
        if [ -e "$STORE/live/certname.example.test" ]; then
            t_fail "a lineage named after the domain was created as well"
        else
            t_pass
        fi
    fi
}

# j. bad input: one clear line, nothing changed
bad_input() {   # bad_input TITLE REGEX acmectl-args...
    local title=$1 re=$2 before; shift 2
    t_begin "fails cleanly: $title"
    before=$(store_snapshot "$STORE")
    acmectl_run "$@"
    expect_failed "$before" "$STORE" "$re" || return
    t_pass
}

case_bad_input() {
    local ca=("${ACMECTL_CA_ARGS[@]}") long i names=()
    bad_input "name with a space" 'exa mple\.org|invalid|name' \
        certonly --webroot -w "$WEB_MAIN" -d 'exa mple.org' --config-dir "$STORE" "${ca[@]}"
    bad_input "wildcard not leftmost only (*.*.org)" '\*\.\*\.org|wildcard|invalid' \
        certonly --manual --preferred-challenges dns-01 --manual-auth-hook "$HOOKS/dns-auth" \
        -d '*.*.org' --config-dir "$STORE" "${ca[@]}"
    bad_input "empty label (a..example.test)" 'a\.\.example\.test|label|invalid' \
        certonly --webroot -w "$WEB_MAIN" -d 'a..example.test' --config-dir "$STORE" "${ca[@]}"
    long=$(printf 'a%.0s' $(seq 63)).$(printf 'b%.0s' $(seq 63)).$(printf 'c%.0s' $(seq 63)).$(printf 'd%.0s' $(seq 57)).example.test
    bad_input "name longer than 253 characters (${#long})" 'long|253|length|invalid' \
        certonly --webroot -w "$WEB_MAIN" -d "$long" --config-dir "$STORE" "${ca[@]}"
    for i in $(seq 101); do names+=(-d "n$i.example.test"); done
    bad_input "101 names" '100|too many|names' \
        certonly --webroot -w "$WEB_MAIN" "${names[@]}" --config-dir "$STORE" "${ca[@]}"
    bad_input "unreachable CA" 'connect|refused|reach|127\.0\.0\.1|server|directory' \
        certonly --webroot -w "$WEB_MAIN" -d unreachable.example.test --config-dir "$STORE" \
        --server https://127.0.0.1:1/dir --ca-bundle "$ACME_CA_BUNDLE" \
        --email e2e@example.test --agree-tos --non-interactive
    # No --ca-bundle: the system trust store does not trust pebble's API
    # certificate. ACME_CA_BUNDLE (and curl's variables) removed from the
    # environment in case acmectl honours them.
    t_begin "fails cleanly: untrusted CA (no --ca-bundle)"
    local before
    before=$(store_snapshot "$STORE")
    (
        unset ACME_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE SSL_CERT_DIR REQUESTS_CA_BUNDLE
        acmectl_run certonly --webroot -w "$WEB_MAIN" -d untrusted.example.test \
            --config-dir "$STORE" --server "$ACME_SERVER" \
            --email e2e@example.test --agree-tos --non-interactive
        exit "$LAST_RC"
    )
    LAST_RC=$?
    if expect_failed "$before" "$STORE" 'certificate|verify|trust|ssl|tls|issuer'; then t_pass; fi

    t_begin "fails cleanly: challenge the CA marks invalid (CA's detail shown)"
    before=$(store_snapshot "$STORE")
    acmectl_run certonly --manual --preferred-challenges http-01 \
        --manual-auth-hook "$HOOKS/http-auth-wrong" \
        -d badvalidation.example.test --config-dir "$STORE" "${ca[@]}"
    if expect_failed "$before" "$STORE" 'did not match|not-the-key-authorization'; then
        if [ -e "$STORE/live/badvalidation.example.test" ]; then
            t_fail "a lineage was created for the failed name"
        else
            t_pass
        fi
    fi
    rm -f "$WEB_MAIN"/.well-known/acme-challenge/*
}

# k. acmectl certificates
case_certificates() {
    t_begin "certificates --json lists every lineage with correct fields"
    acmectl_run certificates --json --config-dir "$STORE"
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "exit $LAST_RC: $(head -c 300 "$WORK/last.err")"; return
    fi
    local out
    out=$(python3 - "$STORE" "$WORK/last.out" <<'PY' 2>&1
import json, os, subprocess, sys, datetime
store, path = sys.argv[1], sys.argv[2]
errors = []
try:
    doc = json.load(open(path))
except Exception as e:
    print("not JSON: %s" % e); sys.exit(1)
certs = doc.get("certificates")
if not isinstance(certs, list):
    print("no certificates list"); sys.exit(1)
want = sorted(f[:-5] for f in os.listdir(os.path.join(store, "renewal")) if f.endswith(".conf"))
got = sorted(c.get("name") for c in certs)
if got != want:
    errors.append("names %s != renewal confs %s" % (got, want))
for c in certs:
    name = c.get("name")
    live = os.path.join(store, "live", name)
    cert = os.path.join(live, "cert.pem")
    if not os.path.exists(cert):
        errors.append("%s: no live cert" % name); continue
    san = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-ext", "subjectAltName"],
                         capture_output=True, text=True).stdout.splitlines()[1:]
    sans = sorted(x.strip()[4:] for x in ",".join(san).split(",") if x.strip().startswith("DNS:"))
    if sorted(c.get("domains", [])) != sans:
        errors.append("%s: domains %s != SAN %s" % (name, c.get("domains"), sans))
    for key, fn in (("cert_path", "cert.pem"), ("chain_path", "chain.pem"),
                    ("fullchain_path", "fullchain.pem"), ("privkey_path", "privkey.pem")):
        p = c.get(key)
        if not isinstance(p, str) or "/live/%s/%s" % (name, fn) not in p \
                or not os.path.exists(p) or not os.path.samefile(p, os.path.join(live, fn)):
            errors.append("%s: %s is %r" % (name, key, p))
    ver = os.readlink(cert).rsplit("cert", 1)[-1][:-4]
    if str(c.get("version")) != ver:
        errors.append("%s: version %r != archive %s" % (name, c.get("version"), ver))
    if c.get("valid") is not True:
        errors.append("%s: valid is %r" % (name, c.get("valid")))
    end = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-enddate", "-dateopt", "iso_8601"],
                         capture_output=True, text=True).stdout.strip().split("=", 1)[-1]
    na = str(c.get("not_after", ""))
    try:
        t1 = datetime.datetime.fromisoformat(na.replace("Z", "+00:00"))
        t2 = datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
        if t1.utcoffset() is None or abs((t1 - t2).total_seconds()) > 1:
            errors.append("%s: not_after %s != %s" % (name, na, end))
        if not isinstance(c.get("days_left"), int) or abs(c["days_left"] - (t2 - datetime.datetime.now(datetime.timezone.utc)).days) > 1:
            errors.append("%s: days_left %r" % (name, c.get("days_left")))
    except Exception as e:
        errors.append("%s: not_after %r: %s" % (name, na, e))
    serial = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-serial"],
                            capture_output=True, text=True).stdout.strip().split("=", 1)[-1]
    if str(c.get("serial", "")).replace(":", "").lower().lstrip("0") != serial.lower().lstrip("0"):
        errors.append("%s: serial %r != %s" % (name, c.get("serial"), serial))
    for k in ("not_before", "issuer", "key_type"):
        if not c.get(k):
            errors.append("%s: %s empty" % (name, k))
print("\n".join(errors))
sys.exit(1 if errors else 0)
PY
)
    if [ $? -ne 0 ]; then
        t_fail "JSON check failed"
        printf '%s\n' "$out" | head -n 15 | sed 's/^/#   /'
        return
    fi
    t_pass

    t_begin "certificates --cert-name NAME --json: only that lineage"
    acmectl_run certificates --cert-name multi.example.test --json --config-dir "$STORE"
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "exit $LAST_RC: $(head -c 300 "$WORK/last.err")"
    elif [ "$(jq -r '[.certificates[].name] | join(" ")' "$WORK/last.out" 2>/dev/null)" != multi.example.test ]; then
        t_fail "got: $(head -c 300 "$WORK/last.out")"
    elif [ "$(jq -r '.certificates[0].key_type' "$WORK/last.out")" = null ]; then
        t_fail "no key_type"
    else
        t_pass
    fi

    t_begin "certificates (text): Certbot-like lines"
    acmectl_run certificates --config-dir "$STORE"
    local n
    n=$(ls "$STORE/renewal" | grep -c '\.conf$')
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "exit $LAST_RC: $(head -c 300 "$WORK/last.err")"
    elif [ "$(grep -c 'Certificate Name: ' "$WORK/last.out")" != "$n" ]; then
        t_fail "want $n 'Certificate Name:' lines"; e2e_show_file "$WORK/last.out"
    elif [ "$(grep -c 'VALID: ' "$WORK/last.out")" != "$n" ]; then
        t_fail "want $n 'VALID:' lines"; e2e_show_file "$WORK/last.out"
    elif ! grep -q 'Certificate Name: multi.example.test' "$WORK/last.out" \
         || ! grep -q "$STORE/live/multi.example.test/fullchain.pem" "$WORK/last.out"; then
        t_fail "multi.example.test or its fullchain path missing"; e2e_show_file "$WORK/last.out"
    else
        t_pass
    fi
}

# Permissions across the whole main store.
case_permissions() {
    t_begin "store permissions: privkeys 0600, archive/live/accounts dirs 0700"
    local bad
    bad=$(
        find "$STORE/archive" -name 'privkey*.pem' ! -perm 600 2>/dev/null
        find "$STORE/archive" "$STORE/live" "$STORE/accounts" -maxdepth 1 -type d ! -perm 700 2>/dev/null
        find "$STORE/accounts" -name private_key.pem ! -perm 600 2>/dev/null
    )
    if [ -n "$bad" ]; then
        t_fail "wrong modes ($(printf '%s\n' "$bad" | wc -l) paths), e.g. $(printf '%s\n' "$bad" | head -n 3 | while read -r f; do printf '%s=%s ' "${f#"$STORE"/}" "$(stat -c %a "$f")"; done)"; return
    fi
    if [ -z "$(find "$STORE/accounts" -path "*/localhost:$PEBBLE_PORT/dir/*/private_key.pem" 2>/dev/null)" ] \
       || [ -z "$(find "$STORE/accounts" -path "*/localhost:$PEBBLE_PORT/dir/*/regr.json" 2>/dev/null)" ]; then
        t_fail "no account under accounts/localhost:$PEBBLE_PORT/dir/<id>/"; return
    fi
    t_pass
}

# i. nonce rejection
case_nonce_reject() {
    t_begin "PEBBLE_WFE_NONCEREJECT=50: three orders in a row succeed"
    local st=$WORK/store-nonce i retries=0 n
    for i in 1 2 3; do
        # -vv logs every badNonce retry on stderr
        acmectl_run certonly -vv --webroot -w "$WEB_MAIN" -d "nonce$i.example.test" \
            --config-dir "$st" "${ACMECTL_CA_ARGS[@]}"
        n=$(grep -c 'badNonce' "$WORK/last.err")
        retries=$((retries + n))
        expect_issued "$st" "nonce$i.example.test" 1 "nonce$i.example.test" || return
    done
    e2e_log "badNonce answers retried over 3 orders: $retries"
    # ~30 signed POSTs at 50% rejection: none rejected would mean the knob
    # (or our retry path) is not in play at all
    if [ "$retries" -lt 1 ]; then
        t_fail "no badNonce was retried: the rejection is not exercised"; return
    fi
    # pebble does not log the nonces it rejects; the number of POSTs it
    # handled in this phase shows the retries (about twice the minimum)
    e2e_log "POST requests pebble handled for 3 orders with 50% nonce rejection: $(awk '/^### pebble_start/ {n = 0} / POST / {n++} END {print n}' "$WORK/pebble.log")"
    t_pass
}

# e. external account binding
case_eab() {
    local st before
    t_begin "EAB required: --eab-kid/--eab-hmac-key succeed"
    st=$WORK/store-eab
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d eab.example.test \
        --eab-kid "$EAB_KID_1" --eab-hmac-key "$EAB_KEY_1" \
        --config-dir "$st" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$st" eab.example.test 1 eab.example.test && t_pass

    t_begin "EAB required: wrong HMAC key fails cleanly"
    st=$WORK/store-eab-wrong
    before=$(store_snapshot "$st")
    # valid base64url, same length, different key
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d eabwrong.example.test \
        --eab-kid "$EAB_KID_1" --eab-hmac-key "$EAB_KEY_2" \
        --config-dir "$st" "${ACMECTL_CA_ARGS[@]}"
    expect_failed "$before" "$st" 'eab|external|binding|hmac|signature|verif|unauthorized|malformed' && t_pass

    t_begin "EAB required: no EAB fails cleanly"
    st=$WORK/store-eab-none
    before=$(store_snapshot "$st")
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d eabnone.example.test \
        --config-dir "$st" "${ACMECTL_CA_ARGS[@]}"
    expect_failed "$before" "$st" 'eab|external|binding|eab-kid' && t_pass
}

# l. the CA forgot the account (reset, new database): pebble keeps no state,
# so a restart forgets every account. acmectl registers the stored key again
# (same account id, new URL), says so, and goes on.
account_dir() { printf '%s/accounts/localhost:%s/dir\n' "$STORE" "$PEBBLE_PORT"; }

# forgot_check URL_BEFORE: stdout says the account was registered again, and
# the store's only account has a new URL.
forgot_check() {
    local url1=$1 ids url2
    if ! grep -qF "The CA no longer knows account $url1; registered a new one" "$WORK/last.out"; then
        t_fail "stdout does not say the account was registered again"
        e2e_show_file "$WORK/last.out"; return 1
    fi
    ids=$(ls "$(account_dir)")
    if [ "$(printf '%s\n' "$ids" | wc -l)" != 1 ]; then
        t_fail "want one account in the store, got: $ids"; return 1
    fi
    url2=$(jq -r .uri "$(account_dir)/$ids/regr.json")
    if [ -z "$url2" ] || [ "$url2" = "$url1" ]; then
        t_fail "regr.json still has the forgotten URL ($url2)"; return 1
    fi
}

case_ca_forgot_account() {
    local id url1
    id=$(ls "$(account_dir)" | head -n 1)
    url1=$(jq -r .uri "$(account_dir)/$id/regr.json" 2>/dev/null)
    pebble_stop; pebble_start
    t_begin "certonly after the CA forgot the account: registers again, issues"
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d forgotten.example.test \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$STORE" forgotten.example.test 1 forgotten.example.test || return
    forgot_check "$url1" || return
    if [ "$(ls "$(account_dir)")" != "$id" ]; then
        t_fail "the account id changed ($(ls "$(account_dir)"), was $id)"; return
    fi
    if ! grep -qx "account = $id" "$STORE/renewal/forgotten.example.test.conf"; then
        t_fail "renewal conf does not name account $id"; return
    fi
    t_pass

    t_begin "renew after the CA forgot the account: registers again, renews"
    url1=$(jq -r .uri "$(account_dir)/$id/regr.json")
    pebble_stop; pebble_start
    acmectl_run renew --cert-name forgotten.example.test --force-renewal \
        --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    expect_issued "$STORE" forgotten.example.test 2 forgotten.example.test || return
    forgot_check "$url1" || return
    t_pass

    t_begin "update_account --rollover-key after the CA forgot the account"
    url1=$(jq -r .uri "$(account_dir)/$id/regr.json")
    pebble_stop; pebble_start
    acmectl_run update_account --rollover-key --config-dir "$STORE" "${ACMECTL_CA_ARGS[@]}"
    if [ "$LAST_RC" -ne 0 ]; then
        t_fail "exit $LAST_RC: $(head -c 300 "$WORK/last.err")"; return
    fi
    forgot_check "$url1" || return
    if ! grep -q "rolled over to a new key" "$WORK/last.out" || [ "$(ls "$(account_dir)")" = "$id" ]; then
        t_fail "the key was not rolled over"; e2e_show_file "$WORK/last.out"; return
    fi
    t_pass
}

# m. an account without an email address, as with Certbot: only with
# --register-unsafely-without-email; asked for on a terminal; refused with -n
# or without a terminal; not needed once the store has an account.
account_contacts() {   # account_contacts STORE: the account's contacts, or "-"
    local f
    f=$(find "$1/accounts" -name regr.json 2>/dev/null | head -n 1)
    [ -n "$f" ] || { echo "-"; return; }
    jq -r '[.body.contact // [] | .[]] | join(" ")' "$f"
}

case_no_email() {
    local st ca=(--server "$ACME_SERVER" --ca-bundle "$ACME_CA_BUNDLE" --agree-tos)
    local before
    t_begin "no -m and no --register-unsafely-without-email, -n: refused before anything is registered"
    st=$WORK/store-noemail
    before=$(store_snapshot "$st")
    acmectl_run certonly -n --webroot -w "$WEB_MAIN" -d noemail.example.test --config-dir "$st" "${ca[@]}"
    expect_failed "$before" "$st" 'register before running non-interactively.*--email.*--register-unsafely-without-email' || return
    [ -e "$st/accounts" ] && { t_fail "an account directory was created"; return; }
    t_pass

    t_begin "no -m, no terminal (cron), without -n: refused the same way"
    acmectl_run certonly --webroot -w "$WEB_MAIN" -d noemail.example.test --config-dir "$st" "${ca[@]}"
    expect_failed "$before" "$st" 'register before running non-interactively' || return
    t_pass

    t_begin "certonly --register-unsafely-without-email: an account with no contact, a certificate"
    acmectl_run certonly -n --register-unsafely-without-email --webroot -w "$WEB_MAIN" \
        -d noemail.example.test --config-dir "$st" "${ca[@]}"
    expect_issued "$st" noemail.example.test 1 noemail.example.test || return
    [ "$(account_contacts "$st")" = "" ] || { t_fail "account contacts: '$(account_contacts "$st")', want none"; return; }
    grep -q "Account registered without a contact address" "$WORK/last.out" \
        || { t_fail "stdout does not say the account has no contact"; e2e_show_file "$WORK/last.out"; return; }
    t_pass

    t_begin "with an account in the store, certonly -n needs neither -m nor the flag"
    acmectl_run certonly -n --webroot -w "$WEB_MAIN" -d noemail2.example.test --config-dir "$st" "${ca[@]}"
    expect_issued "$st" noemail2.example.test 1 noemail2.example.test || return
    [ "$(find "$st/accounts" -name regr.json | wc -l)" = 1 ] || { t_fail "a second account was registered"; return; }
    t_pass

    t_begin "-m together with --register-unsafely-without-email: the address is used (as Certbot)"
    st=$WORK/store-noemail-m
    acmectl_run certonly -n -m both@example.test --register-unsafely-without-email --webroot -w "$WEB_MAIN" \
        -d noemail3.example.test --config-dir "$st" "${ca[@]}"
    expect_issued "$st" noemail3.example.test 1 noemail3.example.test || return
    [ "$(account_contacts "$st")" = "mailto:both@example.test" ] || { t_fail "account contacts: '$(account_contacts "$st")'"; return; }
    t_pass

    t_begin "on a terminal without -m: asks for the address (again after a bad one) and registers with it"
    if ! command -v script >/dev/null 2>&1; then
        t_skip "script(1) is not installed"; return
    fi
    st=$WORK/store-noemail-tty
    printf 'not-an-address\nasked@example.test\n' > "$WORK/tty-in"
    # script(1) gives acmectl a terminal and feeds it the answers
    timeout "$ACMECTL_TIMEOUT" script -qec "$(printf '%q ' "$ACMECTL" certonly --webroot -w "$WEB_MAIN" \
        -d noemail4.example.test --config-dir "$st" "${ca[@]}")" /dev/null < "$WORK/tty-in" > "$WORK/tty-out" 2>&1
    LAST_RC=$?
    : > "$WORK/last.err"
    expect_issued "$st" noemail4.example.test 1 noemail4.example.test || { e2e_show_file "$WORK/tty-out"; return; }
    if ! grep -q "Enter email address" "$WORK/tty-out" || ! grep -q "There seem to be problems with that address" "$WORK/tty-out"; then
        t_fail "no prompt, or no second prompt after the bad address"; e2e_show_file "$WORK/tty-out"; return
    fi
    [ "$(account_contacts "$st")" = "mailto:asked@example.test" ] || { t_fail "account contacts: '$(account_contacts "$st")'"; return; }
    t_pass
}

# ---------------------------------------------------------------------------

make_hooks
case_standalone
web_ok=0
if start_web; then
    check_web && web_ok=1
else
    t_begin "harness: Apache for the webroot tests"
    t_fail "could not start Apache on 127.0.0.1:$HTTP01_PORT"
fi
if [ "$web_ok" = 1 ]; then
    case_webroot
    case_manual_http
    case_manual_dns
    case_key_types
    case_several_names
    case_lineages
    case_bad_input
    case_certificates
    case_permissions
    case_ca_forgot_account
    case_no_email
    pebble_start PEBBLE_WFE_NONCEREJECT=50
    case_nonce_reject
    pebble_start PEBBLE_EAB=1
    case_eab
fi

t_summary
