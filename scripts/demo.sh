#!/usr/bin/env bash
# scripts/demo.sh [--keep | --stop] -- the whole story on one machine, offline:
#
#   1. builds mod_acme and acmectl (./configure && make)
#   2. starts a test ACME CA (pebble) and its DNS (pebble-challtestsrv),
#      everything on 127.0.0.1
#   3. starts a private Apache on 127.0.0.1:5002 (http, where the CA
#      validates) serving a webroot
#   4. adds an SSL vhost for demo.example.test on 127.0.0.1:8443 with just
#      "ACMEDomain" and "SSLEngine on" (no certificate files), gracefully
#      restarts Apache; the vhost presents a temporary self-signed
#      certificate and answers 503 while mod_acme obtains the certificate
#      from the CA by itself, stores it in the store (Certbot's layout) and
#      activates it with one graceful restart of its own
#   5. connects with `openssl s_client`, shows the served certificate
#      (subject, issuer, dates, names) and verifies it against the test CA's
#      root; exits non-zero if it does not verify
#   6. stops everything it started (unless --keep; then --stop stops it)
#
# DEMO_METHOD=acmectl does steps 4 the Certbot way instead: `acmectl
# certonly --webroot` obtains the certificate, then the SSL vhost names
# live/demo.example.test/{fullchain,privkey}.pem and Apache is restarted.
#
# Run as root on Debian 12 (it runs scripts/install-deps.sh first; a no-op
# when everything is installed). Uses the work
# directory demo/ at the top of the repository. Never contacts a public CA.
#
# The two methods differ only in obtain_certificate and ssl_vhost_config.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1

KEEP=0
DEMO_METHOD=${DEMO_METHOD:-module}
DOMAIN=demo.example.test
HTTPS_PORT=${DEMO_HTTPS_PORT:-8443}
DEMO_DIR=$TOP/demo               # demo.pids (for --stop), build.log
export ACME_E2E_WORK=$DEMO_DIR   # pebble, Apache, store (see below)

say() { printf '\n==> %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

stop_previous() {
    local f=$DEMO_DIR/demo.pids kind pid conf
    [ -f "$f" ] || return 0
    while read -r kind pid conf; do
        case "$kind" in
            apache) /usr/sbin/apache2 -f "$conf" -k stop >/dev/null 2>&1 ;;
            *) kill "$pid" 2>/dev/null ;;
        esac
    done < "$f"
    sleep 1
    rm -f "$f"
}

case "${1:-}" in
    --keep) KEEP=1 ;;
    --stop) stop_previous; echo "demo: stopped"; exit 0 ;;
    "") ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) die "unknown option $1 (use --keep or --stop)" ;;
esac

case "$DEMO_METHOD" in
    module|acmectl) ;;
    *) die "DEMO_METHOD must be module or acmectl, not '$DEMO_METHOD'" ;;
esac
[ "$(id -u)" -eq 0 ] || die "run as root (Apache's children switch to www-data)"
# On a fresh Debian 12 this installs the packages; otherwise a quick no-op.
if [ "${ACME_SKIP_DEPS:-0}" != 1 ]; then
    "$TOP/scripts/install-deps.sh" || die "installing the dependencies failed"
fi
for c in pebble pebble-challtestsrv /usr/sbin/apache2 openssl curl; do
    command -v "$c" >/dev/null 2>&1 || die "$c not found: run scripts/install-deps.sh first"
done

stop_previous
mkdir -p "$DEMO_DIR"
# Apache's children (www-data) must read the webroot; a clone under /root
# is not reachable for them, then the demo works under /tmp.
if ! runuser -u www-data -- test -x "$DEMO_DIR" 2>/dev/null; then
    ACME_E2E_WORK=$(mktemp -d /tmp/mod_acme-demo.XXXXXX)
    chmod 755 "$ACME_E2E_WORK"
    echo "demo: www-data cannot reach $DEMO_DIR; working in $ACME_E2E_WORK"
fi

say "Building (./configure && make; log in demo/build.log)"
buildlog=$(mktemp)
if ! { ./configure && make; } >"$buildlog" 2>&1; then
    tail -n 30 "$buildlog"
    rm -f "$buildlog"
    die "build failed"
fi

E2E_NO_SUMMARY=1
# shellcheck source=../test/e2e/lib.sh
. "$TOP/test/e2e/lib.sh"
e2e_init
demo_exit() {
    if [ "$KEEP" = 1 ] && [ "${DEMO_OK:-0}" = 1 ]; then
        local p
        : > "$DEMO_DIR/demo.pids"
        for p in "${E2E_PIDS[@]}"; do echo "${p%%:*} ${p#*:}" >> "$DEMO_DIR/demo.pids"; done
        echo "apache $(apache_pid demo) $(apache_dir demo)/httpd.conf" >> "$DEMO_DIR/demo.pids"
        printf '\nStill running (--keep). Try:\n'
        printf '  curl --cacert %s --resolve %s:%s:127.0.0.1 https://%s:%s/\n' \
            "$PEBBLE_ROOT" "$DOMAIN" "$HTTPS_PORT" "$DOMAIN" "$HTTPS_PORT"
        printf 'Stop with: scripts/demo.sh --stop\n'
        return
    fi
    e2e_cleanup
}
trap demo_exit EXIT
mv "$buildlog" "$DEMO_DIR/build.log"
STORE=$WORK/store

say "Starting the test CA: pebble on https://localhost:$PEBBLE_PORT/dir, DNS on 127.0.0.1:$DNS_PORT"
challtestsrv_start
pebble_start
echo "pebble's root certificate: $PEBBLE_ROOT"

WEBROOT=$(www_dir demo)
printf '<!doctype html><title>mod_acme demo</title><h1>mod_acme demo: %s</h1>\n' "$DOMAIN" > "$WEBROOT/index.html"
chmod 644 "$WEBROOT/index.html"

http_vhost_config() {
    cat <<EOF
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $DOMAIN
    DocumentRoot "$WEBROOT"
</VirtualHost>
EOF
}

# ssl_vhost_config: the https vhost. With acmectl the certificate files are
# named; with the module, ACMEDomain replaces them.
ssl_vhost_config() {
    if [ "$DEMO_METHOD" = module ]; then
        cat <<EOF
LoadModule acme_module "$TOP/mod_acme.so"
# the test CA (pebble) and the certificate of its API
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEAgreeToS on
ACMEContact demo@example.test
ACMEStoreDir "$STORE"
# pebble validates http-01 on port $HTTP01_PORT instead of 80
ACMEPortMap 80:$HTTP01_PORT
# the worker runs as www-data: a copy of acmectl it can execute
ACMEWorkerBinary "$WORK/acmectl"

<VirtualHost 127.0.0.1:$HTTPS_PORT>
    ServerName $DOMAIN
    DocumentRoot "$WEBROOT"
    SSLEngine on
    ACMEDomain
</VirtualHost>
EOF
    else
        cat <<EOF
<VirtualHost 127.0.0.1:$HTTPS_PORT>
    ServerName $DOMAIN
    DocumentRoot "$WEBROOT"
    SSLEngine on
    SSLCertificateFile "$STORE/live/$DOMAIN/fullchain.pem"
    SSLCertificateKeyFile "$STORE/live/$DOMAIN/privkey.pem"
</VirtualHost>
EOF
    fi
}

# the module's worker runs as www-data: it needs an acmectl it can execute
cp "$TOP/acmectl" "$WORK/acmectl" && chmod 755 "$WORK/acmectl" || die "cannot copy acmectl to $WORK"

say "Starting Apache on http://127.0.0.1:$HTTP01_PORT/ (webroot $WEBROOT)"
apache_start demo "$HTTP01_PORT" "$(http_vhost_config)" || die "Apache did not start"

# obtain_certificate: step 4. With DEMO_METHOD=module there is nothing to
# do here: the module obtains the certificate after the restart below.
obtain_certificate() {
    [ "$DEMO_METHOD" = module ] && return 0
    say "Obtaining a certificate for $DOMAIN: acmectl certonly --webroot"
    echo "\$ acmectl certonly --webroot -w $WEBROOT -d $DOMAIN --config-dir $STORE --server $ACME_SERVER ..."
    "$TOP/acmectl" certonly --webroot -w "$WEBROOT" -d "$DOMAIN" \
        --config-dir "$STORE" --server "$ACME_SERVER" --ca-bundle "$ACME_CA_BUNDLE" \
        --email demo@example.test --agree-tos --non-interactive </dev/null
}
obtain_certificate || die "acmectl could not obtain the certificate"

if [ "$DEMO_METHOD" != module ]; then
    [ -s "$STORE/live/$DOMAIN/fullchain.pem" ] || die "no $STORE/live/$DOMAIN/fullchain.pem"
    echo "Store:"
    ls -l "$STORE/live/$DOMAIN/" | sed 's/^/    /'
fi

if [ "$DEMO_METHOD" = module ]; then
    say "Adding an SSL vhost with ACMEDomain on 127.0.0.1:$HTTPS_PORT, restarting Apache gracefully"
else
    say "Adding the SSL vhost on 127.0.0.1:$HTTPS_PORT and restarting Apache gracefully"
fi
apache_reload demo "$(http_vhost_config)
$(ssl_vhost_config)" "$HTTP01_PORT $HTTPS_PORT" || die "graceful restart failed"

if [ "$DEMO_METHOD" = module ]; then
    # Until the certificate exists: a temporary self-signed certificate, 503.
    printf '%s\n' "$(ssl_vhost_config)" | sed -n '/<VirtualHost/,/<\/VirtualHost>/p' | sed 's/^/    /'
    fb=$(curl -sk --max-time 5 -w ' [HTTP %{http_code}]' \
         --resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" "https://$DOMAIN:$HTTPS_PORT/" 2>/dev/null)
    echo "curl -k https://$DOMAIN:$HTTPS_PORT/ right away -> $fb"
    say "mod_acme obtains the certificate by itself (waiting up to 60 s)"
    ok=0
    for _ in $(seq 120); do
        if openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$DOMAIN" \
               -CAfile "$PEBBLE_ROOT" -verify_return_error </dev/null >/dev/null 2>&1; then
            ok=1; break
        fi
        sleep 0.5
    done
    echo "Apache's error log (mod_acme and the restart):"
    grep -E 'mod_acme: .*(supervisor started|account|obtained|activated|failed)|AH00493' \
        "$(apache_dir demo)/logs/error.log" | sed -e 's/^\[[^]]*\] //' -e 's/^/    /'
    [ "$ok" = 1 ] || echo "(no certificate from the test CA yet: see $(apache_dir demo)/logs/error.log)"
    echo "Store:"
    ls -l "$STORE/live/$DOMAIN/" 2>/dev/null | sed 's/^/    /'
fi

say "Connecting: openssl s_client -connect 127.0.0.1:$HTTPS_PORT -servername $DOMAIN -CAfile pebble-root.pem"
out=$(openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$DOMAIN" \
      -CAfile "$PEBBLE_ROOT" -verify_hostname "$DOMAIN" </dev/null 2>&1)
cert=$(printf '%s\n' "$out" | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p')
if [ -z "$cert" ]; then
    printf '%s\n' "$out" | tail -n 20
    die "no certificate received from 127.0.0.1:$HTTPS_PORT"
fi
printf '%s\n' "$cert" | openssl x509 -noout -subject -issuer -dates -ext subjectAltName
verify=$(printf '%s\n' "$out" | grep -m1 'Verify return code:' | sed 's/^[[:space:]]*//')
echo "$verify"
page=$(curl -s --cacert "$PEBBLE_ROOT" --resolve "$DOMAIN:$HTTPS_PORT:127.0.0.1" \
       "https://$DOMAIN:$HTTPS_PORT/")
echo "curl https://$DOMAIN:$HTTPS_PORT/ -> $page"

if [ "$verify" != "Verify return code: 0 (ok)" ]; then
    die "the served certificate does not verify"
fi
DEMO_OK=1
say "Demo OK ($DEMO_METHOD): Apache serves a certificate for $DOMAIN from the test CA, verified."
echo "Files: $WORK (store: $STORE)"
exit 0
