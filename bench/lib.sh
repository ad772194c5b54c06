# shellcheck shell=bash
# bench/lib.sh -- shared by bench/run.sh: ports, test/e2e/lib.sh (pebble,
# challtestsrv, base Apache config, cleanup), the three configurations
# (mod_acme, mod_md, plain mod_ssl with certificate files), timing, PSS.

# Ports no test uses (test/e2e uses 5001/5002, 8053-8055, 8443, 14000,
# 15000, and random high ports in a few files).
export DNS_PORT=17053 CTS_MGMT_PORT=17055 PEBBLE_PORT=17000 PEBBLE_MGMT_PORT=17001
export HTTP01_PORT=17002 TLSALPN_PORT=17004 BIND_PORT=17054
HTTPS_PORT=17443
HTTP_PORT=17080
DEAD_CA="https://localhost:17009/dir"     # nothing listens there
export ACME_E2E_WORK=${BENCH_WORK:-/tmp/mod_acme-bench}
export E2E_NO_SUMMARY=1
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${BENCH_BUILD:-/tmp/mod_acme-bench-build}
# shellcheck source=../test/e2e/lib.sh
. "$BENCH_DIR/../test/e2e/lib.sh"
MD_MOD=$APACHE_MODDIR/mod_md.so

bn() { printf 'n%05d.bench.test' "$1"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
blog() { printf '# %s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# names_file N FILE: the N names, one per line.
names_file() { local i; for i in $(seq "$1"); do bn "$i"; echo; done > "$2"; }

# record METRIC PARAM TOOL REP VALUE UNIT
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$RESULTS"; blog "result: $*"; }

# --- configurations --------------------------------------------------------

# conf_acme STORE N CA: mod_acme with N ACMEDomain vhosts.
conf_acme() {
    local store=$1 n=$2 ca=$3 i
    cat <<EOF
LoadModule acme_module "$WORK/mod_acme.so"
ACMECertificateAuthority $ca
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$store"
ACMEAgreeToS on
ACMEContact bench@example.test
ACMEPortMap 80:$HTTP01_PORT
ACMEChallenges http-01
ACMEWorkerBinary "$WORK/acmectl"
ACMEMaxWorkers ${ACME_WORKERS:-4}
EOF
    for i in $(seq "$n"); do
        printf '<VirtualHost 127.0.0.1:%s>\n  ServerName %s\n  SSLEngine on\n  ACMEDomain\n</VirtualHost>\n' \
            "$HTTPS_PORT" "$(bn "$i")"
    done
}

# conf_md STORE N CA: mod_md with N MDomain + N vhosts.
conf_md() {
    local store=$1 n=$2 ca=$3 i
    cat <<EOF
LoadModule md_module "$MD_MOD"
MDCertificateAuthority $ca
MDCACertificateFile "$ACME_CA_BUNDLE"
MDCertificateAgreement accepted
MDContactEmail bench@example.test
MDPortMap http:$HTTP01_PORT
MDCAChallenges http-01
MDPrivateKeys secp256r1
MDStoreDir "$store"
MDMessageCmd "$WORK/md-msg.sh"
EOF
    for i in $(seq "$n"); do
        printf 'MDomain %s\n<VirtualHost 127.0.0.1:%s>\n  ServerName %s\n  SSLEngine on\n</VirtualHost>\n' \
            "$(bn "$i")" "$HTTPS_PORT" "$(bn "$i")"
    done
}

# conf_plain DIR N: no ACME module; vhosts with SSLCertificateFile
# DIR/NAME/fullchain.pem (gen_store.py plain, or Certbot's live/).
conf_plain() {
    local dir=$1 n=$2 i
    for i in $(seq "$n"); do
        printf '<VirtualHost 127.0.0.1:%s>\n  ServerName %s\n  SSLEngine on\n  SSLCertificateFile "%s/%s/fullchain.pem"\n  SSLCertificateKeyFile "%s/%s/privkey.pem"\n</VirtualHost>\n' \
            "$HTTPS_PORT" "$(bn "$i")" "$dir" "$(bn "$i")" "$dir" "$(bn "$i")"
    done
}

# --- Apache ----------------------------------------------------------------

# b_write NAME EXTRA: lib.sh's base config (ports: http-01, https, http).
b_write() {
    apache_write_conf "$1" "$HTTP01_PORT $HTTPS_PORT $HTTP_PORT" "$2"
    echo "MaxKeepAliveRequests 0" >> "$(apache_dir "$1")/httpd.conf"
}
b_conf() { printf '%s/httpd.conf\n' "$(apache_dir "$1")"; }
# b_start NAME: apache2 -k start (returns when the parent has daemonized).
b_start() {
    "$APACHE_BIN" -f "$(b_conf "$1")" -k start >>"$(apache_dir "$1")/logs/start.log" 2>&1 </dev/null
    E2E_APACHES+=("$1")
}
b_graceful() { "$APACHE_BIN" -f "$(b_conf "$1")" -k graceful >>"$(apache_dir "$1")/logs/start.log" 2>&1 </dev/null; }
b_stop() { apache_stop "$1" >/dev/null 2>&1; }
# b_configtest NAME: prints the milliseconds apache2 -t takes (or FAIL).
b_configtest() {
    local t0 t1
    t0=$(now_ms)
    if ! "$APACHE_BIN" -t -f "$(b_conf "$1")" >"$(apache_dir "$1")/logs/configtest.log" 2>&1; then
        echo FAIL; return 1
    fi
    t1=$(now_ms)
    echo $((t1 - t0))
}

# retire DIR: moves a store out of the way instead of deleting it. Files
# deleted moments before a run would slow that run's own file creation:
# ext4 passes over inodes freed in the last 5 to 30 seconds when it
# allocates one (recently_deleted() in fs/ext4/ialloc.c), and a run that
# follows the deletion of 200 or 10,000 lineages pays for that in every
# file it creates. trash_empty deletes them all when a part ends.
retire() {
    [ -e "$1" ] || return 0
    mkdir -p "$WORK/trash"
    mv "$1" "$WORK/trash/$(basename "$1").$(date +%s%N)"
}
trash_empty() {
    [ -d "$WORK/trash" ] || return 0
    rm -rf "$WORK/trash"
    sleep 30      # the next part's runs do not pay for these (see retire)
}

# ca_cpu_ms: the CPU time (user + system, ms) pebble has used so far.
ca_cpu_ms() {
    local p
    p=$(e2e_pid_of pebble) || { echo 0; return; }
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%d\n", ($14 + $15) * 1000 / hz }' "/proc/$p/stat" 2>/dev/null || echo 0
}

# pss_tree PID: total PSS (kB) of PID and all its descendants.
pss_tree() {
    local root=$1 pids p total=0 v
    pids=$(ps -e -o pid=,ppid= | awk -v r="$root" '
        { par[$1] = $2 } END { keep[r] = 1; changed = 1
          while (changed) { changed = 0
            for (p in par) if (!(p in keep) && (par[p] in keep)) { keep[p] = 1; changed = 1 } }
          for (p in keep) print p }')
    for p in $pids; do
        v=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# bench_prepare: fresh work dir, challtestsrv, binaries copied where
# www-data can execute them.
bench_prepare() {
    e2e_init
    [ -x "$BUILD/acmectl" ] && [ -f "$BUILD/mod_acme.so" ] \
        || e2e_die "run bench/build.sh first ($BUILD)"
    cp "$BUILD/acmectl" "$BUILD/mod_acme.so" "$WORK/" && chmod 755 "$WORK/acmectl"
    cat > "$WORK/md-msg.sh" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$*" >> "$WORK/md-msg.log"
EOF
    chmod 755 "$WORK/md-msg.sh"
    mkdir -p "$WORK/res"
    RESULTS=${RESULTS:-$WORK/res/raw.tsv}
    export RESULTS
    challtestsrv_start
}
