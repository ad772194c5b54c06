#!/bin/sh
# Runs the unit test binaries given as arguments; prints each one's output
# and a total line. Exit status 1 if any check failed or a binary crashed.
passed=0; failed=0
for t in "$@"; do
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v '^ok ' 
    p=$(printf '%s\n' "$out" | sed -n 's/^# passed \([0-9]*\) failed \([0-9]*\)$/\1/p')
    f=$(printf '%s\n' "$out" | sed -n 's/^# passed \([0-9]*\) failed \([0-9]*\)$/\2/p')
    if [ -z "$p" ]; then
        echo "not ok - $t crashed or ended early (exit $rc)"; f=1; p=0
    elif [ $rc -ne 0 ] && [ "$f" = 0 ]; then
        echo "not ok - $t exited $rc"; f=1
    fi
    passed=$((passed + p)); failed=$((failed + f))
    echo "unit: $(basename "$t"): $p passed, $f failed"
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
