#!/usr/bin/env bash
# test/e2e/t_config_matrix.sh -- every mod_acme directive (the AP_INIT table
# of src/mod_acme_config.c) x malformed arguments (wrong type, missing, out
# of range, wrong context: <Directory>, <VirtualHost> for global-only
# settings) -> `apache2 -t` fails naming the file, the line and the
# directive; a valid value passes. Prints the table as it runs; one case
# per directive. Needs no network and no root (apache2 -t only).
#
# Run: bash test/e2e/run.sh t_config_matrix.sh

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
[ -f "$TOP/mod_acme.so" ] || e2e_die "$TOP/mod_acme.so does not exist (run ./configure && make)"
cp "$TOP/mod_acme.so" "$WORK/mod_acme.so"
cp "$TOP/acmectl" "$WORK/acmectl" && chmod 755 "$WORK/acmectl"
D=$(apache_dir cm)
mkdir -p "$D" "$WORK/store" "$WORK/www"
printf '#!/bin/sh\nexit 0\n' > "$WORK/hook.sh"; chmod 755 "$WORK/hook.sh"
HTTPS=${HOSTILE_HTTPS_PORT:-16443}

# Every directive registered by the module (the matrix must cover them all).
DIRECTIVES=$(grep -oE 'AP_INIT_[A-Z0-9_]+\("ACME[A-Za-z]+"' "$TOP/src/httpd/mod_acme_config.c" \
                 | sed 's/.*("//; s/"$//' | sort -u)

# The matrix: DIRECTIVE|PLACE|ARGUMENTS|EXPECT
#   PLACE: g (main server), v (<VirtualHost> of t.example.test),
#          d (<Directory> in the main server)
#   EXPECT: ok (apache2 -t passes) or fail
MATRIX=$(cat <<EOF
ACMEDomain|v|t.example.test|ok
ACMEDomain|v||ok
ACMEDomain|v|bad..name.example|fail
ACMEDomain|v|-lead.example|fail
ACMEDomain|v|other.example.test|fail
ACMEDomain|v|t.example.test t.example.test $(printf 'x%.0s' $(seq 64)).example|fail
ACMEDomain|d|t.example.test|fail
ACMECertificateAuthority|g|https://localhost:14000/dir|ok
ACMECertificateAuthority|g|letsencrypt-staging|ok
ACMECertificateAuthority|g|not a url|fail
ACMECertificateAuthority|g|ftp://localhost/dir|fail
ACMECertificateAuthority|g||fail
ACMECertificateAuthority|v|https://localhost:14000/dir|fail
ACMECertificateAuthority|d|https://localhost:14000/dir|fail
ACMECACertificateFile|g|$ACME_CA_BUNDLE|ok
ACMECACertificateFile|g|$WORK/no-such-ca.pem|fail
ACMECACertificateFile|g||fail
ACMECACertificateFile|v|$ACME_CA_BUNDLE|fail
ACMEContact|g|e2e@example.test|ok
ACMEContact|g|mailto:e2e@example.test a@example.test|ok
ACMEContact|g|not-an-address|fail
ACMEContact|g||fail
ACMEContact|v|e2e@example.test|fail
ACMEAgreeToS|g|on|ok
ACMEAgreeToS|g|maybe|fail
ACMEAgreeToS|g||fail
ACMEAgreeToS|v|on|fail
ACMEExternalAccountBinding|g|kid-1 zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W|ok
ACMEExternalAccountBinding|g|off|ok
ACMEExternalAccountBinding|g|kid-1 not*base64url!|fail
ACMEExternalAccountBinding|g|kid-1|fail
ACMEExternalAccountBinding|g||fail
ACMEExternalAccountBinding|g|a b c|fail
ACMEExternalAccountBinding|v|off|fail
ACMEStoreDir|g|$WORK/store|ok
ACMEStoreDir|g||fail
ACMEStoreDir|g|a b|fail
ACMEStoreDir|v|$WORK/store|fail
ACMEKeyType|g|ec384|ok
ACMEKeyType|v|rsa2048|ok
ACMEKeyType|g|ec999|fail
ACMEKeyType|g|rsa1024|fail
ACMEKeyType|v||fail
ACMEKeyType|d|ec256|fail
ACMEChallenges|g|http-01 dns-01|ok
ACMEChallenges|v|tls-alpn-01 http-01|ok
ACMEChallenges|g|http-02|fail
ACMEChallenges|v||fail
ACMEChallenges|d|http-01|fail
ACMERenewWindow|v|33%|ok
ACMERenewWindow|g|30d|ok
ACMERenewWindow|v|150%|fail
ACMERenewWindow|v|-5d|fail
ACMERenewWindow|v|thirty|fail
ACMERenewWindow|v|30x|fail
ACMERenewWindow|v|99999999999999999999d|fail
ACMERenewWindow|v||fail
ACMERenewWindow|d|30d|fail
ACMECheckInterval|g|12h|ok
ACMECheckInterval|g|0s|fail
ACMECheckInterval|g|12y|fail
ACMECheckInterval|g|99999999999999999999|fail
ACMECheckInterval|g||fail
ACMECheckInterval|v|12h|fail
ACMERestart|g|graceful|ok
ACMERestart|g|off|ok
ACMERestart|g|now|fail
ACMERestart|g||fail
ACMERestart|v|off|fail
ACMEUser|g|$APACHE_USER|ok
ACMEUser|g|no-such-user-xyz|fail
ACMEUser|g|root|fail
ACMEUser|g||fail
ACMEUser|v|$APACHE_USER|fail
ACMEMaxWorkers|g|4|ok
ACMEMaxWorkers|g|0|fail
ACMEMaxWorkers|g|65|fail
ACMEMaxWorkers|g|four|fail
ACMEMaxWorkers|g|4x|fail
ACMEMaxWorkers|g||fail
ACMEMaxWorkers|v|4|fail
ACMEPortMap|g|80:5002|ok
ACMEPortMap|g|80:5002 443:5001|ok
ACMEPortMap|g|80:99999|fail
ACMEPortMap|g|81:5002|fail
ACMEPortMap|g|80-5002|fail
ACMEPortMap|g||fail
ACMEPortMap|v|80:5002|fail
ACMEWorkerBinary|g|$WORK/acmectl|ok
ACMEWorkerBinary|g|$WORK/no-such-acmectl|fail
ACMEWorkerBinary|g||fail
ACMEWorkerBinary|v|$WORK/acmectl|fail
ACMEDNSHook|v|$WORK/hook.sh|ok
ACMEDNSHook|g|$WORK/hook.sh|ok
ACMEDNSHook|v||fail
ACMEDNSHook|d|$WORK/hook.sh|fail
ACMEDNSResolver|v|127.0.0.1:53|ok
ACMEDNSResolver|g|127.0.0.1|ok
ACMEDNSResolver|v|not-an-ip|fail
ACMEDNSResolver|v|127.0.0.1:99999|fail
ACMEDNSResolver|v|127.0.0.1:|fail
ACMEDNSResolver|v||fail
ACMEDNSResolver|d|127.0.0.1|fail
ACMEDNSPropagationTimeout|v|120s|ok
ACMEDNSPropagationTimeout|v|abc|fail
ACMEDNSPropagationTimeout|v|10q|fail
ACMEDNSPropagationTimeout|v||fail
ACMEDNSPropagationTimeout|d|120s|fail
ACMEProfile|v|tlsserver|ok
ACMEProfile|v|two words|fail
ACMEProfile|v||fail
ACMEProfile|d|tlsserver|fail
ACMEPreferredChain|v|"ISRG Root X1"|ok
ACMEPreferredChain|v||fail
ACMEPreferredChain|d|"ISRG Root X1"|fail
ACMEMustStaple|v|on|ok
ACMEMustStaple|v|maybe|fail
ACMEMustStaple|v||fail
ACMEMustStaple|d|on|fail
ACMEAllowSubsetOfNames|v|on|ok
ACMEAllowSubsetOfNames|g|off|ok
ACMEAllowSubsetOfNames|v|yes please|fail
ACMEAllowSubsetOfNames|d|on|fail
ACMEPreHook|g|$WORK/hook.sh|ok
ACMEPreHook|g||fail
ACMEPreHook|v|$WORK/hook.sh|fail
ACMEPreHook|d|$WORK/hook.sh|fail
ACMEDeployHook|g|$WORK/hook.sh|ok
ACMEDeployHook|g||fail
ACMEDeployHook|v|$WORK/hook.sh|fail
ACMEDeployHook|d|$WORK/hook.sh|fail
ACMEPostHook|g|$WORK/hook.sh|ok
ACMEPostHook|g||fail
ACMEPostHook|v|$WORK/hook.sh|fail
ACMEPostHook|d|$WORK/hook.sh|fail
ACMEHookTimeout|g|120s|ok
ACMEHookTimeout|g|2m|ok
ACMEHookTimeout|g|abc|fail
ACMEHookTimeout|g|-1|fail
ACMEHookTimeout|g||fail
ACMEHookTimeout|d|120s|fail
EOF
)

# write_conf PLACE LINE: the configuration with LINE at PLACE, after a
# marker; prints the line number LINE ends up on.
write_conf() {
    local place=$1 line=$2 g="" v="" n
    case "$place" in
        g) g=$(printf '# CASE\n%s' "$line") ;;
        v) v=$(printf '    # CASE\n    %s' "$line") ;;
        d) g=$(printf '<Directory "%s/www">\n    # CASE\n    %s\n</Directory>' "$WORK" "$line") ;;
    esac
    apache_write_conf cm "$HTTPS" "$(cat <<EOF
LoadModule acme_module "$WORK/mod_acme.so"
ACMECertificateAuthority https://localhost:14000/dir
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$WORK/store"
ACMEAgreeToS on
ACMEWorkerBinary "$WORK/acmectl"
$g
<VirtualHost 127.0.0.1:$HTTPS>
    ServerName t.example.test
    DocumentRoot "$WORK/www"
    SSLEngine on
$v
</VirtualHost>
# a vhost that always has an ACMEDomain, so that the checks made for
# configured certificates (check_config) apply in every row
<VirtualHost 127.0.0.1:$HTTPS>
    ServerName base.example.test
    DocumentRoot "$WORK/www"
    SSLEngine on
    ACMEDomain base.example.test
</VirtualHost>
EOF
)"
    n=$(grep -n '# CASE' "$D/httpd.conf" | head -n 1 | cut -d: -f1)
    echo $((n + 1))
}

row() { printf '# | %-26s | %s | %-40.40s | %-4s | %-4s | %s\n' "$@"; }
row directive place arguments want got "verdict / apache2 -t says"
for dir in $DIRECTIVES; do
    t_begin "$dir: malformed arguments and wrong contexts fail with file, line and directive; valid values pass"
    bad=""; rows=0
    while IFS='|' read -r d place args want; do
        [ "$d" = "$dir" ] || continue
        rows=$((rows + 1))
        line="$d${args:+ $args}"
        ln=$(write_conf "$place" "$line")
        out=$("$APACHE_BIN" -t -f "$D/httpd.conf" 2>&1); rc=$?
        msg=$(printf '%s\n' "$out" | grep -v '^Syntax OK' | grep -v '^AH00558' | tr '\n' ' ' | sed 's/  */ /g')
        if [ $rc -eq 0 ]; then got=ok; else got=fail; fi
        verdict=PASS
        if [ "$got" != "$want" ]; then
            verdict=FAIL
        elif [ "$want" = fail ]; then
            # the file and the line (httpd's "on line N of FILE" or the
            # module's "FILE:N:"), and the directive's name
            if ! printf '%s' "$out" | grep -qE "(line $ln of $D/httpd.conf|$D/httpd.conf:${ln}[: ])"; then
                verdict="FAIL(no file:line $ln)"
            elif ! printf '%s' "$out" | grep -q "$d"; then
                verdict="FAIL(directive not named)"
            fi
        fi
        row "$d" "$place" "${args:-(none)}" "$want" "$got" "$verdict: ${msg:0:150}"
        [ "$verdict" = PASS ] || bad="$bad [$place '${args}' -> $got: $verdict]"
    done <<< "$MATRIX"
    if [ "$rows" -eq 0 ]; then
        t_fail "no row in the matrix for $dir (a new directive? add it)"
    elif [ -n "$bad" ]; then
        t_fail "$bad"
    else
        t_pass
    fi
done

t_begin "every matrix row names a registered directive"
extra=$(printf '%s\n' "$MATRIX" | cut -d'|' -f1 | sort -u | grep -vxF -f <(printf '%s\n' $DIRECTIVES))
[ -z "$extra" ] && t_pass || t_fail "rows for unknown directives: $extra"
t_summary
