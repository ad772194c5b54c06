#!/bin/sh
# scripts/coverage.sh -- unit-test line coverage of every src/ file.
#
# Copies the source tree (without build/ and .git) to a temporary folder,
# builds it there with gcc --coverage -O0, runs the unit tests there, and
# prints gcov's line coverage per file. Nothing is written to the normal
# build/. src/cli and src/httpd are compiled there too (not linked into any
# unit test) so that they are listed, at 0 %.
#
# Usage: scripts/coverage.sh [--keep]   (--keep leaves the temporary tree
# and prints its path, for reading the .gcov files)
# Exit status: 0, or 1 when the build or a unit test failed.
set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
KEEP=0
[ "${1:-}" = "--keep" ] && KEEP=1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/acme-cov.XXXXXX") || exit 1
[ "$KEEP" = 1 ] || trap 'rm -rf "$TMP"' EXIT
COVFLAGS="-O0 -g --coverage"
JOBS=$(nproc 2>/dev/null || echo 2)
rc=0

# the tree as it is (committed or not), without anything built
(cd "$TOP" && tar -cf - --exclude=./.git --exclude=./build \
    --exclude=./test/e2e/work --exclude='*.o' --exclude='*.so' \
    --exclude='*.gcda' --exclude='*.gcno' --exclude='*.lo' \
    --exclude='*.slo' --exclude='*.la' --exclude=.libs --exclude=./acmectl \
    --exclude=./Makefile .) | (cd "$TMP" && tar -xf -) || exit 1
cd "$TMP" || exit 1

echo "coverage: building in $TMP with $COVFLAGS"
if ! ./configure > configure.log 2>&1; then
    cat configure.log
    exit 1
fi
# the library, the unit tests and the CLI's objects, all with --coverage
# (CFLAGS reaches the unit tests' link line too, so they link libgcov)
CTL_OBJ=$(for f in src/cli/*.c; do printf 'build/cli/%s.o ' \
    "$(basename "$f" .c)"; done)
# shellcheck disable=SC2086
if ! make -j"$JOBS" CFLAGS="$COVFLAGS" build/libacme.a $CTL_OBJ \
        > build.log 2>&1; then
    tail -30 build.log
    exit 1
fi
# src/httpd is built by apxs; compile it here only to list its lines
mkdir -p build/httpd
HTTPD_INC=$(sed -n 's/^HTTPD_INC *= *//p' Makefile)
PKG_CFLAGS=$(sed -n 's/^PKG_CFLAGS *= *//p' Makefile)
for f in src/httpd/*.c; do
    # shellcheck disable=SC2086
    cc $COVFLAGS -std=gnu99 -D_GNU_SOURCE $PKG_CFLAGS -I"$HTTPD_INC" \
        -Isrc/engine -Isrc/process -Isrc/httpd -c "$f" \
        -o "build/httpd/$(basename "$f" .c).o" >> build.log 2>&1 \
        || echo "coverage: cannot compile $f (listed as not built)"
done

echo "coverage: running the unit tests"
if ! make -j"$JOBS" CFLAGS="$COVFLAGS" unit > unit.log 2>&1; then
    grep -v '^ok ' unit.log | tail -40
    echo "coverage: unit tests FAILED (coverage below is of what ran)"
    rc=1
fi
grep '^unit: [0-9]* passed' unit.log

# one line per file: percent, lines, file (from gcov -n's summary)
report() { # src/dir/file.c
    obj="build/$(dirname "${1#src/}")"
    if [ ! -f "$obj/$(basename "$1" .c).gcno" ]; then
        printf '%8s %6s  %s\n' "-" "-" "$1 (not built)"
        return
    fi
    gcov -n -o "$obj" "$1" 2>/dev/null | awk -v want="$1" '
        /^File / { f = $2; gsub("\047", "", f) }
        /^Lines executed:/ && f == want {
            split($0, a, /[:% ]+/); pct = a[3]; n = $NF
            printf "%7.2f%% %6d  %s\n", pct, n, want; found = 1; exit }
        END { if (!found) printf "%8s %6s  %s\n", "0.00%", "?", want }'
}

echo ""
echo "coverage: line coverage per file (percent, executable lines, file)"
for f in src/engine/*.c src/process/*.c src/cli/*.c src/httpd/*.c; do
    report "$f"
done > report.txt
cat report.txt
awk '$2 ~ /^[0-9]+$/ { n += $2; e += $2 * $1 / 100 }
     END { if (n) printf "coverage: all src/ files: %.2f%% of %d lines\n", \
           100 * e / n, n }' report.txt

echo ""
echo "coverage: the issuance path and the ACME client (want >= 70 %):"
for f in src/engine/acme_obtain.c src/engine/acme_batch.c \
         src/engine/acme_attempt.c src/engine/acme_issue.c \
         src/engine/acme_order.c src/engine/acme_client.c; do
    awk -v want="$f" '$3 == want { printf "coverage: %-26s %s\n", want, $1 }' \
        report.txt
done
[ "$KEEP" = 1 ] && echo "coverage: tree kept in $TMP"
exit $rc
