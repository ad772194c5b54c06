#!/usr/bin/env bash
# test/e2e/t_crash.sh -- mod_acme survives kill -9 at awkward moments.
#
# Apache with the module behind test/e2e/ca_proxy.py (whose "delay" action
# holds one step of the order long enough to hit it). After a first good
# certificate, a renewal is forced and:
#   a. the worker is killed (SIGKILL) once the key and CSR are made (they
#      stay on the root side: no key is written before the lineage is)
#   b. the worker is killed while its http-01 answer file is in place
#   c. the worker is killed after finalize (certificate download held)
#   d. the whole httpd (parent, children, supervisor, worker) is killed
#      in the middle of a pass, then started again
#   e. a half-flipped live/ (cert.pem -> N+1, privkey.pem -> N), as a crash
#      in the middle of an activation leaves it, is repaired at the next load
#   f. an incomplete newest archive set (certN+1.pem alone) is ignored
# After each: the store is consistent (every live/ link points into one
# complete archive set whose key matches its certificate), the old
# certificate is still served, the staging key is not readable by others,
# no challenge answer is left behind after the next pass, and the next
# pass completes the order.
#
# Run: DNS_PORT=18353 CTS_MGMT_PORT=18355 PEBBLE_PORT=16300 \
#      PEBBLE_MGMT_PORT=16301 HTTP01_PORT=16302 TLSALPN_PORT=16303 \
#      bash test/e2e/run.sh t_crash.sh

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
hostile_require_root "mod_acme survives kill -9"
e2e_init
hostile_binaries
STORE=$WORK/store
DELAY=${CRASH_DELAY:-15}

challtestsrv_start
pebble_start
proxy_start

h_start "$PROXY_URL/dir" || { t_begin "harness: Apache starts"; t_fail "see $(h_elog)"; t_summary; exit 1; }
t_begin "a good certificate first (the baseline)"
if h_wait_first_cert 60 && wait_until 10 store_consistent "$STORE" "$H_NAME"; then
    t_pass
else
    t_fail "no certificate within 60 s"; h_show_log; t_summary; exit 1
fi
sleep 2

# worker_pids: our workers only (never another run's): the supervisor
# execs ACMEWorkerBinary with argv[0] "acmectl", so match the executable
worker_pids() {
    local p
    for p in $(pgrep -x acmectl 2>/dev/null); do
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$H_ACMECTL" ] && echo "$p"
    done
}
worker_running() { [ -n "$(worker_pids)" ]; }
kill_workers() {
    local p
    for p in $(worker_pids); do kill -9 "$p" 2>/dev/null; done
}
challenges_present() { [ -n "$(ls -A "$STORE/challenges" 2>/dev/null)" ]; }
finalized() {
    proxy_requests "$WORK/requests.json" \
        && jq -e '[.[] | select((.path | startswith("/finalize-order/")) and .status == 200)] | length > 0' \
               "$WORK/requests.json" >/dev/null
}

# staging_private: the in-flight key (if any) is 0600 in a 0700 directory
# and www-data cannot read it.
staging_private() {
    local d=$STORE/staging/$H_NAME f
    [ -d "$d" ] || return 0
    [ "$(stat -c %a "$d")" = 700 ] || { e2e_log "staging/$H_NAME is $(stat -c %a "$d")"; return 1; }
    for f in "$d"/*; do
        [ -f "$f" ] || continue
        case "$(stat -c %a "$f")" in 600|400) ;; *) e2e_log "$f is $(stat -c %a "$f")"; return 1 ;; esac
        if runuser -u "$APACHE_USER" -- cat "$f" >/dev/null 2>&1; then
            e2e_log "$APACHE_USER can read $f"; return 1
        fi
    done
}

# intact VERSION SERIAL: live/ at VERSION, consistent, SERIAL served.
intact() {
    [ "$(h_live_version)" = "$1" ] || { e2e_log "live/ at version $(h_live_version), want $1"; return 1; }
    store_consistent "$STORE" "$H_NAME" || return 1
    [ "$(h_served_serial)" = "$2" ] || { e2e_log "served serial $(h_served_serial), want $2"; return 1; }
}

# completes_next_pass VERSION: with the proxy well-behaved again and the
# lineage due, the next pass stores and activates a newer version, and
# leaves no challenge answer behind.
completes_next_pass() {
    local ver=$1
    proxy_control '{"rules": []}'
    h_force_due
    wait_until 60 eval '[ "$(h_live_version)" != "$ver" ] && [ "$(st_get status)" = valid ]' \
        || { e2e_log "no new version after the kill (status $(st_get status): $(st_get last_error))"; return 1; }
    wait_until 20 served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT" \
        || { e2e_log "the new certificate is not served"; return 1; }
    store_consistent "$STORE" "$H_NAME" || return 1
    # orphaned challenge answers are collected for the case at the end
    wait_until 5 eval '! challenges_present' || note_orphans
    staging_private || return 1
}

ORPHANS=""
note_orphans() {
    local f
    for f in $(ls -A "$STORE/challenges" 2>/dev/null); do
        case " $ORPHANS " in *" $f "*) ;; *) ORPHANS="$ORPHANS $f" ;; esac
    done
    e2e_log "challenge answers left after the next pass: $(ls -A "$STORE/challenges" | tr '\n' ' ')"
}

# kill_case TITLE RULES_JSON READY_CMD
kill_case() {
    local title=$1 rules=$2 ready=$3 ver serial att
    t_begin "kill -9 the worker $title"
    ver=$(h_live_version); serial=$(h_served_serial); att=$(st_get attempts)
    proxy_control "{\"rules\": $rules, \"clear_requests\": true}" || { t_fail "ca_proxy refused the rules"; return; }
    h_force_due
    if ! wait_until 40 eval "worker_running && $ready"; then
        t_fail "the worker never reached the point ($ready)"; h_show_log; proxy_control '{"rules": []}'; return
    fi
    staging_private || { t_fail "the staging key is readable by others while the worker runs"; return; }
    e2e_log "killing worker(s) $(worker_pids | tr '\n' ' ')(challenges: $(ls -A "$STORE/challenges" | tr '\n' ' '))"
    kill_workers
    if ! h_wait_attempt "$att" 20; then
        t_fail "the killed worker's attempt was not recorded"; h_show_log; return
    fi
    e2e_log "state: status=$(st_get status) last_error=$(st_get last_error)"
    [ "$(st_get status)" = error ] || { t_fail "status $(st_get status) after the kill"; return; }
    st_get last_error | grep -q 'signal 9' || { t_fail "last_error does not say the worker was killed: $(st_get last_error)"; return; }
    intact "$ver" "$serial" || { t_fail "the old certificate is not intact after the kill"; return; }
    staging_private || { t_fail "the staging key is readable by others after the kill"; return; }
    completes_next_pass "$ver" || { t_fail "the next pass did not complete cleanly"; return; }
    t_pass
}

kill_case "after key and CSR generation (newOrder held ${DELAY}s)" \
    "[{\"match\": {\"method\": \"POST\", \"endpoint\": \"newOrder\"}, \"action\": \"delay\", \"seconds\": $DELAY}]" \
    'sleep 2'
kill_case "while its http-01 answer is in place (challenge POST held ${DELAY}s)" \
    "[{\"match\": {\"method\": \"POST\", \"path_prefix\": \"/chalZ/\"}, \"action\": \"delay\", \"seconds\": $DELAY}]" \
    'challenges_present'
kill_case "after finalize (certificate download held ${DELAY}s)" \
    "[{\"match\": {\"method\": \"POST\", \"path_prefix\": \"/certZ/\"}, \"action\": \"delay\", \"seconds\": $DELAY}]" \
    'finalized'

# ---------------------------------------------------------------------------
# d. kill -9 the whole httpd in the middle of a pass

# descendants PID: PID and every process below it
descendants() {
    local c
    echo "$1"
    for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do descendants "$c"; done
}

t_begin "kill -9 the whole httpd (parent, children, supervisor, worker) in the middle of a pass; start again"
crash_whole() {
    local ver serial parent pids p
    ver=$(h_live_version); serial=$(h_served_serial)
    proxy_control "{\"rules\": [{\"match\": {\"method\": \"POST\", \"path_prefix\": \"/chalZ/\"}, \"action\": \"delay\", \"seconds\": $DELAY}], \"clear_requests\": true}"
    h_force_due
    wait_until 40 eval 'worker_running && challenges_present' \
        || { t_fail "the pass never reached the challenge"; return; }
    parent=$(apache_pid "$H_INST")
    pids=$(descendants "$parent")
    # the supervisor is in its own process group but still a child
    e2e_log "killing $(echo $pids | wc -w) processes: $(echo $pids)"
    for p in $pids; do kill -9 "$p" 2>/dev/null; done
    for p in $pids; do
        wait_until 5 eval "! kill -0 $p 2>/dev/null" || { t_fail "process $p survived kill -9"; return; }
    done
    wait_port_free "$HOSTILE_HTTPS_PORT" 5; wait_port_free "$HTTP01_PORT" 5
    proxy_control '{"rules": []}'
    # the store as the crash left it
    store_consistent "$STORE" "$H_NAME" || { t_fail "store inconsistent right after the crash"; return; }
    [ "$(h_live_version)" = "$ver" ] || { t_fail "live/ moved during the crash"; return; }
    staging_private || { t_fail "staging key readable after the crash"; return; }
    e2e_log "left behind: challenges [$(ls -A "$STORE/challenges" | tr '\n' ' ')] staging [$(ls -A "$STORE/staging/$H_NAME" 2>/dev/null | tr '\n' ' ')]"
    rm -f "$(apache_dir "$H_INST")/run/httpd.pid"
    # shellcheck disable=SC2034  # lib.sh's list: the killed instance is gone
    E2E_APACHES=()
    h_start "$PROXY_URL/dir" || { t_fail "Apache does not start after the crash"; h_show_log; return; }
    # the state was not written by the killed pass: the lineage is still due
    wait_until 60 eval '[ "$(h_live_version)" != "$ver" ] && [ "$(st_get status)" = valid ]' \
        || { t_fail "the order did not complete after the restart (status $(st_get status): $(st_get last_error))"; h_show_log; return; }
    wait_until 20 served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT" \
        || { t_fail "the new certificate is not served after the restart"; return; }
    store_consistent "$STORE" "$H_NAME" || { t_fail "store inconsistent after the restart"; return; }
    wait_until 5 eval '! challenges_present' || note_orphans
    staging_private || { t_fail "staging key readable after the restart"; return; }
    t_pass
}
crash_whole

# ---------------------------------------------------------------------------
# e. half-flipped live/ (a crash in the middle of an activation)

t_begin "half-flipped live/ (cert, chain, fullchain -> N+1; privkey -> N) is repaired at the next start"
half_flip() {
    local v prev l f
    h_stop
    v=$(h_live_version); prev=$((v - 1))
    [ -f "$STORE/archive/$H_NAME/privkey$prev.pem" ] || { t_fail "no version $prev to flip back to"; return; }
    l=$STORE/live/$H_NAME
    ln -sfn "../../archive/$H_NAME/privkey$prev.pem" "$l/privkey.pem"
    e2e_log "live/: $(for f in cert chain fullchain privkey; do printf '%s->%s ' $f "$(readlink "$l/$f.pem" | sed 's|.*/||')"; done)"
    h_start "$PROXY_URL/dir" || { t_fail "Apache does not start with a half-flipped live/"; h_show_log; return; }
    store_consistent "$STORE" "$H_NAME" || { t_fail "live/ not repaired"; return; }
    [ "$(h_live_version)" = "$v" ] || { t_fail "repaired to version $(h_live_version), want the newest complete $v"; return; }
    served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT" || { t_fail "served certificate is not live/cert.pem"; return; }
    grep -q 'live links disagree' "$(h_elog)" || e2e_log "note: no 'live links disagree' warning logged"
    t_pass
}
half_flip

t_begin "an incomplete newest archive set (certN+1.pem alone, a crash while writing the archive) is ignored"
partial_set() {
    local v n
    h_stop
    v=$(h_live_version); n=$((v + 1))
    cp "$STORE/archive/$H_NAME/cert$v.pem" "$STORE/archive/$H_NAME/cert$n.pem"
    : > "$STORE/archive/$H_NAME/privkey$n.pem"; chmod 600 "$STORE/archive/$H_NAME/privkey$n.pem"
    h_start "$PROXY_URL/dir" || { t_fail "Apache does not start"; h_show_log; return; }
    [ "$(h_live_version)" = "$v" ] || { t_fail "live/ moved to the incomplete version $(h_live_version)"; return; }
    store_consistent "$STORE" "$H_NAME" || { t_fail "store inconsistent"; return; }
    served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT" || { t_fail "served certificate is not live/cert.pem"; return; }
    # and the next renewal does not overwrite or trip over the partial files
    completes_next_pass "$v" || { t_fail "the next renewal failed next to the partial set: $(st_get last_error)"; return; }
    e2e_log "next version: $(h_live_version)"
    t_pass
}
partial_set

t_begin "no orphaned challenge answers: STORE/challenges is empty after the next pass and none is served"
orphans_case() {
    local f code served=""
    note_orphans >/dev/null
    [ -z "$ORPHANS" ] && { t_pass; return; }
    for f in $ORPHANS; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
            "http://127.0.0.1:$HTTP01_PORT/.well-known/acme-challenge/$f")
        served="$served $f=$code"
        [ -f "$STORE/challenges/$f" ] && e2e_log "still in STORE/challenges: $f ($(stat -c '%y' "$STORE/challenges/$f" | cut -d. -f1))"
    done
    t_fail "answers of killed workers stay in STORE/challenges after later passes and restarts and are still served (token=HTTP status):$served"
}
orphans_case

e2e_log "t_crash took ${SECONDS}s"
t_summary
