#!/usr/bin/env bash
# test/e2e/t_module_config.sh -- `apache2 -t` (configtest) with mod_acme:
# every configuration mistake below must make configtest FAIL, and its output
# must name the configuration file, the line of the offending directive and
# a reason; a valid configuration passes ("Syntax OK").
#
# Table-driven: one row per case in CASES (see the format there). No CA and
# no server process is needed: configtest never starts the supervisor.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

MOD=$TOP/mod_acme.so
[ -f "$MOD" ] || e2e_die "$MOD does not exist (run ./configure && make)"
# the worker binary must be executable by the unprivileged user
cp "$TOP/acmectl" "$WORK/acmectl" && chmod 755 "$WORK/acmectl" \
    || e2e_die "cannot copy acmectl into $WORK"
STORE=$WORK/store

# The valid base: global directives and one vhost with a bare ACMEDomain.
base_config() {
    cat <<EOF
LoadModule acme_module "$MOD"
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$STORE"
ACMEAgreeToS on
ACMEContact e2e@example.test
ACMEPortMap 80:$HTTP01_PORT
ACMEWorkerBinary "$WORK/acmectl"
<VirtualHost 127.0.0.1:8443>
    ServerName ok.example.test
    ServerAlias www.ok.example.test
    SSLEngine on
    ACMEDomain
</VirtualHost>
<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName ok.example.test
</VirtualHost>
EOF
}

# Rows: "name::needle::expected" followed by the snippet lines up to a line
# "--". The snippet is appended to the valid base. needle: an extended regex
# matching the offending line(s) of the snippet (the output must give the
# line number of one of the lines of httpd.conf it matches); expected: an
# extended regex (case-insensitive) the output must contain: the reason.
CASES=$(cat <<'EOF'
unknown key type::^ACMEKeyType rsa1024$::ACMEKeyType.*rsa1024.*(ec256|rsa2048|unknown|key type)
ACMEKeyType rsa1024
--
renew window 150%::^ACMERenewWindow 150%$::ACMERenewWindow.*150%.*(1%|99%|percent|range)
ACMERenewWindow 150%
--
renew window 'soon'::^ACMERenewWindow soon$::ACMERenewWindow.*soon
ACMERenewWindow soon
--
CA that is not a URL::^ACMECertificateAuthority notaurl$::ACMECertificateAuthority.*notaurl.*(url|https)
ACMECertificateAuthority notaurl
--
ACMEDomain inside <Directory>::^ +ACMEDomain dir\.example\.test$::ACMEDomain.*(not allowed|Directory|context|VirtualHost)
<VirtualHost 127.0.0.1:8443>
    ServerName dir.example.test
    SSLEngine on
    <Directory "/tmp">
        ACMEDomain dir.example.test
    </Directory>
</VirtualHost>
--
ACMEDomain inside <Location>::^ +ACMEDomain loc\.example\.test$::ACMEDomain.*(not allowed|Location|context|VirtualHost)
<VirtualHost 127.0.0.1:8443>
    ServerName loc.example.test
    SSLEngine on
    <Location "/">
        ACMEDomain loc.example.test
    </Location>
</VirtualHost>
--
a name in two ACMEDomains::ACMEDomain .*www\.ok\.example\.test::www\.ok\.example\.test.*(two|twice|already|both|more than one|also)
ACMEDomain other.example.test www.ok.example.test
--
an ACMEDomain name no vhost serves::^ +ACMEDomain x\.example\.test y\.example\.test$::y\.example\.test.*(no <VirtualHost>|serves|ServerName|ServerAlias)
<VirtualHost 127.0.0.1:8443>
    ServerName x.example.test
    SSLEngine on
    ACMEDomain x.example.test y.example.test
</VirtualHost>
--
ACMEDomain next to SSLCertificateFile::^ +(ACMEDomain|SSLCertificateFile)::SSLCertificateFile
<VirtualHost 127.0.0.1:8443>
    ServerName own.example.test
    SSLEngine on
    SSLCertificateFile "@WORK@/pebble-api/localhost.pem"
    SSLCertificateKeyFile "@WORK@/pebble-api/localhost.key"
    ACMEDomain
</VirtualHost>
--
invalid name 'exa mple.org'::^ACMEDomain "exa mple\.org"$::exa mple\.org.*(invalid|character|name)
ACMEDomain "exa mple.org"
--
invalid name '*.*.org'::^ACMEDomain \*\.\*\.org$::\*\.\*\.org.*(invalid|wildcard|name)
ACMEDomain *.*.org
--
wildcard without dns-01::^ACMEDomain \*\.w\.example\.test$::\*\.w\.example\.test.*dns-01
ACMEDomain *.w.example.test
--
unknown challenge type::^ACMEChallenges http-01 http-02$::ACMEChallenges.*http-02
ACMEChallenges http-01 http-02
--
ACMEMaxWorkers 0::^ACMEMaxWorkers 0$::ACMEMaxWorkers.*0.*(number|1|range|at least)
ACMEMaxWorkers 0
--
ACMEUser nosuchuser::^ACMEUser nosuchuser$::ACMEUser.*nosuchuser.*(no such|unknown|user)
ACMEUser nosuchuser
--
global-only ACMEStoreDir inside a vhost::^ +ACMEStoreDir::ACMEStoreDir.*(not allowed|VirtualHost|global|main server|server config)
<VirtualHost 127.0.0.1:8443>
    ServerName gl.example.test
    SSLEngine on
    ACMEDomain
    ACMEStoreDir "@WORK@/store2"
</VirtualHost>
--
EOF
)

# run_configtest NAME SNIPPET: writes httpd.conf (base + SNIPPET) for the
# instance NAME and runs configtest; output in $OUT, status in $RC, the
# file in $CONF.
run_configtest() {
    apache_write_conf "$1" "8443 $HTTP01_PORT" "$(base_config)
$2"
    CONF=$(apache_dir "$1")/httpd.conf
    OUT=$("$APACHE_BIN" -t -f "$CONF" 2>&1)
    RC=$?
}

t_begin "configtest: the valid base configuration passes (Syntax OK)"
run_configtest valid ""
if [ "$RC" -ne 0 ] || ! printf '%s\n' "$OUT" | grep -q 'Syntax OK'; then
    t_fail "exit $RC: $(printf '%s\n' "$OUT" | head -n 5 | tr '\n' ' ')"
else
    t_pass
fi

t_begin "configtest: a valid config with every directive passes"
run_configtest valid-all "ACMEKeyType rsa2048
ACMEChallenges http-01 tls-alpn-01 dns-01
ACMERenewWindow 30d
ACMECheckInterval 12h
ACMERestart graceful
ACMEUser $APACHE_USER
ACMEMaxWorkers 4
ACMEExternalAccountBinding off
ACMEDomain mail.example.test smtp.example.test
<VirtualHost 127.0.0.1:8443>
    ServerName v2.example.test
    SSLEngine on
    ACMEDomain v2.example.test
    ACMEKeyType ec384
    ACMERenewWindow 33%
</VirtualHost>"
if [ "$RC" -ne 0 ] || ! printf '%s\n' "$OUT" | grep -q 'Syntax OK'; then
    t_fail "exit $RC: $(printf '%s\n' "$OUT" | head -n 5 | tr '\n' ' ')"
else
    t_pass
fi

# check_bad_case NAME NEEDLE EXPECTED SNIPPET
check_bad_case() {
    local name=$1 needle=$2 expected=$3 snippet=$4 lines n ok_line=0 inst
    t_begin "configtest fails: $name"
    inst=cfg$((++CASE_NO))
    run_configtest "$inst" "$snippet"
    if [ "$RC" -eq 0 ]; then
        t_fail "configtest passed (exit 0): $(printf '%s\n' "$OUT" | tail -n 2 | tr '\n' ' ')"
        return
    fi
    if printf '%s\n' "$OUT" | grep -q 'Syntax OK'; then
        t_fail "exit $RC but the output says Syntax OK"; return
    fi
    # where the offending directive is in the generated file
    lines=$(grep -nE -- "$needle" "$CONF" | cut -d: -f1)
    if [ -z "$lines" ]; then
        t_fail "harness: needle /$needle/ matches no line of $CONF"; return
    fi
    if ! printf '%s\n' "$OUT" | grep -qF -- "$CONF"; then
        t_fail "the output does not name $CONF: $(printf '%s\n' "$OUT" | head -n 3 | tr '\n' ' ')"
        return
    fi
    for n in $lines; do
        # httpd: "Syntax error on line N of FILE:"; post-config: "FILE:N: ..."
        # (or "... at FILE:N;" for the second place of a duplicate)
        if printf '%s\n' "$OUT" | grep -qE -- "(line $n of |\.conf:$n([^0-9]|\$))"; then
            ok_line=1
        fi
    done
    if [ "$ok_line" != 1 ]; then
        t_fail "the output does not give line $(echo $lines) of the offending directive: $(printf '%s\n' "$OUT" | head -n 3 | tr '\n' ' ')"
        return
    fi
    if ! printf '%s\n' "$OUT" | tr '\n' ' ' | grep -qiE -- "$expected"; then
        t_fail "no reason matching /$expected/ in: $(printf '%s\n' "$OUT" | head -n 3 | tr '\n' ' ')"
        return
    fi
    e2e_log "$(printf '%s\n' "$OUT" | grep -v '^$' | head -n 2 | tr '\n' ' ' | sed "s|$WORK|\$WORK|g")"
    t_pass
}

CASE_NO=0
row="" snippet="" in_row=0
while IFS= read -r line; do
    if [ "$in_row" = 0 ]; then
        [ -n "$line" ] || continue
        row=$line snippet="" in_row=1
        continue
    fi
    if [ "$line" = "--" ]; then
        c_name=${row%%::*}; c_rest=${row#*::}
        c_needle=${c_rest%%::*}; c_expected=${c_rest#*::}
        check_bad_case "$c_name" "$c_needle" "$c_expected" "${snippet//@WORK@/$WORK}"
        in_row=0
        continue
    fi
    snippet+="$line"$'\n'
done <<<"$CASES"
[ "$in_row" = 0 ] || e2e_die "harness: unterminated row: $row"

t_summary
