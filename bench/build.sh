#!/usr/bin/env bash
# bench/build.sh -- builds what the benchmarks run, from a snapshot of the
# repository's HEAD (so that edits in progress in the working tree do not
# change the numbers halfway): mod_acme.so, acmectl, build/libacme.a and
# bench/supbench.c linked against it. Everything goes to $BENCH_BUILD
# (default /tmp/mod_acme-bench-build). BENCH_REV=<rev> builds another commit;
# BENCH_REV=worktree builds the working tree as it is.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${BENCH_BUILD:-/tmp/mod_acme-bench-build}
REV=${BENCH_REV:-HEAD}
case "$B" in /tmp/*) ;; *) echo "build.sh: BENCH_BUILD must be under /tmp" >&2; exit 1 ;; esac
rm -rf "$B"; mkdir -p "$B/src"
if [ "$REV" = worktree ]; then
    (cd "$TOP" && tar --exclude=./test/e2e/work --exclude=./.git -cf - .) | tar -xf - -C "$B/src"
else
    git -C "$TOP" archive "$REV" | tar -xf - -C "$B/src"
    git -C "$TOP" rev-parse "$REV" > "$B/revision"
fi
cp "$TOP/bench/supbench.c" "$B/src/supbench.c"
cd "$B/src"
./configure >"$B/build.log" 2>&1
make -j"$(nproc)" all >>"$B/build.log" 2>&1 || { tail -20 "$B/build.log"; exit 1; }
# shellcheck disable=SC2046
cc -O2 -g -std=gnu99 -D_GNU_SOURCE -Isrc -Isrc/engine -Isrc/process $(sed -n 's/^PKG_CFLAGS *= *//p' Makefile) \
    -o "$B/supbench" supbench.c build/libacme.a $(sed -n 's/^PKG_LIBS *= *//p' Makefile) \
    >>"$B/build.log" 2>&1 || { tail -20 "$B/build.log"; exit 1; }
cp mod_acme.so acmectl "$B/"
chmod 755 "$B" "$B/acmectl"
echo "build.sh: built $(cat "$B/revision" 2>/dev/null || echo worktree) in $B"
