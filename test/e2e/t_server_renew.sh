#!/usr/bin/env bash
# acmectl and a running server share one store without racing:
# - `acmectl renew --cert-name NAME` on a lineage the module manages asks
#   the server's supervisor to renew it (request in state/NAME.json,
#   SIGUSR2) and waits for the outcome; the server renews and activates it
#   with its own single graceful restart;
# - writers take STORE/.lock; one that has to wait says who holds it.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! id "$APACHE_USER" >/dev/null 2>&1; then
    t_begin "acmectl and the server share the store"
    t_skip "needs root and the user $APACHE_USER"
    t_summary; exit 0
fi
e2e_init
challtestsrv_start
pebble_start

HTTPS_PORT=${SR_HTTPS_PORT:-8449}
STORE=$WORK/store
NAME=sr.example.test
cp "$TOP/acmectl" "$WORK/acmectl" && chmod 755 "$WORK/acmectl"
acmectl_ca_args

config() {
    cat <<CONF
LoadModule acme_module "$TOP/mod_acme.so"
LogLevel info ssl:warn
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$STORE"
ACMEAgreeToS on
ACMEPortMap 80:$HTTP01_PORT
ACMEWorkerBinary "$WORK/acmectl"
<VirtualHost 127.0.0.1:$HTTPS_PORT>
    ServerName $NAME
    SSLEngine on
    ACMEDomain $NAME
</VirtualHost>
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $NAME
</VirtualHost>
CONF
}

version() {
    readlink "$STORE/live/$NAME/cert.pem" 2>/dev/null | sed -n 's/.*cert\([0-9]*\)\.pem$/\1/p'
}
version_is() { test "$(version)" = "$1"; }
restarts() { grep -c "SIGUSR1 received" "$(apache_dir sr)/logs/error.log"; }
restarted_since() { [ "$(restarts)" -gt "$1" ]; }
serves_serial() { [ "$(served_serial)" = "$1" ]; }
served_serial() {
    echo | openssl s_client -connect "127.0.0.1:$HTTPS_PORT" -servername "$NAME" 2>/dev/null \
        | openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}

t_begin "the module obtains the first certificate"
apache_start sr "$HTTPS_PORT $HTTP01_PORT" "$(config)" || e2e_die "apache did not start"
if wait_until 60 version_is 1; then t_pass; else
    t_fail "no certificate within 60 s"; e2e_show_file "$(apache_dir sr)/logs/error.log" 20
fi

t_begin "acmectl renew --cert-name on a module lineage: the server renews it"
before_restarts=$(restarts)
before_serial=$(served_serial)
acmectl_run renew --cert-name "$NAME" --config-dir "$STORE"
if [ "$LAST_RC" -ne 0 ]; then
    t_fail "acmectl exited $LAST_RC: $(cat "$WORK/last.err")"
elif ! version_is 2; then
    t_fail "archive version is $(version), want 2"
elif ! grep -q "Asked the server" "$WORK/last.out"; then
    t_fail "acmectl did not ask the server: $(cat "$WORK/last.out")"
elif ! wait_until 20 restarted_since "$before_restarts"; then
    t_fail "no graceful restart after the server's renewal"
else
    # the restart activates it: the served serial changes to cert2's
    want=$(openssl x509 -in "$STORE/live/$NAME/cert.pem" -noout -serial | cut -d= -f2)
    if wait_until 20 serves_serial "$want" \
       && [ "$want" != "$before_serial" ] \
       && [ "$(restarts)" -eq $((before_restarts + 1)) ]; then
        t_pass
    else
        t_fail "served $(served_serial), want $want; restarts $(restarts) (was $before_restarts)"
    fi
fi

# hold_lock SECONDS: holds the store lock in the background as "test
# holder" (APR locks with flock() here); sets $holder.
hold_lock() {
    python3 - "$STORE/.lock" "$1" <<'PY' &
import fcntl, sys, time, os
f = open(sys.argv[1], "r+")
fcntl.flock(f, fcntl.LOCK_EX)
f.truncate(0); f.write("pid %d (test holder)\n" % os.getpid()); f.flush()
time.sleep(float(sys.argv[2]))
PY
    holder=$!
}

# waits_for_lock SECONDS ACMECTL_ARGS...: runs acmectl while the lock is
# held for SECONDS; fails (t_fail) unless it said who holds the lock and
# waited for at least SECONDS - 1.
waits_for_lock() {
    local secs=$1 start took
    shift
    hold_lock "$secs"
    sleep 0.5
    start=$(date +%s)
    acmectl_run "$@"
    took=$(( $(date +%s) - start ))
    wait "$holder"
    if ! grep -q "Waiting for the store lock (held by pid [0-9]* (test holder))" "$WORK/last.out"; then
        t_fail "no 'waiting ... held by' message: $(cat "$WORK/last.out")"; return 1
    fi
    if [ "$took" -lt $((secs - 1)) ]; then
        t_fail "acmectl $1 did not wait for the lock (took ${took}s)"; return 1
    fi
}

t_begin "a writer that finds the store locked says who holds it, then waits"
waits_for_lock 3 certonly --webroot -w "$WORK" -d locked.example.test --config-dir "$STORE" \
    "${ACMECTL_CA_ARGS[@]}" --preferred-challenges http-01 --keep-until-expiring -n \
    && t_pass

t_begin "acmectl delete waits for the store lock too (not while the supervisor writes)"
# the module's lineage, the last thing this file uses
apache_stop sr
if [ ! -d "$STORE/live/$NAME" ]; then
    t_fail "harness: no lineage $NAME to delete"
elif waits_for_lock 2 delete --cert-name "$NAME" --config-dir "$STORE"; then
    if [ -e "$STORE/live/$NAME" ]; then
        t_fail "the lineage is still there after the lock was released"
    else
        t_pass
    fi
fi

t_summary
