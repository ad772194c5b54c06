#!/usr/bin/env bash
# test/e2e/t_import.sh -- acmectl import: Certbot's lineages and account
# adopted by the store, served by the module without a new order, renewed
# by the module and by acmectl renew with Certbot's account.
#
# Debian's certbot (certonly --standalone against pebble) makes two
# lineages in $WORK/cb/le: imp.example.test (later served by the module)
# and mail.example.test (renewed by acmectl renew). Then:
#
#   1. import into a fresh store: the archive versions byte for byte with
#      the same numbers, live/ relative links, modes, renewal conf (Certbot's
#      params, our paths, our account id), the account converted (one
#      account, same URL);
#   2. importing again changes nothing; --cert-name imports one lineage;
#      after certbot renew, importing again adds only the new version;
#   3. a different lineage of the same name in the store is skipped, --force
#      replaces it; a Certbot lineage whose key does not match its
#      certificate is refused and nothing of it is written; the same
#      directory as source and store is refused;
#   4. acmectl renew --cert-name mail.example.test --force-renewal: version
#      2, with the imported account (no new account at pebble);
#   5. the module (ACMEStoreDir = the store) serves Certbot's certificate,
#      the same serial, with no new order;
#   6. ACMERenewWindow 2000d: the module renews it (cert3.pem), served, with
#      the imported account (pebble still has one account).
#
# Also: a third Certbot lineage, hooks.example.test, made with --pre-hook,
# --deploy-hook and --post-hook: import keeps them in its renewal conf and
# acmectl renew runs them; and a copy of Certbot's dir with scripts in
# renewal-hooks/{pre,deploy,post}/ (links into and out of the tree, a FIFO,
# a directory, ...): import copies the executables, reports the rest.
#
# Needs root and www-data (the module), and certbot. IMPORT_HTTPS_PORT
# (default 8477) is the module's HTTPS port.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! id "$APACHE_USER" >/dev/null 2>&1; then
    t_begin "acmectl import end to end"
    t_skip "needs root and the user $APACHE_USER"
    t_summary; exit 0
fi
if ! command -v certbot >/dev/null 2>&1; then
    t_begin "acmectl import end to end"
    t_skip "certbot is not installed (scripts/install-deps.sh installs it)"
    t_summary; exit 0
fi
e2e_init
challtestsrv_start
pebble_start

MOD=$TOP/mod_acme.so
[ -f "$MOD" ] || e2e_die "$MOD does not exist (run ./configure && make)"
[ -x "$ACMECTL" ] || e2e_die "$ACMECTL does not exist (run make)"
IMPORT_HTTPS_PORT=${IMPORT_HTTPS_PORT:-8477}
HP=$IMPORT_HTTPS_PORT

CB=$WORK/cb
LE=$CB/le
L1=imp.example.test
L2=mail.example.test
json_get() { jq -r --arg k "$2" '.[$k] | if . == null then "null" else tostring end' "$1" 2>/dev/null; }
conf_param() { sed -n "s/^$2 = //p" "$1" | head -n 1; }
pebble_accounts() { grep -c 'There are now [0-9]* accounts' "$WORK/pebble.log"; }
pebble_orders() { grep -c 'POST /order-plz' "$WORK/pebble.log"; }
account_dirs() { find "$1/accounts" -name regr.json 2>/dev/null | wc -l; }

L3=hooks.example.test
LHOOKS=$WORK/lineage-hooks
LHOOKLOG=$WORK/lineage-hooks.log

# certbot_certonly NAME [CERTBOT-OPTION...]: Debian's certbot against
# pebble (standalone).
certbot_certonly() {
    local name=$1; shift
    mkdir -p "$CB"
    REQUESTS_CA_BUNDLE=$ACME_CA_BUNDLE timeout 120 certbot certonly \
        --standalone --http-01-port "$HTTP01_PORT" -d "$name" \
        --server "$ACME_SERVER" --config-dir "$LE" --work-dir "$CB/work" \
        --logs-dir "$CB/logs" --agree-tos -m t@example.test \
        --non-interactive "$@" >>"$CB/certbot.out" 2>&1
}

# per-lineage hooks for $L3, as an administrator gives them to Certbot
mkdir -p "$LHOOKS"
printf '#!/bin/sh\necho pre >> "%s"\n' "$LHOOKLOG" > "$LHOOKS/pre"
printf '#!/bin/sh\necho "deploy $RENEWED_LINEAGE $RENEWED_DOMAINS" >> "%s"\n' "$LHOOKLOG" > "$LHOOKS/deploy"
printf '#!/bin/sh\necho "post $RENEWED_DOMAINS" >> "%s"\n' "$LHOOKLOG" > "$LHOOKS/post"
chmod 755 "$LHOOKS"/*

t_begin "certbot certonly --standalone against pebble: three lineages, one account"
if ! certbot_certonly "$L1" || ! certbot_certonly "$L2" \
   || ! certbot_certonly "$L3" --pre-hook "$LHOOKS/pre" \
          --deploy-hook "$LHOOKS/deploy" --post-hook "$LHOOKS/post"; then
    e2e_show_file "$CB/certbot.out" 30
    t_fail "certbot certonly failed"
    t_summary; exit 1
fi
if [ ! -L "$LE/live/$L1/cert.pem" ] || [ ! -L "$LE/live/$L2/cert.pem" ] \
   || [ "$(find "$LE/accounts" -name private_key.json | wc -l)" != 1 ]; then
    t_fail "unexpected Certbot layout: $(cd "$LE" && find . | head -n 40 | tr '\n' ' ')"
    t_summary; exit 1
fi
CB_ACCOUNT_DIR=$(dirname "$(find "$LE/accounts" -name private_key.json)")
CB_URL=$(json_get "$CB_ACCOUNT_DIR/regr.json" uri)
CB_SERIAL1=$(cert_serial "$LE/live/$L1/cert.pem")
e2e_log "Certbot account $CB_URL, $L1 serial $CB_SERIAL1"
t_pass

S=$WORK/store
case_import() {
    t_begin "import: archive versions, live links, modes, renewal conf and account as Certbot's, converted"
    local n f id
    if ! acmectl_run import --certbot-dir "$LE" --config-dir "$S"; then
        last_failure_diag; t_fail "import failed"; return
    fi
    for n in $L1 $L2; do
        t_check "$n layout" check_lineage "$S" "$n" 1 || return
        for f in cert chain fullchain privkey; do
            cmp -s "$LE/archive/$n/${f}1.pem" "$S/archive/$n/${f}1.pem" \
                || { t_fail "$n: ${f}1.pem differs from Certbot's"; return; }
        done
    done
    [ "$(cert_serial "$S/live/$L1/cert.pem")" = "$CB_SERIAL1" ] \
        || { t_fail "serial changed"; return; }
    [ "$(account_dirs "$S")" = 1 ] || { t_fail "$(account_dirs "$S") accounts in the store, want 1"; return; }
    f=$(find "$S/accounts" -name regr.json)
    id=$(basename "$(dirname "$f")")
    [ "$(json_get "$f" uri)" = "$CB_URL" ] || { t_fail "account URL $(json_get "$f" uri), want $CB_URL"; return; }
    [ "$(dirname "$f")" = "$S/accounts/localhost:$PEBBLE_PORT/dir/$id" ] \
        || { t_fail "account at $f"; return; }
    t_check "account key mode" check_mode "$(dirname "$f")/private_key.pem" 600 || return
    openssl pkey -in "$(dirname "$f")/private_key.pem" -noout 2>/dev/null \
        || { t_fail "private_key.pem is not a PEM key"; return; }
    for n in $L1 $L2; do
        f=$S/renewal/$n.conf
        [ "$(conf_param "$f" account)" = "$id" ] || { t_fail "$n.conf: account $(conf_param "$f" account), want $id"; return; }
        [ "$(conf_param "$f" authenticator)" = standalone ] || { t_fail "$n.conf: authenticator"; return; }
        [ "$(conf_param "$f" server)" = "$ACME_SERVER" ] || { t_fail "$n.conf: server"; return; }
        [ "$(conf_param "$f" http01_port)" = "$HTTP01_PORT" ] || { t_fail "$n.conf: http01_port"; return; }
        [ "$(conf_param "$f" key_type)" = ecdsa ] || { t_fail "$n.conf: key_type"; return; }
        [ "$(conf_param "$f" cert)" = "$S/live/$n/cert.pem" ] || { t_fail "$n.conf: cert = $(conf_param "$f" cert)"; return; }
        grep -q "^config_dir" "$f" && { t_fail "$n.conf keeps Certbot's config_dir"; return; }
    done
    IMPORTED_ID=$id
    # acmectl reads it like its own lineages
    acmectl_run certificates --config-dir "$S" && grep -qi "$CB_SERIAL1" "$WORK/last.out" \
        || { t_fail "acmectl certificates does not list $L1 with serial $CB_SERIAL1"; return; }
    t_pass
}
case_import

case_again() {
    t_begin "import again: nothing changes; --cert-name imports only that lineage"
    local before after
    before=$(store_snapshot "$S")
    if ! acmectl_run import --certbot-dir "$LE" --config-dir "$S"; then
        last_failure_diag; t_fail "second import failed"; return
    fi
    after=$(store_snapshot "$S")
    [ "$before" = "$after" ] || { t_fail "the store changed: $(diff <(echo "$before") <(echo "$after") | head -n 5 | tr '\n' ' ')"; return; }
    grep -q "already imported" "$WORK/last.out" || { t_fail "no 'already imported' message: $(cat "$WORK/last.out")"; return; }
    if ! acmectl_run import --from "$LE" --config-dir "$WORK/store-one" --cert-name "$L2"; then
        last_failure_diag; t_fail "import --cert-name failed"; return
    fi
    [ -e "$WORK/store-one/live/$L1" ] && { t_fail "--cert-name $L2 imported $L1 too"; return; }
    t_check "$L2 layout" check_lineage "$WORK/store-one" "$L2" 1 || return
    if acmectl_run import --from "$LE" --config-dir "$WORK/store-one" --cert-name nosuch.example.test; then
        t_fail "an unknown --cert-name succeeded"; return
    fi
    t_check "one-line error" last_err_one_line || return
    t_pass
}
case_again

case_certbot_renewed() {
    t_begin "Certbot renewed after the import: importing again adds only the new version and moves live/"
    local before
    if ! REQUESTS_CA_BUNDLE=$ACME_CA_BUNDLE timeout 120 certbot renew --cert-name "$L1" \
            --force-renewal --no-random-sleep-on-renew --config-dir "$LE" --work-dir "$CB/work" \
            --logs-dir "$CB/logs" --non-interactive >>"$CB/certbot.out" 2>&1; then
        e2e_show_file "$CB/certbot.out" 20; t_fail "certbot renew failed"; return
    fi
    [ -L "$LE/live/$L1/cert.pem" ] && [ "$(readlink "$LE/live/$L1/cert.pem")" = "../../archive/$L1/cert2.pem" ] \
        || { t_fail "certbot did not make version 2"; return; }
    before=$(sha256sum "$S/archive/$L1/cert1.pem")
    if ! acmectl_run import --certbot-dir "$LE" --config-dir "$S"; then
        last_failure_diag; t_fail "import failed"; return
    fi
    grep -q "Updated $L1: 1 new version" "$WORK/last.out" || { t_fail "no update message: $(cat "$WORK/last.out")"; return; }
    grep -q "$L2: already imported" "$WORK/last.out" || { t_fail "$L2 not reported unchanged"; return; }
    t_check "$L1 at version 2" check_lineage "$S" "$L1" 2 || return
    cmp -s "$LE/archive/$L1/cert2.pem" "$S/archive/$L1/cert2.pem" || { t_fail "cert2.pem differs"; return; }
    [ "$before" = "$(sha256sum "$S/archive/$L1/cert1.pem")" ] || { t_fail "cert1.pem changed"; return; }
    [ "$(account_dirs "$S")" = 1 ] || { t_fail "$(account_dirs "$S") accounts"; return; }
    CB_SERIAL1=$(cert_serial "$LE/live/$L1/cert.pem")
    t_pass
}
case_certbot_renewed

case_conflicts() {
    t_begin "a different lineage of the same name is skipped, --force replaces it; a key that does not match is refused; source = store refused"
    local C=$WORK/store-conflict B=$WORK/cb-bad before f
    # a store whose imp.example.test holds mail.example.test's files
    acmectl_run import --from "$LE" --config-dir "$C" --cert-name "$L2" || { last_failure_diag; t_fail "setup import"; return; }
    mkdir -p "$C/archive/$L1" && chmod 700 "$C/archive/$L1"
    for f in cert chain fullchain privkey; do
        cp -p "$C/archive/$L2/${f}1.pem" "$C/archive/$L1/${f}1.pem"
    done
    cp -a "$C/live/$L2" "$C/live/$L1"
    for f in cert chain fullchain privkey; do
        ln -sfn "../../archive/$L1/${f}1.pem" "$C/live/$L1/$f.pem"
    done
    sed "s/$L2/$L1/g" "$C/renewal/$L2.conf" > "$C/renewal/$L1.conf"
    before=$(store_snapshot "$C")
    if ! acmectl_run import --from "$LE" --config-dir "$C" --cert-name "$L1"; then
        last_failure_diag; t_fail "a skip is not a failure"; return
    fi
    grep -q "Skipping $L1" "$WORK/last.out" || { t_fail "no skip message: $(cat "$WORK/last.out")"; return; }
    [ "$before" = "$(store_snapshot "$C")" ] || { t_fail "the skipped lineage was changed"; return; }
    if ! acmectl_run import --from "$LE" --config-dir "$C" --cert-name "$L1" --force; then
        last_failure_diag; t_fail "--force failed"; return
    fi
    cmp -s "$LE/archive/$L1/cert1.pem" "$C/archive/$L1/cert1.pem" || { t_fail "--force did not replace cert1.pem"; return; }
    t_check "$L1 layout after --force" check_lineage "$C" "$L1" 2 || return
    cmp -s "$LE/archive/$L1/cert2.pem" "$C/archive/$L1/cert2.pem" || { t_fail "--force did not import cert2.pem"; return; }

    # Certbot's imp.example.test with mail.example.test's key
    cp -a "$LE" "$B"
    cp "$LE/archive/$L2/privkey1.pem" "$B/archive/$L1/privkey1.pem"
    if acmectl_run import --from "$B" --config-dir "$WORK/store-bad"; then
        t_fail "a lineage whose key does not match was imported"; return
    fi
    grep -q "$L1: not imported: .*privkey1.pem is not the key of cert1.pem" "$WORK/last.err" \
        || { t_fail "no clear message: $(cat "$WORK/last.err")"; return; }
    for f in "live/$L1" "archive/$L1" "renewal/$L1.conf"; do
        [ -e "$WORK/store-bad/$f" ] && { t_fail "$f was written for the refused lineage"; return; }
    done
    t_check "the other lineage is imported" check_lineage "$WORK/store-bad" "$L2" 1 || return

    # the same directory as Certbot's dir and the store
    if acmectl_run import --certbot-dir "$LE" --config-dir "$LE"; then
        t_fail "importing a directory into itself succeeded"; return
    fi
    t_check "one-line error" last_err_one_line || return
    t_pass
}
case_conflicts

case_acmectl_renew() {
    t_begin "acmectl renew --cert-name $L2 --force-renewal: version 2 with the imported account"
    local acc_before
    acc_before=$(pebble_accounts)
    if ! acmectl_run renew --config-dir "$S" --cert-name "$L2" --force-renewal --ca-bundle "$ACME_CA_BUNDLE"; then
        last_failure_diag; t_fail "renew failed"; return
    fi
    t_check "$L2 version 2" check_lineage "$S" "$L2" 2 || return
    check_cert_verifies "$S/live/$L2/cert.pem" "$S/live/$L2/chain.pem" || { t_fail "renewed cert does not verify"; return; }
    grep -qi "account registered" "$WORK/last.out" && { t_fail "a new account was registered"; return; }
    [ "$(account_dirs "$S")" = 1 ] || { t_fail "$(account_dirs "$S") accounts in the store"; return; }
    [ "$(pebble_accounts)" = "$acc_before" ] || { t_fail "pebble created an account"; return; }
    grep -q 'There are now 2 accounts' "$WORK/pebble.log" && { t_fail "pebble has 2 accounts"; return; }
    [ "$(conf_param "$S/renewal/$L2.conf" account)" = "$IMPORTED_ID" ] || { t_fail "renewal conf account changed"; return; }
    t_pass
}
case_acmectl_renew

case_lineage_hooks() {
    t_begin "Certbot's per-lineage hooks (pre_hook, renew_hook, post_hook): kept by import, run by acmectl renew"
    local k v f=$S/renewal/$L3.conf want got
    for k in pre_hook renew_hook post_hook; do
        v=$(conf_param "$LE/renewal/$L3.conf" "$k")
        [ -n "$v" ] || { t_fail "harness: Certbot wrote no $k in $L3.conf"; e2e_show_file "$LE/renewal/$L3.conf" 30; return; }
        [ "$(conf_param "$f" "$k")" = "$v" ] || { t_fail "$k is '$(conf_param "$f" "$k")' in the store, Certbot's is '$v'"; return; }
    done
    : > "$LHOOKLOG"
    if ! acmectl_run renew --config-dir "$S" --cert-name "$L3" --force-renewal --ca-bundle "$ACME_CA_BUNDLE"; then
        last_failure_diag; t_fail "renew failed"; return
    fi
    t_check "$L3 version 2" check_lineage "$S" "$L3" 2 || return
    want="pre|deploy $S/live/$L3 $L3|post $L3|"
    got=$(tr '\n' '|' < "$LHOOKLOG")
    [ "$got" = "$want" ] || { t_fail "hooks ran as '$got', want '$want'"; return; }
    for k in pre_hook renew_hook post_hook; do
        [ "$(conf_param "$f" "$k")" = "$(conf_param "$LE/renewal/$L3.conf" "$k")" ] \
            || { t_fail "the renewal dropped $k from $L3.conf"; return; }
    done
    # a hook on the command line replaces the lineage's for that phase
    : > "$LHOOKLOG"
    if ! acmectl_run renew --config-dir "$S" --cert-name "$L3" --force-renewal --ca-bundle "$ACME_CA_BUNDLE" \
            --deploy-hook "echo cli-deploy >> '$LHOOKLOG'"; then
        last_failure_diag; t_fail "renew with --deploy-hook failed"; return
    fi
    got=$(tr '\n' '|' < "$LHOOKLOG")
    [ "$got" = "pre|cli-deploy|post $L3|" ] || { t_fail "with --deploy-hook, hooks ran as '$got'"; return; }
    t_pass
}
case_lineage_hooks

case_hook_dirs() {
    t_begin "import copies Certbot's renewal-hooks/ executables (modes kept); links out of the tree, odd files and existing names reported"
    local B=$WORK/cb-hooks D=$WORK/store-hooks H before_src before f out
    rm -rf "$B" "$D"
    cp -a "$LE" "$B"
    H=$B/renewal-hooks
    mkdir -p "$H/pre" "$H/deploy" "$H/post" "$B/scripts"
    printf '#!/bin/sh\necho pre\n' > "$H/pre/10-stop"; chmod 750 "$H/pre/10-stop"
    printf '#!/bin/sh\necho deploy\n' > "$H/deploy/reload-mail"; chmod 755 "$H/deploy/reload-mail"
    printf 'notes, not a hook\n' > "$H/deploy/notes.txt"; chmod 644 "$H/deploy/notes.txt"
    printf '#!/bin/sh\necho in-tree\n' > "$B/scripts/in-tree.sh"; chmod 700 "$B/scripts/in-tree.sh"
    ln -s ../../scripts/in-tree.sh "$H/deploy/in-tree-link"
    printf '#!/bin/sh\necho outside\n' > "$WORK/outside-hook.sh"; chmod 755 "$WORK/outside-hook.sh"
    ln -s "$WORK/outside-hook.sh" "$H/deploy/outside-link"
    ln -s "../../archive/$L1/privkey1.pem" "$H/deploy/key-link"
    ln -s /nonexistent/hook "$H/post/dangling"
    mkdir "$H/post/subdir"
    mkfifo "$H/post/fifo"
    printf '#!/bin/sh\necho old\n' > "$H/post/backup~"; chmod 755 "$H/post/backup~"
    printf '#!/bin/sh\necho certbot\n' > "$H/post/existing"; chmod 755 "$H/post/existing"
    mkdir -p "$D/renewal-hooks/post"
    printf '#!/bin/sh\necho ours\n' > "$D/renewal-hooks/post/existing"; chmod 700 "$D/renewal-hooks/post/existing"
    # (no sha256 of the FIFO: reading it would block)
    src_listing() { find "$H" "$B/scripts" -printf '%p %y %m %l\n' | LC_ALL=C sort; find "$H" "$B/scripts" -type f -exec sha256sum {} + | LC_ALL=C sort; }
    before_src=$(src_listing)
    if ! acmectl_run import --certbot-dir "$B" --config-dir "$D"; then
        last_failure_diag; t_fail "import failed"; return
    fi
    out=$WORK/last.out
    # copied: regular files with Certbot's content and mode
    for f in pre/10-stop:750:"$H/pre/10-stop" deploy/reload-mail:755:"$H/deploy/reload-mail" \
             deploy/in-tree-link:700:"$B/scripts/in-tree.sh"; do
        local rel=${f%%:*} rest=${f#*:} mode src
        mode=${rest%%:*}; src=${rest#*:}
        if [ -L "$D/renewal-hooks/$rel" ] || [ ! -f "$D/renewal-hooks/$rel" ]; then
            t_fail "renewal-hooks/$rel is not a regular file in the store"; e2e_show_file "$out" 30; return
        fi
        cmp -s "$src" "$D/renewal-hooks/$rel" || { t_fail "renewal-hooks/$rel differs from $src"; return; }
        t_check "renewal-hooks/$rel mode" check_mode "$D/renewal-hooks/$rel" "$mode" || return
        grep -qF "Copied hook $H/$rel to $D/renewal-hooks/$rel" "$out" || { t_fail "no 'Copied hook' line for $rel"; e2e_show_file "$out" 30; return; }
    done
    # not copied, each with its reason
    for f in "deploy/notes.txt:not executable" \
             "deploy/outside-link:a symbolic link to $WORK/outside-hook.sh, outside" \
             "deploy/key-link:not executable" \
             "post/dangling:a symbolic link to /nonexistent/hook, which does not exist" \
             "post/subdir:a directory" "post/fifo:a FIFO" "post/backup~:a backup file"; do
        local rel=${f%%:*} why=${f#*:}
        [ -e "$D/renewal-hooks/$rel" ] || [ -L "$D/renewal-hooks/$rel" ] && { t_fail "renewal-hooks/$rel was copied"; return; }
        grep -F "hook $H/$rel not copied: " "$out" | grep -qF "$why" \
            || { t_fail "no '$rel not copied: $why' line"; e2e_show_file "$out" 30; return; }
    done
    [ "$(cat "$D/renewal-hooks/post/existing")" = "$(printf '#!/bin/sh\necho ours')" ] \
        || { t_fail "the store's own post/existing was replaced"; return; }
    t_check "post/existing mode" check_mode "$D/renewal-hooks/post/existing" 700 || return
    grep -qF "Skipping hook $H/post/existing: the store already has a different $D/renewal-hooks/post/existing" "$out" \
        || { t_fail "no skip message for post/existing"; e2e_show_file "$out" 30; return; }
    grep -q "3 hooks copied" "$out" || { t_fail "summary does not say 3 hooks copied: $(tail -n 1 "$out")"; return; }
    grep -q "Note: $L3 keeps its hooks (pre_hook = $LHOOKS/pre" "$out" \
        || { t_fail "no note about $L3's own hooks"; e2e_show_file "$out" 30; return; }
    [ "$before_src" = "$(src_listing)" ] || { t_fail "Certbot's directory was changed"; return; }
    # again: nothing changes, the copies are recognised
    before=$(store_snapshot "$D")
    if ! acmectl_run import --certbot-dir "$B" --config-dir "$D"; then
        last_failure_diag; t_fail "second import failed"; return
    fi
    [ "$before" = "$(store_snapshot "$D")" ] || { t_fail "the second import changed the store"; return; }
    grep -qF "Hook $H/deploy/reload-mail is already in the store" "$WORK/last.out" \
        || { t_fail "second import: no 'already in the store' line"; e2e_show_file "$WORK/last.out" 30; return; }
    grep -q "0 hooks copied" "$WORK/last.out" || { t_fail "second import copied hooks"; return; }
    rm -f "$H/post/fifo"
    t_pass
}
case_hook_dirs

# ---------------------------------------------------------------------------
# The module

cp "$ACMECTL" "$WORK/acmectl" && chmod 755 "$WORK/acmectl" || e2e_die "cannot copy acmectl"
module_config() {
    cat <<EOF
LoadModule acme_module "$MOD"
LogLevel info ssl:warn
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEStoreDir "$S"
ACMEAgreeToS on
ACMEContact e2e@example.test
ACMEPortMap 80:$HTTP01_PORT
ACMECheckInterval 5s
ACMEWorkerBinary "$WORK/acmectl"

<VirtualHost 127.0.0.1:$HP>
    ServerName $L1
    SSLEngine on
    ACMEDomain $L1
$([ -n "${1:-}" ] && echo "    ACMERenewWindow $1")
</VirtualHost>

<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $L1
</VirtualHost>
EOF
}
served_serial() {
    mkdir -p "$WORK/served"
    tls_served_chain "$HP" "$L1" "$WORK/served/$L1" || return 1
    cert_serial "$WORK/served/$L1.leaf.pem"
}
serves() { [ "$(served_serial)" = "$1" ]; }

case_module_serves() {
    t_begin "the module serves Certbot's certificate (same serial) without a new order"
    local orders
    orders=$(pebble_orders)
    if ! apache_start imp "$HTTP01_PORT $HP" "$(module_config)"; then
        t_fail "apache did not start"; return
    fi
    if ! wait_until 20 serves "$CB_SERIAL1"; then
        e2e_show_file "$(apache_dir imp)/logs/error.log" 15
        t_fail "served serial $(served_serial), want Certbot's $CB_SERIAL1"; return
    fi
    sleep 8     # more than one supervisor pass (ACMECheckInterval 5s)
    serves "$CB_SERIAL1" || { t_fail "the served certificate changed"; return; }
    [ "$(pebble_orders)" = "$orders" ] || { t_fail "pebble got $(( $(pebble_orders) - orders )) new order(s)"; return; }
    [ -e "$S/archive/$L1/cert3.pem" ] && { t_fail "cert3.pem appeared"; return; }
    grep -q "$L1: obtaining" "$(apache_dir imp)/logs/error.log" && { t_fail "the module tried to obtain a certificate"; return; }
    t_pass
}
case_module_serves

case_module_renews() {
    t_begin "ACMERenewWindow 2000d: the module renews the imported lineage with the imported account, keeping and running its Certbot hooks"
    local acc_before new k got want
    acc_before=$(pebble_accounts)
    apache_stop imp
    # the lineage's own hooks, as Certbot writes them for --pre-hook,
    # --deploy-hook and --post-hook
    sed -i "/^\[renewalparams\]/a pre_hook = $LHOOKS/pre\nrenew_hook = $LHOOKS/deploy\npost_hook = $LHOOKS/post" "$S/renewal/$L1.conf"
    : > "$LHOOKLOG"
    if ! apache_start imp "$HTTP01_PORT $HP" "$(module_config 2000d)"; then
        t_fail "apache did not start"; return
    fi
    if ! wait_until 60 test -s "$S/archive/$L1/cert3.pem"; then
        e2e_show_file "$(apache_dir imp)/logs/error.log" 20
        t_fail "no archive/$L1/cert3.pem within 60 s"; return
    fi
    new=$(cert_serial "$S/archive/$L1/cert3.pem")
    if ! wait_until 30 serves "$new"; then
        t_fail "cert3 ($new) is not served (served: $(served_serial))"; return
    fi
    t_check "$L1 version 3" check_lineage "$S" "$L1" 3 || return
    [ "$(account_dirs "$S")" = 1 ] || { t_fail "$(account_dirs "$S") accounts in the store, want the imported one"; return; }
    [ -d "$S/accounts/localhost:$PEBBLE_PORT/dir/$IMPORTED_ID" ] || { t_fail "the imported account is gone"; return; }
    [ "$(pebble_accounts)" = "$acc_before" ] || { t_fail "pebble created an account"; return; }
    grep -q 'There are now 2 accounts' "$WORK/pebble.log" && { t_fail "pebble has 2 accounts"; return; }
    [ "$(conf_param "$S/renewal/$L1.conf" account)" = "$IMPORTED_ID" ] \
        || { t_fail "renewal conf account $(conf_param "$S/renewal/$L1.conf" account), want $IMPORTED_ID"; return; }
    for k in pre_hook renew_hook post_hook; do
        [ -n "$(conf_param "$S/renewal/$L1.conf" "$k")" ] || { t_fail "the module's renewal dropped $k"; return; }
    done
    want="pre|deploy $S/live/$L1 $L1|post $L1|"
    wait_until 20 grep -q '^post' "$LHOOKLOG"
    got=$(tr '\n' '|' < "$LHOOKLOG")
    [ "$got" = "$want" ] || { t_fail "the lineage's hooks ran as '$got', want '$want'"; return; }
    t_pass
}
case_module_renews
apache_stop imp

t_summary
