#!/bin/sh
# fuzz/run.sh [TARGET ...] -- builds (fuzz/build.sh) and runs each libFuzzer
# target for FUZZ_SECONDS (default 20) from its seed corpus in
# fuzz/corpus/<target>/; new inputs go to a scratch copy, not the seeds.
# Exits non-zero if any target crashed, leaked (LeakSanitizer), hit
# undefined behaviour or timed out; the reproducer is copied to
# fuzz/crashes/<target>-<kind>-<sha1> and the target's log tail printed.
# Environment: FUZZ_SECONDS, FUZZ_JOBS (parallel workers per target,
# default 1), FUZZ_NO_BUILD=1 (use fuzz/build as it is).
# The reproducers in fuzz/crashes/<target>-* are replayed first: one that
# still fails fails the target (without fuzzing it).
# Replay a reproducer: fuzz/build/<target> fuzz/crashes/<file>
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
B=$HERE/build
SECS=${FUZZ_SECONDS:-20}
if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    "$HERE/build.sh" || exit 2
fi
if [ $# -eq 0 ]; then
    set -- $(cd "$HERE" && ls fuzz_*.c | sed 's/\.c$//')
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
mkdir -p "$HERE/crashes"
for t in "$@"; do
    [ -x "$B/$t" ] || { echo "not ok - $t: not built"; failed=$((failed + 1)); continue; }
    # the committed reproducers first: each must no longer crash
    rep_bad=""
    for r in "$HERE/crashes/$t"-*; do
        [ -f "$r" ] || continue
        "$B/$t" "$r" >"$B/$t.replay.log" 2>&1 || rep_bad="$rep_bad ${r#$HERE/}"
    done
    if [ -n "$rep_bad" ]; then
        failed=$((failed + 1))
        echo "not ok - $t: a committed reproducer still fails:$rep_bad"
        grep -E 'ERROR: |SUMMARY: |runtime error' "$B/$t.replay.log" | head -n 3 | sed 's/^/#   /'
        continue
    fi
    scratch=$(mktemp -d)
    art=$(mktemp -d)
    cp "$HERE/corpus/$t/"* "$scratch/" 2>/dev/null
    log=$B/$t.log
    "$B/$t" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=0 -artifact_prefix="$art/" "$scratch" >"$log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$art")" ]; then
        echo "ok - $t ($(grep -o 'stat::number_of_executed_units: [0-9]*\|#[0-9]*.DONE' "$log" | tail -n 1 | tr -d '#') in ${SECS}s)"
    else
        failed=$((failed + 1))
        echo "not ok - $t: exit $rc"
        for f in "$art"/*; do
            [ -f "$f" ] || continue
            kind=$(basename "$f" | sed 's/-.*//')
            dst=$HERE/crashes/$t-$kind-$(sha1sum < "$f" | cut -c1-12)
            cp "$f" "$dst"
            echo "#   reproducer: ${dst#$HERE/../} ($(wc -c < "$f") bytes)"
        done
        grep -E 'ERROR: |SUMMARY: |runtime error|#[0-9]+ 0x' "$log" | head -n 12 | sed 's/^/#   /'
    fi
    rm -rf "$scratch" "$art"
done
echo "fuzz: $(($# - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
