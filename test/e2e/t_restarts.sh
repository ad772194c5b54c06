#!/usr/bin/env bash
# Restarts are what the module does to the server on its own; they must be
# few and safe:
# - 100 certificates obtained in one pass: exactly one graceful restart;
# - a renewal that keeps failing never restarts the server;
# - when the configuration test would fail (an administrator's half-edited
#   httpd.conf), a renewed certificate is stored but the server is not
#   restarted: a graceful restart with a broken configuration stops httpd.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! id "$APACHE_USER" >/dev/null 2>&1; then
    t_begin "restarts"
    t_skip "needs root and the user $APACHE_USER"
    t_summary; exit 0
fi
e2e_init
challtestsrv_start
pebble_start

HTTPS_PORT=${RESTARTS_HTTPS_PORT:-8451}
STORE=$WORK/store
N=${RESTARTS_N:-100}
cp "$TOP/acmectl" "$WORK/acmectl" && chmod 755 "$WORK/acmectl"

# N certificates in the main server (names no vhost serves, as a mail
# server's would be), one SSL vhost, the http-01 port.
config() {
    local i extra=${1:-}
    echo "LoadModule acme_module \"$TOP/mod_acme.so\""
    echo "LogLevel info ssl:warn acme:debug"
    echo "ACMECertificateAuthority $ACME_SERVER"
    echo "ACMECACertificateFile \"$ACME_CA_BUNDLE\""
    echo "ACMEStoreDir \"$STORE\""
    echo "ACMEAgreeToS on"
    echo "ACMEPortMap 80:$HTTP01_PORT"
    echo "ACMECheckInterval 2s"
    echo "ACMEMaxWorkers 8"
    echo "ACMEWorkerBinary \"$WORK/acmectl\""
    for i in $(seq "$N"); do
        echo "ACMEDomain m$i.example.test"
    done
    cat <<CONF
<VirtualHost 127.0.0.1:$HTTPS_PORT>
    ServerName site.example.test
    SSLEngine on
    ACMEDomain site.example.test
</VirtualHost>
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName site.example.test
</VirtualHost>
$extra
CONF
}

errlog() { echo "$(apache_dir rs)/logs/error.log"; }
restarts() { grep -c "SIGUSR1 received" "$(errlog)"; }
lineages() { find "$STORE/live" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l; }
all_live() { [ "$(lineages)" -eq $((N + 1)) ]; }
version_of() { readlink "$STORE/live/$1/cert.pem" 2>/dev/null | sed -n 's/.*cert\([0-9]*\)\.pem$/\1/p'; }
version_is() { [ "$(version_of "$1")" = "$2" ]; }
logged() { grep -q "$1" "$(errlog)"; }

t_begin "$((N + 1)) certificates obtained in one pass: exactly one graceful restart"
start=$SECONDS
apache_start rs "$HTTPS_PORT $HTTP01_PORT" "$(config)" || e2e_die "apache did not start"
if ! wait_until 240 all_live; then
    t_fail "only $(lineages) of $((N + 1)) lineages after 240 s"
    e2e_show_file "$(errlog)" 10
else
    took=$((SECONDS - start))
    sleep 3
    a=$(grep -c "certificate(s) activated, graceful restart" "$(errlog)")
    if [ "$(restarts)" -ne 1 ] || [ "$a" -ne 1 ]; then
        t_fail "$(restarts) graceful restarts ($a activation lines), want 1"
    elif ! grep -q "$((N + 1)) certificate(s) activated, graceful restart" "$(errlog)"; then
        t_fail "the one restart did not activate all $((N + 1)): $(grep 'activated' "$(errlog)" | tail -n 2)"
    else
        e2e_log "$((N + 1)) certificates in ${took}s"
        t_pass
    fi
fi

t_begin "a renewal that keeps failing never restarts the server"
before=$(restarts)
apache_stop rs
# the CA is gone; one certificate is due (its state says so)
pebble_stop
python3 -c '
import json, os, sys
p = sys.argv[1]; st = json.load(open(p))
st["renew_requests"] = st.get("renew_requests", 0) + 1
json.dump(st, open(p + ".tmp", "w")); os.replace(p + ".tmp", p)
' "$STORE/state/site.example.test.json"
apache_start rs "$HTTPS_PORT $HTTP01_PORT" "$(config)" || e2e_die "apache did not start"
before=$(restarts)
# two failed attempts, each backed off; force the second by clearing next_try
wait_until 20 logged "site.example.test: obtaining the certificate failed" || true
sleep 6
if ! logged "site.example.test: obtaining the certificate failed"; then
    t_fail "no failed attempt logged"
elif [ "$(restarts)" -ne "$before" ]; then
    t_fail "the server restarted $(( $(restarts) - before )) time(s) for failing renewals"
else
    t_pass
fi

t_begin "a configuration that would fail its test is detected: stored, not restarted"
pebble_start
apache_stop rs
python3 -c '
import json, os, sys
p = sys.argv[1]; st = json.load(open(p))
for k in ("next_try", "failures"): st.pop(k, None)
st["renew_requests_done"] = st.get("renew_requests", 0)
json.dump(st, open(p + ".tmp", "w")); os.replace(p + ".tmp", p)
' "$STORE/state/site.example.test.json"
# a new CA: every lineage is from "another CA" now, so they are due; keep
# it to one: restart with N=0
N=0
apache_start rs "$HTTPS_PORT $HTTP01_PORT" "$(config)" || e2e_die "apache did not start"
wait_until 60 logged "1 certificate(s) activated, graceful restart" || true
apache_stop rs
before_version=$(version_of site.example.test)
apache_start rs "$HTTPS_PORT $HTTP01_PORT" "$(config)" || e2e_die "apache did not start"
wait_until 20 logged "supervisor started" || true
sleep 1
# the administrator breaks the configuration while the server runs, then
# a renewal happens (asked for with acmectl, as a control panel would)
echo "ThisIsNotADirective on" >> "$(apache_dir rs)/httpd.conf"
acmectl_run renew --cert-name site.example.test --config-dir "$STORE"
before=$(restarts)
pid=$(apache_pid rs)
if ! wait_until 60 version_is site.example.test $((before_version + 1)); then
    t_fail "the requested renewal did not happen (version $(version_of site.example.test))"
    e2e_show_file "$(errlog)" 10
elif ! wait_until 10 logged "the configuration test fails"; then
    t_fail "no 'configuration test fails' error logged"
    e2e_show_file "$(errlog)" 10
else
    sleep 3
    if [ "$(restarts)" -ne "$before" ]; then
        t_fail "the server was restarted despite the failing configuration test"
    elif ! kill -0 "$pid" 2>/dev/null; then
        t_fail "httpd is gone"
    else
        t_pass
    fi
fi
apache_stop rs
t_summary
