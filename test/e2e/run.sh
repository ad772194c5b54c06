#!/usr/bin/env bash
# test/e2e/run.sh [t_NAME.sh ...] -- runs the end-to-end test files
# (default: every test/e2e/t_*.sh, in order), each in its own bash process
# with its own work directory ($ACME_E2E_WORK/<file>/) and its own pebble,
# challtestsrv and Apache, which the file's cleanup trap stops.
#
# Ends with exactly one line "e2e: N passed, N failed" (parsed by
# test/run.sh); exit status non-zero if anything failed.
#
# Environment: ACME_E2E_WORK (default test/e2e/work), ACME_E2E_TIMEOUT
# (seconds per file, default 900), ACME_E2E_KEEP=1 keeps /tmp fallbacks.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BASE=${ACME_E2E_WORK:-$TOP/test/e2e/work}
FILE_TIMEOUT=${ACME_E2E_TIMEOUT:-900}

if [ $# -gt 0 ]; then
    files=()
    for f in "$@"; do
        case "$f" in
            */*) files+=("$f") ;;
            *) files+=("$HERE/$f") ;;
        esac
    done
else
    files=("$HERE"/t_*.sh)
fi

passed=0; failed=0
child=""
on_signal() {
    # the child's own traps stop its servers; give it the signal and wait
    if [ -n "$child" ]; then
        kill -TERM "$child" 2>/dev/null
        wait "$child" 2>/dev/null
        [ -n "${streamer:-}" ] && wait "$streamer" 2>/dev/null
    fi
    echo "e2e: $passed passed, $((failed + 1)) failed"
    exit 130
}
trap on_signal INT TERM

mkdir -p "$BASE"
TMPBASE=""
# Apache's children run as www-data and must read the webroots under the
# work directory; a clone under /root is not traversable for them. Then
# use a directory under /tmp (kept only if something failed).
if [ -z "${ACME_E2E_WORK:-}" ] && [ "$(id -u)" -eq 0 ] && id www-data >/dev/null 2>&1 \
   && ! runuser -u www-data -- test -x "$BASE" 2>/dev/null; then
    BASE=$(mktemp -d /tmp/mod_acme-e2e.XXXXXX)
    chmod 755 "$BASE"
    TMPBASE=$BASE
    echo "# note: www-data cannot reach test/e2e/work; working in $BASE"
fi
for f in "${files[@]}"; do
    [ -f "$f" ] || { echo "not ok - $f: no such test file"; failed=$((failed + 1)); continue; }
    name=$(basename "$f" .sh)
    echo "# $name"
    out=$(mktemp)
    # timeout sends TERM to the file's bash, whose trap cleans up.
    ACME_E2E_WORK=$BASE/$name timeout -s TERM "$FILE_TIMEOUT" bash "$f" </dev/null >"$out" 2>&1 &
    child=$!
    # stream the output while the file runs (in the background, so that
    # "wait" below stays interruptible by INT/TERM)
    tail -n +1 -f --pid="$child" "$out" \
        | sed -u "s/^e2e: \([0-9]* passed, [0-9]* failed\)\$/# $name: \1/" &
    streamer=$!
    wait "$child"; rc=$?
    wait "$streamer"
    child=""
    line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
    rm -f "$out"
    if [ -z "$line" ]; then
        if [ "$rc" -eq 124 ]; then
            echo "not ok - $name: timed out after ${FILE_TIMEOUT}s"
        else
            echo "not ok - $name: ended without a summary line (exit $rc)"
        fi
        failed=$((failed + 1))
        continue
    fi
    p=$(echo "$line" | awk '{print $2}')
    n=$(echo "$line" | awk '{print $4}')
    passed=$((passed + p)); failed=$((failed + n))
    if [ "$n" -eq 0 ] && [ "$rc" -ne 0 ]; then
        echo "not ok - $name: exited $rc"
        failed=$((failed + 1))
    fi
done

if [ -n "$TMPBASE" ]; then
    if [ "$failed" -eq 0 ] && [ "${ACME_E2E_KEEP:-0}" != 1 ]; then
        rm -rf "$TMPBASE"
    else
        echo "# work files kept in $TMPBASE"
    fi
fi
echo "e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
