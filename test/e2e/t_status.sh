#!/usr/bin/env bash
# test/e2e/t_status.sh -- the status handler (SetHandler acme-status), the
# mod_status section and `acmectl status`, end to end: Apache with the
# module and one ACMEDomain vhost, pebble.
#
#   1. CA down at start: state "fallback", the failure recorded with a
#      backoff_until in the future.
#   2. CA up (state file removed, reload): "valid" after issuance, with
#      the certificate's facts; .../NAME and 404; Prometheus text parsed
#      strictly; server-status (HTML and ?auto); `acmectl status --json`
#      equals the handler's object; no private key in any output; key
#      permissions untouched.
#   3. ACMEKeyType changed while DNS sends pebble to an address where
#      nothing listens: "error" with the CA's problem text, backoff.
#   4. Access: a request from 127.0.0.2 is refused by `Require ip
#      127.0.0.1`; the commented block shipped in conf/acme.conf, enabled,
#      serves local requests.
#
# Ports: STATUS_HTTPS_PORT (default 8463) for the vhost, the status
# handler on the http vhost at $HTTP01_PORT.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! id "$APACHE_USER" >/dev/null 2>&1; then
    t_begin "status handler end to end"
    t_skip "needs root and the user $APACHE_USER"
    t_summary; exit 0
fi
e2e_init

MOD=$TOP/mod_acme.so
[ -f "$MOD" ] || e2e_die "$MOD does not exist (run ./configure && make)"
STATUS_HTTPS_PORT=${STATUS_HTTPS_PORT:-8463}
cp "$TOP/acmectl" "$WORK/acmectl" && chmod 755 "$WORK/acmectl" \
    || e2e_die "cannot copy acmectl into $WORK"

NAME=st.example.test
STORE=$WORK/store
BASE_URL="http://127.0.0.1:$HTTP01_PORT/.well-known/acme-status"
d=$(www_dir st); echo "st" > "$d/index.html"; chmod 644 "$d/index.html"

# status_block: the handler's <Location> (default: only 127.0.0.1).
STATUS_BLOCK='<Location /.well-known/acme-status>
    SetHandler acme-status
    Require ip 127.0.0.1
</Location>'

# module_config [KEYTYPE]
module_config() {
    cat <<EOF
LoadModule acme_module "$MOD"
LoadModule status_module "$APACHE_MODDIR/mod_status.so"
LogLevel info ssl:warn
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$STORE"
ACMEAgreeToS on
ACMEContact e2e@example.test
ACMEPortMap 80:$HTTP01_PORT 443:$STATUS_HTTPS_PORT
ACMECheckInterval 5s
ACMEChallenges http-01
ACMEWorkerBinary "$WORK/acmectl"
${1:+ACMEKeyType $1}

$STATUS_BLOCK
<Location /server-status>
    SetHandler server-status
    Require ip 127.0.0.1
</Location>

<VirtualHost 127.0.0.1:$STATUS_HTTPS_PORT>
    ServerName $NAME
    DocumentRoot "$WORK/www/st"
    SSLEngine on
    ACMEDomain $NAME
</VirtualHost>

<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $NAME
    DocumentRoot "$WORK/www/st"
</VirtualHost>
EOF
}
PORTS="$HTTP01_PORT $STATUS_HTTPS_PORT"
elog() { printf '%s/logs/error.log\n' "$(apache_dir st)"; }
show_log() { grep -E 'acme:|AH00|Segmentation' "$(elog)" | tail -n 15 | sed 's/^/#   /'; }

# get PATH [CURL ARGS...]: GET $BASE_URL$PATH; body in $WORK/body, headers
# in $WORK/headers; prints the status code.
get() {
    local path=$1; shift
    curl -s --max-time 10 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
        "$@" "$BASE_URL$path"
}
# st FIELD: the field of our lineage in a fresh status JSON ("null" if none).
st() {
    [ "$(get "")" = 200 ] || { echo "http-error"; return; }
    jq -r --arg n "$NAME" --arg k "$1" \
        '.certificates[] | select(.name == $n) | .[$k] | if . == null then "null" else tostring end' \
        "$WORK/body" 2>/dev/null
}
# iso_future ISO: the time is after now.
iso_future() { [ "$1" != null ] && [ "$(date -u -d "$1" +%s 2>/dev/null || echo 0)" -gt "$(date +%s)" ]; }
no_private_key() {
    ! grep -qE 'PRIVATE KEY|BEGIN ' "$@"
}

# strict parser of Prometheus' text format 0.0.4; prints NAME VALUE for our
# lineage's samples, or an error and exit 1.
prom_parse() {
    python3 - "$1" "$NAME" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
want = sys.argv[2]
NAME = r'[a-zA-Z_:][a-zA-Z0-9_:]*'
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r'^(' + NAME + r')\{(' + LABEL + r'(?:,' + LABEL + r')*)\} (\S+)$')
def fail(msg, line=""):
    print("prometheus: %s: %r" % (msg, line)); sys.exit(1)
if not text.endswith("\n"):
    fail("no final newline")
types, helps, series, out = {}, set(), set(), []
for line in text[:-1].split("\n"):
    if line.startswith("# HELP "):
        name = line.split(" ")[2]
        if not re.fullmatch(NAME, name) or name in helps: fail("bad HELP", line)
        helps.add(name); continue
    if line.startswith("# TYPE "):
        parts = line.split(" ")
        if len(parts) != 4 or not re.fullmatch(NAME, parts[2]) or parts[2] in types \
           or parts[3] not in ("counter", "gauge", "histogram", "summary", "untyped"):
            fail("bad TYPE", line)
        if parts[2] in [s[0] for s in series]: fail("TYPE after samples", line)
        types[parts[2]] = parts[3]; continue
    if not line or line.startswith("#"): fail("unexpected line", line)
    m = SAMPLE.match(line)
    if not m: fail("bad sample", line)
    name, labels, value = m.group(1), m.group(2), m.group(len(m.groups()))
    if name not in types: fail("sample without TYPE", line)
    if types[name] == "counter" and not name.endswith("_total"): fail("counter without _total", line)
    try: v = float(value)
    except ValueError: fail("bad value", line)
    lab = dict((k, re.sub(r'\\(.)', lambda x: {"n": "\n"}.get(x.group(1), x.group(1)), val))
               for k, val in re.findall(LABEL, labels))
    key = (name, tuple(sorted(lab.items())))
    if key in series: fail("duplicate series", line)
    series.add(key)
    if lab.get("name") == want: out.append("%s %s" % (name, value))
for n in types:
    if n not in helps: fail("TYPE without HELP", n)
print("\n".join(out))
PY
}

challtestsrv_start
pebble_stop

# ===========================================================================
# 1. fallback, CA down

if ! apache_start st "$PORTS" "$(module_config)"; then
    t_begin "harness: Apache with the module starts"
    t_fail "Apache did not start; see $(elog)"
    t_summary; exit 1
fi

t_begin "CA down: state fallback, the failure recorded, backoff_until in the future"
if ! wait_until 30 sh -c "[ \"\$(curl -s '$BASE_URL' | jq -r '.certificates[0].last_attempt')\" != null ]"; then
    t_fail "no attempt recorded within 30 s: $(cat "$WORK/body" 2>/dev/null)"; show_log
else
    s=$(st state); f=$(st failures); b=$(st backoff_until); e=$(st last_error)
    r=$(st next_renewal_reason); na=$(st not_after); p=$(st paths)
    if [ "$s" != fallback ]; then t_fail "state $s, want fallback"
    elif [ "$f" -lt 1 ]; then t_fail "failures $f"
    elif ! iso_future "$b"; then t_fail "backoff_until $b not in the future"
    elif [ "$(st next_renewal)" != "$b" ]; then t_fail "next_renewal $(st next_renewal) != backoff_until $b"
    elif [ "$e" = null ] || [ -z "$e" ]; then t_fail "no last_error"
    elif [ "$r" != missing ]; then t_fail "next_renewal_reason $r"
    elif [ "$na" != null ] || [ "$p" != null ]; then t_fail "certificate facts without a certificate: $na $p"
    elif ! grep -qi '^content-type: application/json' "$WORK/headers"; then t_fail "content type: $(grep -i content-type "$WORK/headers")"
    else t_pass; e2e_log "fallback: $e (backoff until $b)"
    fi
fi

# ===========================================================================
# 2. valid

pebble_start
rm -f "$STORE/state/$NAME.json"
apache_reload st || e2e_die "reload failed"

t_begin "after issuance: state valid with the certificate's facts"
if ! wait_until 90 sh -c "curl -s '$BASE_URL' | jq -e '.certificates[0].state == \"valid\"' >/dev/null"; then
    t_fail "not valid within 90 s: $(curl -s "$BASE_URL")"; show_log
else
    cert=$STORE/live/$NAME/cert.pem
    serial=$(openssl x509 -in "$cert" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f' | sed 's/^0*//')
    got_serial=$(st serial | sed 's/^0*//')
    na=$(date -u -d "$(openssl x509 -in "$cert" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ)
    issuer=$(openssl x509 -in "$cert" -noout -issuer -nameopt multiline | sed -n 's/^ *commonName *= //p')
    if [ "$got_serial" != "$serial" ]; then t_fail "serial $got_serial, want $serial"
    elif [ "$(st not_after)" != "$na" ]; then t_fail "not_after $(st not_after), want $na"
    elif [ "$(st issuer)" != "$issuer" ]; then t_fail "issuer $(st issuer), want $issuer"
    elif [ "$(st key_type)" != ec256 ]; then t_fail "key_type $(st key_type)"
    elif [ "$(st version)" != 1 ] || [ "$(st renewals)" != 1 ]; then t_fail "version $(st version) renewals $(st renewals)"
    elif [ "$(st challenge)" != http-01 ]; then t_fail "challenge $(st challenge)"
    elif [ "$(st failures)" != 0 ] || [ "$(st backoff_until)" != null ] || [ "$(st last_error)" != null ]; then
        t_fail "failure fields not reset: $(cat "$WORK/body")"
    elif [ "$(st next_renewal_reason)" != window ] || ! iso_future "$(st next_renewal)"; then
        t_fail "next renewal $(st next_renewal) ($(st next_renewal_reason))"
    elif [ "$(jq -r '.certificates[0].paths.privkey' "$WORK/body")" != "$STORE/live/$NAME/privkey.pem" ]; then
        t_fail "paths: $(jq -c '.certificates[0].paths' "$WORK/body")"
    elif [ "$(jq -r '.generated' "$WORK/body")" = null ]; then t_fail "no generated"
    else t_pass
    fi
fi

t_begin "GET .../NAME gives that lineage, an unknown name 404, POST 405"
code=$(get "")
jq -S --arg n "$NAME" '.certificates[] | select(.name == $n)' "$WORK/body" > "$WORK/from-list.json"
code1=$(get "/$NAME"); jq -S . "$WORK/body" > "$WORK/one.json" 2>/dev/null
code2=$(get "/nosuch.example.test")
code3=$(get "/$NAME" -X POST)
code4=$(get "/a/b")
if [ "$code1" != 200 ] || ! cmp -s "$WORK/from-list.json" "$WORK/one.json"; then
    t_fail "GET /$NAME: $code1 $(cat "$WORK/one.json")"
elif [ "$code2" != 404 ]; then t_fail "unknown name: $code2"
elif [ "$code3" != 405 ]; then t_fail "POST: $code3"
elif [ "$code4" != 404 ]; then t_fail "two segments: $code4"
else t_pass
fi

t_begin "?format=prometheus: text/plain version 0.0.4, parses strictly, values match the JSON"
code=$(get "?format=prometheus")
cp "$WORK/body" "$WORK/metrics.txt"
if [ "$code" != 200 ]; then t_fail "status $code"
elif ! grep -qi '^content-type: text/plain; version=0.0.4' "$WORK/headers"; then
    t_fail "content type: $(grep -i content-type "$WORK/headers")"
elif ! out=$(prom_parse "$WORK/metrics.txt"); then t_fail "$out"
else
    na_s=$(date -u -d "$(st not_after)" +%s)
    v() { printf '%s\n' "$out" | awk -v m="$1" '$1 == m { print $2 }'; }
    if [ "$(v acme_certificate_not_after_seconds)" != "$na_s" ]; then t_fail "not_after $(v acme_certificate_not_after_seconds) != $na_s"
    elif [ "$(v acme_certificate_valid)" != 1 ]; then t_fail "valid $(v acme_certificate_valid)"
    elif [ "$(v acme_certificate_failures)" != 0 ]; then t_fail "failures"
    elif [ "$(v acme_certificate_renewals_total)" != 1 ]; then t_fail "renewals_total"
    elif [ -z "$(v acme_certificate_last_success_seconds)" ] || [ -z "$(v acme_certificate_not_before_seconds)" ]; then
        t_fail "missing metrics: $out"
    elif ! grep -q '^# TYPE acme_certificate_renewals_total counter$' "$WORK/metrics.txt"; then t_fail "counter TYPE"
    else
        code=$(get "/$NAME?format=prometheus")
        if [ "$code" != 200 ] || [ "$(grep -vc '^#' "$WORK/body")" != "$(printf '%s\n' "$out" | wc -l)" ]; then
            t_fail "single lineage prometheus: $code"
        else t_pass
        fi
    fi
fi

t_begin "server-status lists the lineage (HTML and ?auto)"
html=$(curl -s --max-time 10 "http://127.0.0.1:$HTTP01_PORT/server-status")
auto=$(curl -s --max-time 10 "http://127.0.0.1:$HTTP01_PORT/server-status?auto")
if ! printf '%s' "$html" | grep -q "ACME certificates"; then t_fail "no section in HTML"
elif ! printf '%s' "$html" | grep -q "<td>$NAME</td>.*<td>valid</td>"; then t_fail "lineage not in HTML table"
elif ! printf '%s\n' "$auto" | grep -q "^ACMECertificate_$NAME: state=valid "; then
    t_fail "?auto: $(printf '%s\n' "$auto" | grep ACME)"
elif ! printf '%s\n' "$auto" | grep -q '^ACMECertificatesTotal: 1$'; then t_fail "?auto total"
else t_pass
fi

t_begin "acmectl status --json equals the handler's object; text form; certificates --json shares fields"
get "/$NAME" >/dev/null; jq -S . "$WORK/body" > "$WORK/handler.json"
if ! acmectl_run status --cert-name "$NAME" --json --config-dir "$STORE"; then
    t_fail "acmectl status failed"; last_failure_diag
elif ! jq -S . "$WORK/last.out" > "$WORK/ctl.json" || ! cmp -s "$WORK/ctl.json" "$WORK/handler.json"; then
    t_fail "differ: $(diff "$WORK/ctl.json" "$WORK/handler.json" | head -20 | tr '\n' ' ')"
elif ! acmectl_run status --json --config-dir "$STORE" \
     || [ "$(jq -S --arg n "$NAME" '.certificates[] | select(.name == $n)' "$WORK/last.out")" != "$(cat "$WORK/handler.json")" ]; then
    t_fail "the list's entry differs"
elif ! acmectl_run status --config-dir "$STORE" || ! grep -q "^$NAME: valid$" "$WORK/last.out"; then
    t_fail "text: $(head -3 "$WORK/last.out")"
elif ! acmectl_run certificates --json --config-dir "$STORE"; then t_fail "certificates --json"
else
    mism=""
    for k in name domains not_before not_after serial issuer key_type version; do
        a=$(jq -c --arg n "$NAME" --arg k "$k" '.certificates[] | select(.name == $n) | .[$k]' "$WORK/last.out")
        b=$(jq -c --arg k "$k" '.[$k]' "$WORK/handler.json")
        [ "$a" = "$b" ] || mism="$mism $k($a vs $b)"
    done
    if acmectl_run status --cert-name nosuch --config-dir "$STORE"; then t_fail "unknown name accepted"
    elif [ -n "$mism" ]; then t_fail "certificates --json differs:$mism"
    else t_pass
    fi
fi

t_begin "no private key in any output; keys stay root 0600 in 0700 directories; summaries 0644"
outs=("$WORK/metrics.txt" "$WORK/handler.json" "$WORK/ctl.json")
curl -s "$BASE_URL" > "$WORK/all.json"; outs+=("$WORK/all.json")
curl -s "http://127.0.0.1:$HTTP01_PORT/server-status" > "$WORK/ss.html"; outs+=("$WORK/ss.html")
acmectl_run status --config-dir "$STORE"; cp "$WORK/last.out" "$WORK/ctl.txt"; outs+=("$WORK/ctl.txt")
keyline=$(sed -n 2p "$STORE/live/$NAME/privkey.pem")
if ! no_private_key "${outs[@]}"; then t_fail "PEM in an output"
elif grep -qF -- "$keyline" "${outs[@]}" "$STORE/status/$NAME.json"; then t_fail "key material in an output"
elif ! check_mode "$STORE/archive/$NAME/privkey1.pem" 600 || ! check_mode "$STORE/live" 700 \
     || ! check_mode "$STORE/archive" 700; then t_fail "key permissions changed"
elif ! check_mode "$STORE/status/$NAME.json" 644 || ! check_mode "$STORE/status" 755; then t_fail "summary modes"
elif runuser -u "$APACHE_USER" -- cat "$STORE/live/$NAME/privkey.pem" >/dev/null 2>&1; then
    t_fail "$APACHE_USER can read the private key"
elif ! runuser -u "$APACHE_USER" -- cat "$STORE/status/$NAME.json" >/dev/null 2>&1; then
    t_fail "$APACHE_USER cannot read the summary"
else t_pass
fi

# ===========================================================================
# 3. error with the CA's message

# pebble resolves the name to an address where nothing listens
curl -sf -X POST -d "{\"host\":\"$NAME.\",\"addresses\":[\"127.0.0.9\"]}" \
    "http://127.0.0.1:$CTS_MGMT_PORT/add-a" >/dev/null || e2e_log "add-a failed"
apache_reload st "$(module_config rsa2048)" || e2e_die "reload failed"

t_begin "a failed renewal: state error with the CA's problem, backoff, certificate kept"
if ! wait_until 60 sh -c "curl -s '$BASE_URL' | jq -e '.certificates[0].state == \"error\"' >/dev/null"; then
    t_fail "no error state within 60 s: $(curl -s "$BASE_URL")"; show_log
else
    e=$(st last_error); pr=$(st last_problem); b=$(st backoff_until)
    want=$(jq -r '.last_error' "$STORE/state/$NAME.json")
    if [ "$e" != "$want" ] || [ "$e" = null ]; then t_fail "last_error '$e', state file '$want'"
    elif [ "$pr" != "$(jq -r '.last_problem // "null"' "$STORE/state/$NAME.json")" ]; then t_fail "last_problem '$pr'"
    elif ! printf '%s' "$e" | grep -q '127\.0\.0\.9.*refused'; then t_fail "last_error is not pebble's validation error: $e"
    elif ! iso_future "$b"; then t_fail "backoff_until $b"
    elif [ "$(st next_renewal)" != "$b" ]; then t_fail "next_renewal $(st next_renewal) != $b"
    elif [ "$(st next_renewal_reason)" != "key type changed" ]; then t_fail "reason $(st next_renewal_reason)"
    elif [ "$(st version)" != 1 ] || [ "$(st failures)" != 1 ]; then t_fail "version $(st version) failures $(st failures)"
    else
        get "/$NAME" >/dev/null; jq -S 'del(.next_renewal, .next_renewal_reason)' "$WORK/body" > "$WORK/handler.json"
        acmectl_run status --cert-name "$NAME" --json --config-dir "$STORE"
        jq -S 'del(.next_renewal, .next_renewal_reason)' "$WORK/last.out" > "$WORK/ctl.json"
        if ! cmp -s "$WORK/ctl.json" "$WORK/handler.json"; then
            t_fail "acmectl differs: $(diff "$WORK/ctl.json" "$WORK/handler.json" | head | tr '\n' ' ')"
        elif ! out=$(get "?format=prometheus" >/dev/null; prom_parse "$WORK/body"); then t_fail "$out"
        elif ! printf '%s\n' "$out" | grep -q '^acme_certificate_failures 1$' \
             || ! printf '%s\n' "$out" | grep -q '^acme_certificate_valid 1$'; then t_fail "metrics: $out"
        else t_pass; e2e_log "error: $e ($pr)"
        fi
    fi
fi

# ===========================================================================
# 4. access

t_begin "Require ip 127.0.0.1: a request from 127.0.0.2 gets 403, from 127.0.0.1 200"
c2=$(get "" --interface 127.0.0.2)
c1=$(get "")
if [ "$c2" != 403 ]; then t_fail "from 127.0.0.2: $c2"
elif [ "$c1" != 200 ]; then t_fail "from 127.0.0.1: $c1"
else t_pass
fi

t_begin "the block shipped in conf/acme.conf (uncommented) passes configtest and serves local requests"
shipped=$(sed -n '/^ *# *<Location \/\.well-known\/acme-status>/,/^ *# *<\/Location>/p' "$TOP/conf/acme.conf" | sed 's/^ *# \{0,1\}//')
if [ -z "$shipped" ]; then t_fail "no commented acme-status block in conf/acme.conf"
elif ! printf '%s\n' "$shipped" | grep -q 'Require local'; then t_fail "the block does not say Require local"
else
    STATUS_BLOCK=$shipped
    if ! apache_reload st "$(module_config rsa2048)"; then t_fail "configtest/reload with the shipped block failed"
    elif [ "$(get "")" != 200 ]; then t_fail "local request refused: $(cat "$WORK/body")"
    else t_pass
    fi
fi

t_summary
