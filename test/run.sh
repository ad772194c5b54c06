#!/usr/bin/env bash
# `make check`: the unit tests (binaries given as arguments), then the
# end-to-end suite (test/e2e/run.sh). Ends with one line "N passed, N failed".
# Set ACME_SKIP_E2E=1 to run only the unit tests.
set -u
cd "$(dirname "$0")/.."
passed=0; failed=0

unit_out=$(mktemp); trap 'rm -f "$unit_out" "$e2e_out"' EXIT
e2e_out=$(mktemp)
sh test/run-unit.sh "$@" | tee "$unit_out"
line=$(grep '^unit: [0-9]* passed, [0-9]* failed$' "$unit_out" | tail -n1)
if [ -n "$line" ]; then
    passed=$((passed + $(echo "$line" | awk '{print $2}')))
    failed=$((failed + $(echo "$line" | awk '{print $4}')))
else
    failed=$((failed + 1))
fi

if [ "${ACME_SKIP_E2E:-0}" != 1 ]; then
    bash test/e2e/run.sh 2>&1 | tee "$e2e_out"
    line=$(grep '^e2e: [0-9]* passed, [0-9]* failed' "$e2e_out" | tail -n1)
    if [ -n "$line" ]; then
        passed=$((passed + $(echo "$line" | awk '{print $2}')))
        failed=$((failed + $(echo "$line" | awk '{print $4}')))
    else
        echo "e2e: the suite ended without a summary line"
        failed=$((failed + 1))
    fi
fi

# Fuzzing (libFuzzer; a bounded time per target, FUZZ_SECONDS): each
# target counts as one test. Skipped when clang cannot build fuzzers.
if [ "${ACME_SKIP_FUZZ:-0}" != 1 ] && [ -x fuzz/run.sh ] \
   && command -v clang >/dev/null 2>&1; then
    fuzz_out=$(mktemp)
    FUZZ_SECONDS=${FUZZ_SECONDS:-10} sh fuzz/run.sh 2>&1 | tee "$fuzz_out"
    line=$(grep '^fuzz: [0-9]* passed, [0-9]* failed' "$fuzz_out" | tail -n1)
    if [ -n "$line" ]; then
        passed=$((passed + $(echo "$line" | awk '{print $2}')))
        failed=$((failed + $(echo "$line" | awk '{print $4}')))
    else
        echo "fuzz: the fuzz run ended without a summary line"
        failed=$((failed + 1))
    fi
    rm -f "$fuzz_out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
