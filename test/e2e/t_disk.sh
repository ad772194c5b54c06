#!/usr/bin/env bash
# test/e2e/t_disk.sh -- mod_acme with a full disk under ACMEStoreDir.
#
# The store is a small tmpfs (root only; skipped with the reason when
# mount is not permitted). After a first certificate, a renewal is forced
# and the tmpfs is filled (dd) while the certificate download is held by
# ca_proxy, so that the activation itself meets ENOSPC:
#   - the activation fails cleanly: the old set stays live and served
#   - last_error (state, or the error log when even the state cannot be
#     written) mentions no space
#   - no partial archive files are left behind, or they are ignored
#   - after freeing space the next attempt succeeds
# Then the disk is full before a pass starts (nothing of the order can be
# written): same guarantees.
#
# Run: DNS_PORT=18353 CTS_MGMT_PORT=18355 PEBBLE_PORT=16300 \
#      PEBBLE_MGMT_PORT=16301 HTTP01_PORT=16302 TLSALPN_PORT=16303 \
#      bash test/e2e/run.sh t_disk.sh

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/hostile_lib.sh"
hostile_require_root "mod_acme with a full disk"
e2e_init
hostile_binaries
STORE=$WORK/store
mkdir -p "$STORE"
if ! mount -t tmpfs -o size=2m,mode=755 tmpfs "$STORE" 2>"$WORK/mount.err"; then
    t_begin "mod_acme with a full disk"
    t_skip "cannot mount a tmpfs here ($(cat "$WORK/mount.err")); needs root with CAP_SYS_ADMIN"
    t_summary; exit 0
fi
disk_cleanup() {
    e2e_cleanup
    umount "$STORE" 2>/dev/null || umount -l "$STORE" 2>/dev/null
}
trap 'disk_cleanup' EXIT
trap 'disk_cleanup; exit 143' TERM

challtestsrv_start
pebble_start
proxy_start
h_start "$PROXY_URL/dir" || { t_begin "harness: Apache starts"; t_fail "see $(h_elog)"; t_summary; exit 1; }

t_begin "a first certificate in a 2 MiB tmpfs store"
if h_wait_first_cert 60 && wait_until 10 store_consistent "$STORE" "$H_NAME"; then
    e2e_log "store uses $(du -sk "$STORE" | cut -f1) KiB"
    t_pass
else
    t_fail "no certificate within 60 s"; h_show_log; t_summary; exit 1
fi
sleep 2

fill() { dd if=/dev/zero of="$STORE/filler" bs=4k >/dev/null 2>&1; sync; }
unfill() { rm -f "$STORE/filler"; }
archive_listing() { ls "$STORE/archive/$H_NAME" | LC_ALL=C sort; }
# nospace_reported SINCE_LINE: the state's last_error or an error-log line
# after SINCE_LINE mentions no space
nospace_reported() {
    st_get last_error | grep -qi 'no space' && return 0
    tail -n +"$1" "$(h_elog)" | grep -i 'mod_acme' | grep -qi 'no space'
}

disk_case() {
    local title=$1 when=$2 ver serial arch act lines att extra
    t_begin "disk full $title: old set stays live and served, no space reported, nothing partial used, next attempt succeeds"
    ver=$(h_live_version); serial=$(h_served_serial); arch=$(archive_listing)
    act=$(h_activations); att=$(st_get attempts)
    lines=$(($(wc -l < "$(h_elog)") + 1))
    if [ "$when" = activation ]; then
        proxy_control '{"rules": [{"match": {"method": "POST", "path_prefix": "/certZ/"}, "action": "delay", "seconds": 8}], "clear_requests": true}'
        h_force_due
        # the download is held: the challenge is done; fill the disk now
        wait_until 40 eval 'proxy_requests "$WORK/r.json" && jq -e "[.[] | select(.path | startswith(\"/finalize-order/\"))] | length > 0" "$WORK/r.json" >/dev/null' \
            || { t_fail "the order never reached finalize"; proxy_control '{"rules": []}'; unfill; return; }
        fill
    else
        h_force_due
        # next_try a few seconds ahead, so that the disk is full first
        jq --argjson t $(( $(date +%s) + 4 )) '.next_try = $t' "$(h_state)" > "$(h_state).x" && mv -f "$(h_state).x" "$(h_state)"
        fill
    fi
    e2e_log "free: $(df -k --output=avail "$STORE" | tail -n 1 | tr -d ' ') KiB"
    if ! wait_until 40 nospace_reported "$lines"; then
        t_fail "nothing says no space (state: $(st_get status) $(st_get last_error))"
        grep -i 'mod_acme' "$(h_elog)" | tail -n +1 | tail -n 5 | sed 's/^/#   /'
        proxy_control '{"rules": []}'; unfill; return
    fi
    sleep 3
    e2e_log "state: status=$(st_get status) attempts=$(st_get attempts) (was $att) last_error=$(st_get last_error)"
    tail -n +"$lines" "$(h_elog)" | grep 'mod_acme' | grep -iE 'fail|space|cannot' | head -n 3 | sed 's/^/#   log: /'
    [ "$(h_live_version)" = "$ver" ] || { t_fail "live/ moved to $(h_live_version)"; unfill; return; }
    store_consistent "$STORE" "$H_NAME" || { t_fail "store inconsistent on the full disk"; unfill; return; }
    [ "$(h_served_serial)" = "$serial" ] || { t_fail "served serial changed"; unfill; return; }
    [ "$(h_activations)" = "$act" ] || { t_fail "an activation was logged"; unfill; return; }
    extra=$(comm -13 <(printf '%s\n' "$arch") <(archive_listing) | tr '\n' ' ')
    [ -n "$extra" ] && e2e_log "partial archive files left behind: $extra"
    find "$STORE" -name '*.tmp*' -o -name '.*.tmp' 2>/dev/null | sed 's/^/#   temp file left: /'
    # free the space; the next attempt succeeds and ignores any partial file
    proxy_control '{"rules": []}'
    unfill
    h_force_due
    wait_until 60 eval '[ "$(h_live_version)" != "$ver" ] && [ "$(st_get status)" = valid ]' \
        || { t_fail "no successful renewal after freeing space (status $(st_get status): $(st_get last_error))"; h_show_log; return; }
    wait_until 20 served_matches_live "$STORE" "$H_NAME" "$HOSTILE_HTTPS_PORT" || { t_fail "the new certificate is not served"; return; }
    store_consistent "$STORE" "$H_NAME" || { t_fail "store inconsistent after the renewal"; return; }
    check_lineage "$STORE" "$H_NAME" "$(h_live_version)" || { t_fail "the new version is not a complete lineage"; return; }
    e2e_log "renewed to version $(h_live_version) after freeing space"
    t_pass
}

disk_case "at activation (certificate download held while dd fills the tmpfs)" activation
disk_case "before the pass (nothing of the order can be written)" before

e2e_log "t_disk took ${SECONDS}s"
t_summary
