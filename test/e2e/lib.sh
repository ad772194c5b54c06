# shellcheck shell=bash
# test/e2e/lib.sh -- sourced library for the end-to-end tests.
#
# Everything runs on loopback and high ports, in a work directory that is
# created fresh by e2e_init:
#
#   challtestsrv  DNS on 127.0.0.1:8053 (every name -> 127.0.0.1, no AAAA),
#                 management API on 127.0.0.1:8055
#   pebble        ACME on https://localhost:14000/dir, management on :15000,
#                 validates http-01 on port 5002, tls-alpn-01 on port 5001
#   apache        Debian's /usr/sbin/apache2 with a private config per instance
#   named         (bind_start, optional) authoritative for example.test on
#                 127.0.0.1:8054 (BIND_PORT), RFC 2136 updates with TSIG
#
# Usage in a test file:
#
#   . "$(dirname "$0")/lib.sh"
#   e2e_init                    # fresh $WORK, API cert, cleanup trap
#   challtestsrv_start
#   pebble_start [VAR=VAL ...]  # e.g. PEBBLE_EAB=1, PEBBLE_WFE_NONCEREJECT=50,
#                               # PEBBLE_DNS=127.0.0.1:$BIND_PORT (after bind_start)
#   t_begin "something"; ...; t_pass | t_fail "reason"
#   t_summary                   # prints "e2e: N passed, N failed"
#
# Nothing here is specific to acmectl or the module; the acmectl helpers at
# the end (acmectl_run, ACMECTL_CA_ARGS) only wrap the binary.

set -u

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$E2E_LIB_DIR/../.." && pwd)
export TOP

# Ports (all on 127.0.0.1).
DNS_PORT=${DNS_PORT:-8053}
CTS_MGMT_PORT=${CTS_MGMT_PORT:-8055}
PEBBLE_PORT=${PEBBLE_PORT:-14000}
PEBBLE_MGMT_PORT=${PEBBLE_MGMT_PORT:-15000}
HTTP01_PORT=${HTTP01_PORT:-5002}
TLSALPN_PORT=${TLSALPN_PORT:-5001}
BIND_PORT=${BIND_PORT:-8054}
export DNS_PORT CTS_MGMT_PORT PEBBLE_PORT PEBBLE_MGMT_PORT HTTP01_PORT TLSALPN_PORT BIND_PORT

ACME_SERVER="https://localhost:$PEBBLE_PORT/dir"
export ACME_SERVER

# The EAB keys of Pebble's example configuration
# (/usr/share/doc/pebble/examples/pebble-config-external-account-bindings.json).
EAB_KID_1=kid-1
EAB_KEY_1=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
EAB_KID_2=kid-2
EAB_KEY_2=b10lLJs8l1GPIzsLP0s6pMt8O0XVGnfTaCeROxQM0BIt2XrJMDHJZBM5NuQmQJQH
export EAB_KID_1 EAB_KEY_1 EAB_KID_2 EAB_KEY_2

APACHE_BIN=${APACHE_BIN:-/usr/sbin/apache2}
APACHE_MODDIR=${APACHE_MODDIR:-/usr/lib/apache2/modules}
# The unprivileged user Apache's children run as (only when we are root).
APACHE_USER=${APACHE_USER:-www-data}
APACHE_GROUP=${APACHE_GROUP:-www-data}

# ---------------------------------------------------------------------------
# Output helpers

e2e_log() { printf '# %s\n' "$*"; }
# e2e_die MESSAGE: the harness cannot go on. In a test file this counts as a
# failed case and prints the summary, so that the cases run so far count;
# scripts that are not test files set E2E_NO_SUMMARY=1.
e2e_die() {
    printf '# fatal: %s\n' "$*"
    if [ "${E2E_NO_SUMMARY:-0}" != 1 ]; then
        T_NAME=${T_NAME:-harness}
        t_fail "$*"
        t_summary
    else
        printf 'error: %s\n' "$*" >&2
    fi
    exit 1
}

# e2e_show_file FILE [MAXLINES]: prints a file's tail as "# " comment lines.
e2e_show_file() {
    local f=$1 n=${2:-20}
    [ -f "$f" ] || return 0
    tail -n "$n" "$f" | sed "s|^|#   $(basename "$f"): |"
}

# ---------------------------------------------------------------------------
# Test bookkeeping: TAP-like lines and one summary line.

T_PASSED=0
T_FAILED=0
T_NAME=""

# t_begin NAME: starts a test case.
t_begin() {
    if [ -n "$T_NAME" ]; then
        t_fail "test case ended without t_pass/t_fail"
    fi
    T_NAME=$1
}

# t_pass: the current case passed; prints "ok - NAME".
t_pass() {
    printf 'ok - %s\n' "${T_NAME:-unnamed}"
    T_PASSED=$((T_PASSED + 1))
    T_NAME=""
}

# t_fail REASON: the current case failed; prints "not ok - NAME: REASON".
t_fail() {
    printf 'not ok - %s: %s\n' "${T_NAME:-unnamed}" "$*"
    T_FAILED=$((T_FAILED + 1))
    T_NAME=""
}

# t_skip REASON: the current case cannot run here (counted as neither).
t_skip() {
    printf 'ok - %s # SKIP %s\n' "${T_NAME:-unnamed}" "$*"
    T_NAME=""
}

# t_check DESCRIPTION CMD...: runs CMD; on failure records t_fail with
# DESCRIPTION and returns 1, so cases read as
#   t_check "cert verifies" check_cert_verifies ... || return
t_check() {
    local what=$1; shift
    if "$@"; then return 0; fi
    t_fail "$what"
    return 1
}

# t_summary: prints exactly "e2e: N passed, N failed"; non-zero if any failed.
t_summary() {
    if [ -n "$T_NAME" ]; then
        t_fail "test case ended without t_pass/t_fail"
    fi
    printf 'e2e: %d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
    [ "$T_FAILED" -eq 0 ]
}

# ---------------------------------------------------------------------------
# Work directory, cleanup

E2E_PIDS=()         # "name:pid" of processes we started
E2E_APACHES=()      # names of apache instances we started
E2E_TMPDIRS=()      # extra directories to remove on cleanup

# Can the unprivileged Apache user reach (traverse) DIR?
e2e_www_can_reach() {
    [ "$(id -u)" -eq 0 ] || return 0
    id "$APACHE_USER" >/dev/null 2>&1 || return 0
    runuser -u "$APACHE_USER" -- test -x "$1" 2>/dev/null
}

# e2e_init: creates $WORK fresh (ACME_E2E_WORK, default test/e2e/work), the
# pebble API certificate, and installs the cleanup trap.
e2e_init() {
    local want=${ACME_E2E_WORK:-$TOP/test/e2e/work}
    mkdir -p "$want" || e2e_die "cannot create $want"
    want=$(cd "$want" && pwd)
    WORK=$want
    # Apache's children (and later the module's challenge answering) run as
    # www-data and must read files under $WORK; a clone under /root is not
    # traversable by them. Fall back to /tmp then.
    if ! e2e_www_can_reach "$WORK"; then
        if [ -n "${ACME_E2E_WORK:-}" ]; then
            e2e_log "warning: $APACHE_USER cannot reach $WORK; webroot tests may fail"
        else
            WORK=$(mktemp -d /tmp/mod_acme-e2e.XXXXXX)
            E2E_TMPDIRS+=("$WORK")
            e2e_log "note: $APACHE_USER cannot reach $want, using $WORK"
        fi
    fi
    case "$WORK" in
        /|"") e2e_die "refusing to use '$WORK' as work dir" ;;
    esac
    # Fresh: remove what a previous run left (only our own layout).
    rm -rf "${WORK:?}"/* 2>/dev/null
    chmod 755 "$WORK"
    export WORK
    trap 'e2e_cleanup' EXIT
    trap 'e2e_cleanup; trap - INT; kill -INT $$' INT
    trap 'e2e_cleanup; exit 143' TERM
    pebble_api_cert
}

# e2e_cleanup: stops everything we started (apache, pebble, challtestsrv).
# Safe to call more than once.
e2e_cleanup() {
    local a p
    for a in "${E2E_APACHES[@]}"; do
        apache_stop "$a" >/dev/null 2>&1
    done
    E2E_APACHES=()
    for p in "${E2E_PIDS[@]}"; do
        e2e_kill_pid "${p#*:}"
    done
    E2E_PIDS=()
    for p in "${E2E_TMPDIRS[@]}"; do
        case "$p" in /tmp/mod_acme-e2e*) [ "${ACME_E2E_KEEP:-0}" = 1 ] || rm -rf "$p" ;; esac
    done
    E2E_TMPDIRS=()
}

# e2e_kill_pid PID: TERM, wait up to 5 s, then KILL.
e2e_kill_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill "$pid" 2>/dev/null
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

e2e_forget_pid() {
    local name=$1 p keep=()
    for p in "${E2E_PIDS[@]}"; do
        [ "${p%%:*}" = "$name" ] || keep+=("$p")
    done
    E2E_PIDS=("${keep[@]}")
}

e2e_pid_of() {
    local p
    for p in "${E2E_PIDS[@]}"; do
        [ "${p%%:*}" = "$1" ] && { echo "${p#*:}"; return 0; }
    done
    return 1
}

# port_open PORT [HOST]: is something accepting TCP connections there?
port_open() {
    (exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
}

# wait_port PORT [SECONDS]: waits until the port accepts connections.
wait_port() {
    local port=$1 secs=${2:-15} i
    for i in $(seq $((secs * 10))); do
        port_open "$port" && return 0
        sleep 0.1
    done
    return 1
}

# wait_port_free PORT [SECONDS]
wait_port_free() {
    local port=$1 secs=${2:-10} i
    for i in $(seq $((secs * 10))); do
        port_open "$port" || return 0
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------------------
# Pebble's API certificate: a throwaway root CA and a localhost certificate.

pebble_api_cert() {
    local d=$WORK/pebble-api
    mkdir -p "$d"
    if [ ! -s "$d/root.pem" ]; then
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/root.key" -out "$d/root.pem" -days 2 \
            -subj "/CN=mod_acme e2e throwaway API root" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" \
            >/dev/null 2>&1 || e2e_die "openssl: cannot make the API root"
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/localhost.key" -out "$d/localhost.csr" \
            -subj "/CN=localhost" >/dev/null 2>&1 \
            || e2e_die "openssl: cannot make the API key"
        printf '%s\n' \
            "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature,keyEncipherment" \
            "extendedKeyUsage=serverAuth" \
            "subjectAltName=DNS:localhost,IP:127.0.0.1" > "$d/ext.cnf"
        openssl x509 -req -in "$d/localhost.csr" -CA "$d/root.pem" \
            -CAkey "$d/root.key" -CAcreateserial -days 2 \
            -extfile "$d/ext.cnf" -out "$d/localhost.pem" >/dev/null 2>&1 \
            || e2e_die "openssl: cannot sign the API certificate"
    fi
    ACME_CA_BUNDLE=$d/root.pem
    export ACME_CA_BUNDLE
}

# ---------------------------------------------------------------------------
# pebble-challtestsrv: DNS for pebble's validation.

challtestsrv_start() {
    if e2e_pid_of challtestsrv >/dev/null; then return 0; fi
    port_open "$DNS_PORT" && e2e_die "port $DNS_PORT is in use (another test run?)"
    port_open "$CTS_MGMT_PORT" && e2e_die "port $CTS_MGMT_PORT is in use"
    pebble-challtestsrv \
        -dns01 "127.0.0.1:$DNS_PORT" \
        -management "127.0.0.1:$CTS_MGMT_PORT" \
        -http01 "" -https01 "" -tlsalpn01 "" \
        -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        >>"$WORK/challtestsrv.log" 2>&1 </dev/null &
    E2E_PIDS+=("challtestsrv:$!")
    wait_port "$CTS_MGMT_PORT" 10 || {
        e2e_show_file "$WORK/challtestsrv.log"
        e2e_die "pebble-challtestsrv did not start"
    }
}

challtestsrv_stop() {
    local pid
    pid=$(e2e_pid_of challtestsrv) || return 0
    e2e_kill_pid "$pid"
    e2e_forget_pid challtestsrv
}

# dns_set_txt NAME VALUE / dns_clear_txt NAME (NAME without trailing dot ok)
dns_set_txt() {
    curl -sf -X POST -d "{\"host\":\"${1%.}.\",\"value\":\"$2\"}" \
        "http://127.0.0.1:$CTS_MGMT_PORT/set-txt"
}
dns_clear_txt() {
    curl -sf -X POST -d "{\"host\":\"${1%.}.\"}" \
        "http://127.0.0.1:$CTS_MGMT_PORT/clear-txt"
}

# ---------------------------------------------------------------------------
# bind9 (named): an authoritative server for RFC 2136 (dns-01 hook) tests.

# bind_start [ZONE]: starts a private named on 127.0.0.1:$BIND_PORT (UDP and
# TCP), no recursion, authoritative for ZONE (default example.test): SOA, NS,
# A for @ and * -> 127.0.0.1 (so http-01 works as well). Dynamic updates are
# allowed for TXT records anywhere in the zone, signed with a fresh TSIG key.
# Zone transfers are allowed with the key (bind_zone_txt). Everything
# (config, zone, journal, log) lives in $WORK/bind. Sets and
# exports BIND_DIR, BIND_ZONE, BIND_TSIG_NAME, BIND_TSIG_ALGORITHM (Certbot's
# spelling, e.g. HMAC-SHA512) and BIND_TSIG_SECRET.
bind_start() {
    local zone=${1:-example.test} d=$WORK/bind i
    if e2e_pid_of named >/dev/null; then return 0; fi
    command -v named >/dev/null 2>&1 || e2e_die "named not found (apt-get install bind9)"
    port_open "$BIND_PORT" && e2e_die "port $BIND_PORT is in use (another named?)"
    mkdir -p "$d"
    BIND_DIR=$d
    BIND_ZONE=$zone
    BIND_TSIG_NAME=acme-e2e-key.
    BIND_TSIG_ALGORITHM=HMAC-SHA512
    tsig-keygen -a hmac-sha512 "$BIND_TSIG_NAME" > "$d/tsig.key" 2>"$d/tsig-keygen.log" \
        || e2e_die "tsig-keygen failed: $(cat "$d/tsig-keygen.log")"
    BIND_TSIG_SECRET=$(sed -n 's/.*secret "\([^"]*\)".*/\1/p' "$d/tsig.key")
    [ -n "$BIND_TSIG_SECRET" ] || e2e_die "no secret in $d/tsig.key"
    cat > "$d/db.$zone" <<EOF
\$TTL 60
@   IN SOA ns.$zone. hostmaster.$zone. ( 1 60 60 3600 60 )
@   IN NS  ns.$zone.
ns  IN A   127.0.0.1
@   IN A   127.0.0.1
*   IN A   127.0.0.1
EOF
    rm -f "$d/db.$zone.jnl"
    cat > "$d/named.conf" <<EOF
// generated by test/e2e/lib.sh (bind_start)
options {
    directory "$d";
    pid-file "$d/named.pid";
    session-keyfile "$d/session.key";
    managed-keys-directory "$d";
    listen-on port $BIND_PORT { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    allow-transfer { key $BIND_TSIG_NAME; };
    notify no;
    dnssec-validation no;
};
controls { };
include "$d/tsig.key";
zone "$zone" {
    type primary;
    file "$d/db.$zone";
    journal "$d/db.$zone.jnl";
    update-policy { grant $BIND_TSIG_NAME zonesub TXT; };
};
EOF
    if ! named-checkconf "$d/named.conf" >"$d/checkconf.log" 2>&1; then
        e2e_show_file "$d/checkconf.log"
        e2e_die "named-checkconf rejected $d/named.conf"
    fi
    # -g: foreground, log to stderr; as root it stays root (test only).
    named -g -4 -n 1 -c "$d/named.conf" >>"$WORK/named.log" 2>&1 </dev/null &
    E2E_PIDS+=("named:$!")
    for i in $(seq 100); do
        if dig +time=1 +tries=1 +norec @127.0.0.1 -p "$BIND_PORT" SOA "$zone" 2>/dev/null \
                | grep -q 'status: NOERROR'; then
            export BIND_DIR BIND_ZONE BIND_TSIG_NAME BIND_TSIG_ALGORITHM BIND_TSIG_SECRET
            return 0
        fi
        kill -0 "$(e2e_pid_of named)" 2>/dev/null || break
        sleep 0.1
    done
    e2e_show_file "$WORK/named.log"
    e2e_die "named did not answer on 127.0.0.1:$BIND_PORT"
}

bind_stop() {
    local pid
    pid=$(e2e_pid_of named) || return 0
    e2e_kill_pid "$pid"
    e2e_forget_pid named
    wait_port_free "$BIND_PORT" 5 || true
}

# bind_zone_txt [ZONE]: every TXT record in the zone (AXFR signed with the
# key), as "NAME VALUE" lines, sorted; non-zero if the transfer fails.
bind_zone_txt() {
    local out
    out=$(dig +time=2 +tries=1 -k "$BIND_DIR/tsig.key" @127.0.0.1 -p "$BIND_PORT" \
              AXFR "${1:-$BIND_ZONE}." 2>&1) || return 1
    printf '%s\n' "$out" | grep -q 'IN[[:space:]]*SOA' || return 1
    printf '%s\n' "$out" | awk '!/^;/ && $4 == "TXT" { v = $5; gsub(/"/, "", v); print $1, v }' \
        | LC_ALL=C sort
}

# bind_txt NAME: the TXT values of NAME at our named (unquoted), sorted.
bind_txt() {
    dig +short +time=2 +tries=1 +norec @127.0.0.1 -p "$BIND_PORT" TXT "${1%.}." 2>/dev/null \
        | sed -e 's/^"//' -e 's/"$//' | LC_ALL=C sort
}

# ---------------------------------------------------------------------------
# Pebble

# pebble_start [VAR=VAL ...]: (re)starts pebble. Defaults PEBBLE_VA_NOSLEEP=1,
# PEBBLE_WFE_NONCEREJECT=0, PEBBLE_AUTHZREUSE=0 (deterministic: every order
# gets fresh authorizations); PEBBLE_EAB=1 makes external account binding
# required (kid-1, kid-2); PEBBLE_DNS=HOST:PORT is the DNS server pebble
# resolves and validates with (default challtestsrv, 127.0.0.1:$DNS_PORT;
# also taken from the environment). Pebble's roots change on every start:
# $PEBBLE_ROOT is refetched.
pebble_start() {
    local kv eab=0 env_args=(PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 PEBBLE_AUTHZREUSE=0)
    local dns=${PEBBLE_DNS:-127.0.0.1:$DNS_PORT}
    for kv in "$@"; do
        case "$kv" in
            PEBBLE_EAB=*) eab=${kv#PEBBLE_EAB=} ;;
            PEBBLE_DNS=*) dns=${kv#PEBBLE_DNS=} ;;
            *=*) env_args+=("$kv") ;;
            *) e2e_die "pebble_start: expected VAR=VAL, got '$kv'" ;;
        esac
    done
    pebble_stop
    port_open "$PEBBLE_PORT" && e2e_die "port $PEBBLE_PORT is in use (another pebble?)"
    local conf=$WORK/pebble-config.json eab_json=""
    if [ "$eab" = 1 ]; then
        eab_json=$(printf ',\n    "externalAccountMACKeys": {\n      "%s": "%s",\n      "%s": "%s"\n    }' \
            "$EAB_KID_1" "$EAB_KEY_1" "$EAB_KID_2" "$EAB_KEY_2")
    fi
    cat > "$conf" <<EOF
{
  "pebble": {
    "listenAddress": "127.0.0.1:$PEBBLE_PORT",
    "managementListenAddress": "127.0.0.1:$PEBBLE_MGMT_PORT",
    "certificate": "$WORK/pebble-api/localhost.pem",
    "privateKey": "$WORK/pebble-api/localhost.key",
    "httpPort": $HTTP01_PORT,
    "tlsPort": $TLSALPN_PORT,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": $([ "$eab" = 1 ] && echo true || echo false)$eab_json
  }
}
EOF
    printf '### pebble_start %s (eab=%s, dns=%s)\n' "${env_args[*]}" "$eab" "$dns" >>"$WORK/pebble.log"
    # Note: -strict is a Go bool flag; it must be written -strict=false
    # ("-strict false" would end flag parsing and drop -dnsserver).
    env "${env_args[@]}" pebble -config "$conf" \
        -dnsserver "$dns" -strict=false \
        >>"$WORK/pebble.log" 2>&1 </dev/null &
    E2E_PIDS+=("pebble:$!")
    local i ok=0
    for i in $(seq 150); do
        if curl -sf --cacert "$ACME_CA_BUNDLE" -o /dev/null "$ACME_SERVER"; then
            ok=1; break
        fi
        kill -0 "$(e2e_pid_of pebble)" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$ok" != 1 ]; then
        e2e_show_file "$WORK/pebble.log"
        e2e_die "pebble did not answer on $ACME_SERVER"
    fi
    PEBBLE_ROOT=$WORK/pebble-root.pem
    curl -sf --cacert "$ACME_CA_BUNDLE" -o "$PEBBLE_ROOT.tmp" \
        "https://localhost:$PEBBLE_MGMT_PORT/roots/0" \
        && mv "$PEBBLE_ROOT.tmp" "$PEBBLE_ROOT" \
        || e2e_die "cannot fetch pebble's root from :$PEBBLE_MGMT_PORT/roots/0"
    export PEBBLE_ROOT
    PEBBLE_EAB=$eab
    export PEBBLE_EAB
}

pebble_stop() {
    local pid
    pid=$(e2e_pid_of pebble) || return 0
    e2e_kill_pid "$pid"
    e2e_forget_pid pebble
    wait_port_free "$PEBBLE_PORT" 5 || true
}

# ---------------------------------------------------------------------------
# Apache (Debian's apache2 binary, private configuration per instance)

# apache_dir NAME: the instance's directory ($WORK/apache-NAME).
apache_dir() { printf '%s/apache-%s\n' "$WORK" "$1"; }

# apache_write_conf NAME PORTS EXTRA_CONFIG: writes $WORK/apache-NAME/httpd.conf.
# PORTS: space-separated list of ports to Listen on 127.0.0.1.
# EXTRA_CONFIG: appended verbatim (vhosts, LoadModule of mod_acme, ...).
apache_write_conf() {
    local name=$1 ports=$2 extra=${3:-} d p m
    d=$(apache_dir "$name")
    mkdir -p "$d/run" "$d/logs" "$d/htdocs"
    chmod 755 "$d" "$d/htdocs"
    {
        printf '# generated by test/e2e/lib.sh\n'
        printf 'ServerRoot "%s"\n' "$d"
        printf 'ServerName localhost\n'
        printf 'DefaultRuntimeDir "%s/run"\n' "$d"
        printf 'PidFile "%s/run/httpd.pid"\n' "$d"
        printf 'Mutex file:%s/run default\n' "$d"
        printf 'ErrorLog "%s/logs/error.log"\n' "$d"
        printf 'LogLevel warn\n'
        for m in mpm_event authz_core authz_host mime dir alias ssl socache_shmcb; do
            printf 'LoadModule %s_module %s/mod_%s.so\n' "$m" "$APACHE_MODDIR" "$m"
        done
        # watchdog, unixd, log_config are compiled into Debian's apache2
        if [ "$(id -u)" -eq 0 ]; then
            printf 'User %s\nGroup %s\n' "$APACHE_USER" "$APACHE_GROUP"
        fi
        for p in $ports; do
            printf 'Listen 127.0.0.1:%s\n' "$p"
        done
        printf 'LogFormat "%%v %%h \\"%%r\\" %%>s %%b" vhost\n'
        printf 'CustomLog "%s/logs/access.log" vhost\n' "$d"
        printf 'TypesConfig /etc/mime.types\n'
        printf 'StartServers 1\nServerLimit 2\nThreadsPerChild 10\nMaxRequestWorkers 20\n'
        printf 'SSLSessionCache "shmcb:%s/run/ssl_scache(512000)"\n' "$d"
        printf 'DocumentRoot "%s/htdocs"\n' "$d"
        printf '<Directory />\n    AllowOverride None\n    Require all denied\n</Directory>\n'
        printf '<Directory "%s">\n    Require all granted\n</Directory>\n' "$WORK"
        printf '%s\n' "$extra"
    } > "$d/httpd.conf"
    echo "$ports" > "$d/ports"
}

# apache_start NAME PORTS [EXTRA_CONFIG]: writes the config and starts
# apache; waits until every port answers. Returns non-zero (and prints the
# error log) on failure.
apache_start() {
    local name=$1 ports=$2 extra=${3:-} d p
    d=$(apache_dir "$name")
    apache_stop "$name" >/dev/null 2>&1
    for p in $ports; do
        if port_open "$p"; then
            e2e_log "apache_start $name: port $p is already in use"
            return 1
        fi
    done
    apache_write_conf "$name" "$ports" "$extra"
    if ! "$APACHE_BIN" -t -f "$d/httpd.conf" >"$d/logs/configtest.log" 2>&1; then
        e2e_log "apache_start $name: config test failed"
        e2e_show_file "$d/logs/configtest.log"
        return 1
    fi
    "$APACHE_BIN" -f "$d/httpd.conf" -k start >"$d/logs/start.log" 2>&1 </dev/null
    E2E_APACHES+=("$name")
    for p in $ports; do
        if ! wait_port "$p" 15; then
            e2e_log "apache_start $name: port $p does not answer"
            e2e_show_file "$d/logs/start.log"
            e2e_show_file "$d/logs/error.log"
            return 1
        fi
    done
    return 0
}

apache_pid() {
    local f
    f=$(apache_dir "$1")/run/httpd.pid
    [ -s "$f" ] && cat "$f"
}

# apache_reload NAME [EXTRA_CONFIG [PORTS]]: rewrites the config (if given)
# and does a graceful restart; waits until the ports answer and the
# generation changed.
apache_reload() {
    local name=$1 d pid p ports i
    d=$(apache_dir "$name")
    ports=$(cat "$d/ports")
    if [ $# -ge 2 ]; then
        [ $# -ge 3 ] && ports=$3
        apache_write_conf "$name" "$ports" "$2"
    fi
    if ! "$APACHE_BIN" -t -f "$d/httpd.conf" >"$d/logs/configtest.log" 2>&1; then
        e2e_log "apache_reload $name: config test failed"
        e2e_show_file "$d/logs/configtest.log"
        return 1
    fi
    pid=$(apache_pid "$name") || return 1
    local before
    before=$(grep -c 'resuming normal operations' "$d/logs/error.log" 2>/dev/null)
    "$APACHE_BIN" -f "$d/httpd.conf" -k graceful >>"$d/logs/start.log" 2>&1 </dev/null
    # "resuming normal operations" is logged at notice level; use port checks
    # and a short settle time instead of relying on LogLevel.
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || { e2e_log "apache $name died on reload"; e2e_show_file "$d/logs/error.log"; return 1; }
        [ "$(grep -c 'resuming normal operations' "$d/logs/error.log" 2>/dev/null)" != "$before" ] && break
        sleep 0.1
    done
    for p in $ports; do
        wait_port "$p" 15 || { e2e_log "apache $name: port $p gone after reload"; return 1; }
    done
}

# apache_stop NAME: stops the instance and waits until its parent is gone.
apache_stop() {
    local name=$1 d pid i keep=() a
    d=$(apache_dir "$name")
    pid=$(apache_pid "$name")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        "$APACHE_BIN" -f "$d/httpd.conf" -k stop >/dev/null 2>&1 </dev/null \
            || kill "$pid" 2>/dev/null
        for i in $(seq 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    fi
    for a in "${E2E_APACHES[@]}"; do
        [ "$a" = "$name" ] || keep+=("$a")
    done
    E2E_APACHES=("${keep[@]}")
    if [ -f "$d/ports" ]; then
        for i in $(cat "$d/ports"); do wait_port_free "$i" 5 || true; done
    fi
    return 0
}

# www_dir NAME: creates $WORK/www/NAME (readable by the apache user) and
# prints its path.
www_dir() {
    local d=$WORK/www/$1
    mkdir -p "$d/.well-known/acme-challenge"
    chmod 755 "$WORK/www" "$d" "$d/.well-known" "$d/.well-known/acme-challenge"
    printf '%s\n' "$d"
}

# ---------------------------------------------------------------------------
# Certificate checks

# check_cert_verifies CERT CHAIN: the certificate verifies up to pebble's
# root with CHAIN as untrusted intermediates.
check_cert_verifies() {
    local cert=$1 chain=$2 out
    [ -s "$cert" ] || { e2e_log "check_cert_verifies: $cert missing or empty"; return 1; }
    [ -s "$chain" ] || { e2e_log "check_cert_verifies: $chain missing or empty"; return 1; }
    out=$(openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$chain" "$cert" 2>&1)
    if [ $? -ne 0 ]; then
        printf '%s\n' "$out" | sed 's/^/#   verify: /'
        return 1
    fi
    return 0
}

# cert_names CERT: the subjectAltName DNS/IP entries, one per line, sorted.
cert_names() {
    openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null \
        | sed -n '2,$p' | tr ',' '\n' \
        | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' \
              -e 's/^DNS://' -e 's/^IP Address://' \
        | grep -v '^$' | LC_ALL=C sort
}

# check_cert_names CERT NAME...: the SAN set is exactly NAME... (any order).
check_cert_names() {
    local cert=$1 got want; shift
    [ -s "$cert" ] || { e2e_log "check_cert_names: $cert missing"; return 1; }
    got=$(cert_names "$cert")
    want=$(printf '%s\n' "$@" | LC_ALL=C sort -u)
    if [ "$got" != "$want" ]; then
        e2e_log "SAN mismatch in $cert: got [$(echo $got)] want [$(echo $want)]"
        return 1
    fi
    return 0
}

cert_serial() { openssl x509 -in "$1" -noout -serial 2>/dev/null | cut -d= -f2; }

# tls_served_chain PORT SNI PREFIX: connects to 127.0.0.1:PORT with SNI and
# writes what the server sends: PREFIX.leaf.pem (its certificate) and
# PREFIX.chain.pem (the other certificates it sent; empty if none).
# Non-zero if no certificate was received.
tls_served_chain() {
    local port=$1 sni=$2 prefix=$3 out
    out=$(timeout 10 openssl s_client -connect "127.0.0.1:$port" -servername "$sni" \
              -showcerts </dev/null 2>/dev/null)
    printf '%s\n' "$out" | awk -v leaf="$prefix.leaf.pem" -v chain="$prefix.chain.pem" '
        BEGIN { printf "" > leaf; printf "" > chain }
        /-----BEGIN CERTIFICATE-----/ { n++; on = 1 }
        on { print > (n == 1 ? leaf : chain) }
        /-----END CERTIFICATE-----/ { on = 0 }'
    [ -s "$prefix.leaf.pem" ]
}

# wait_until SECONDS CMD...: runs CMD every half second until it succeeds
# (returns 0) or SECONDS have passed (returns 1).
wait_until() {
    local end=$((SECONDS + $1)); shift
    while :; do
        "$@" && return 0
        [ "$SECONDS" -ge "$end" ] && return 1
        sleep 0.5
    done
}

# check_mode PATH MODE: octal permission bits equal MODE (e.g. 600).
check_mode() {
    local m
    m=$(stat -c '%a' "$1" 2>/dev/null) || { e2e_log "check_mode: $1 missing"; return 1; }
    if [ "$m" != "$2" ]; then
        e2e_log "mode of $1 is $m, want $2"
        return 1
    fi
}

# check_link PATH TARGET: PATH is a symlink whose target text is TARGET and
# which resolves to an existing file.
check_link() {
    local t
    [ -L "$1" ] || { e2e_log "$1 is not a symlink"; return 1; }
    t=$(readlink "$1")
    [ "$t" = "$2" ] || { e2e_log "$1 -> $t, want $2"; return 1; }
    [ -e "$1" ] || { e2e_log "$1 -> $t dangles"; return 1; }
}

# check_lineage DIR NAME N: Certbot's layout for lineage NAME at version N:
# archive files, live relative symlinks, README, renewal conf, modes.
check_lineage() {
    local dir=$1 name=$2 n=$3 f
    for f in cert chain fullchain privkey; do
        [ -s "$dir/archive/$name/$f$n.pem" ] \
            || { e2e_log "missing $dir/archive/$name/$f$n.pem"; return 1; }
        check_link "$dir/live/$name/$f.pem" "../../archive/$name/$f$n.pem" || return 1
    done
    [ -f "$dir/live/$name/README" ] || { e2e_log "missing live/$name/README"; return 1; }
    [ -s "$dir/renewal/$name.conf" ] || { e2e_log "missing renewal/$name.conf"; return 1; }
    check_mode "$dir/archive/$name/privkey$n.pem" 600 || return 1
    check_mode "$dir/archive" 700 || return 1
    check_mode "$dir/live" 700 || return 1
    check_mode "$dir/archive/$name" 700 || return 1
    check_mode "$dir/live/$name" 700 || return 1
    # fullchain = cert + chain
    if [ "$(cat "$dir/archive/$name/cert$n.pem" "$dir/archive/$name/chain$n.pem" | grep -c 'BEGIN CERTIFICATE')" \
         != "$(grep -c 'BEGIN CERTIFICATE' "$dir/archive/$name/fullchain$n.pem")" ]; then
        e2e_log "fullchain$n.pem is not cert + chain"
        return 1
    fi
    # the private key matches the certificate
    local kpub cpub
    kpub=$(openssl pkey -in "$dir/archive/$name/privkey$n.pem" -pubout 2>/dev/null)
    cpub=$(openssl x509 -in "$dir/archive/$name/cert$n.pem" -noout -pubkey 2>/dev/null)
    if [ -z "$kpub" ] || [ "$kpub" != "$cpub" ]; then
        e2e_log "privkey$n.pem does not match cert$n.pem"
        return 1
    fi
}

# store_snapshot DIR: a listing of DIR (paths, types, modes, owners, link
# targets, sha256 of files), sorted; empty if DIR does not exist.
# Directories that hold no file (only empty directories, recursively) are
# left out: creating an empty skeleton is not a change of the content.
store_snapshot() {
    local dir=$1
    [ -e "$dir" ] || return 0
    (
        cd "$dir" || exit 1
        # .lock and .supervisor.pid are runtime files (who holds the lock,
        # where the supervisor is), not store content
        find . -mindepth 1 \( -type d -empty \) -prune \
            -o \( -path ./.lock -o -path ./.supervisor.pid \) -prune -o -print0 \
            | LC_ALL=C sort -z \
            | while IFS= read -r -d '' p; do
                  if [ -L "$p" ]; then
                      printf '%s l %s -> %s\n' "$p" "$(stat -c '%a %U:%G' "$p")" "$(readlink "$p")"
                  elif [ -d "$p" ]; then
                      [ -n "$(find "$p" ! -type d -print -quit)" ] || continue
                      printf '%s d %s\n' "$p" "$(stat -c '%a %U:%G' "$p")"
                  else
                      printf '%s f %s %s\n' "$p" "$(stat -c '%a %U:%G %s' "$p")" \
                          "$(sha256sum < "$p" | cut -d' ' -f1)"
                  fi
              done
    )
}

# ---------------------------------------------------------------------------
# acmectl helpers

ACMECTL=${ACMECTL:-$TOP/acmectl}
ACMECTL_TIMEOUT=${ACMECTL_TIMEOUT:-120}

# Arguments every certonly against pebble needs.
acmectl_ca_args() {
    ACMECTL_CA_ARGS=(--server "$ACME_SERVER" --ca-bundle "$ACME_CA_BUNDLE"
                     --email e2e@example.test --agree-tos --non-interactive)
}

# acmectl_run ARGS...: runs acmectl with a timeout; stdout -> $WORK/last.out,
# stderr -> $WORK/last.err, exit status -> $LAST_RC. Returns $LAST_RC.
acmectl_run() {
    printf '$ acmectl %s\n' "$*" >> "$WORK/acmectl.log"
    timeout "$ACMECTL_TIMEOUT" "$ACMECTL" "$@" >"$WORK/last.out" 2>"$WORK/last.err" </dev/null
    LAST_RC=$?
    { sed 's/^/  out: /' "$WORK/last.out"; sed 's/^/  err: /' "$WORK/last.err";
      echo "  exit $LAST_RC"; } >> "$WORK/acmectl.log"
    return "$LAST_RC"
}

# last_err_one_line: stderr of the last run is exactly one line starting
# with "acmectl: ".
last_err_one_line() {
    local n
    n=$(awk 'END { print NR }' "$WORK/last.err")
    if [ "$n" != 1 ]; then
        e2e_log "stderr has $n lines, want exactly 1:"
        e2e_show_file "$WORK/last.err" 10
        return 1
    fi
    if ! grep -q '^acmectl: ..*' "$WORK/last.err"; then
        e2e_log "stderr does not start with 'acmectl: ': $(cat "$WORK/last.err")"
        return 1
    fi
}

# last_failure_diag: comment lines with the last run's output (for t_fail).
last_failure_diag() {
    echo "#   exit status $LAST_RC"
    e2e_show_file "$WORK/last.err" 10
    e2e_show_file "$WORK/last.out" 10
}

# ---------------------------------------------------------------------------
# ca_proxy.py: an HTTPS reverse proxy in front of pebble that can misbehave
# on request (ARI, alreadyReplaced, errors, slow answers, forged chains).

# proxy_start: ca_proxy.py on a free loopback port in front of pebble, with
# pebble's API certificate (it names localhost and 127.0.0.1); sets
# PROXY_PORT and PROXY_URL.
proxy_start() {
    local pf=$WORK/ca_proxy.port i
    rm -f "$pf"
    python3 "$E2E_LIB_DIR/ca_proxy.py" --port 0 --port-file "$pf" \
        --upstream "$ACME_SERVER" --upstream-ca "$ACME_CA_BUNDLE" \
        --cert "$WORK/pebble-api/localhost.pem" \
        --key "$WORK/pebble-api/localhost.key" \
        >>"$WORK/ca_proxy.log" 2>&1 </dev/null &
    E2E_PIDS+=("ca_proxy:$!")
    for i in $(seq 100); do
        [ -s "$pf" ] && break
        sleep 0.1
    done
    [ -s "$pf" ] || { e2e_show_file "$WORK/ca_proxy.log"; e2e_die "ca_proxy did not start"; }
    PROXY_PORT=$(cat "$pf")
    PROXY_URL="https://localhost:$PROXY_PORT"
    wait_port "$PROXY_PORT" 10 || e2e_die "ca_proxy does not answer on $PROXY_PORT"
}

# proxy_control JSON: changes the proxy's behaviours.
proxy_control() {
    curl -sf --max-time 10 --cacert "$ACME_CA_BUNDLE" -X POST -d "$1" \
        "$PROXY_URL/_control" >/dev/null
}

# proxy_requests FILE: the proxy's request log (JSON) into FILE.
proxy_requests() {
    curl -sf --max-time 10 --cacert "$ACME_CA_BUNDLE" -o "$1" \
        "$PROXY_URL/_requests"
}
