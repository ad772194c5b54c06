#!/bin/sh
# fuzz/build.sh -- builds the libFuzzer targets into fuzz/build/: the engine
# (src/engine/*.c and src/process/*.c: everything but the httpd glue and
# acmectl) compiled with
# -fsanitize=fuzzer-no-link,address,undefined, then each fuzz_*.c linked
# with -fsanitize=fuzzer,address,undefined. Not part of the main build.
# CC: clang (default: clang-14 if present, else clang).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/.." && pwd)
B=$HERE/build
CC=${CC:-$(command -v clang-14 || command -v clang || true)}
[ -n "$CC" ] || { echo "fuzz/build.sh: clang not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-g -O1 -std=gnu99 -D_GNU_SOURCE $SAN $(pkg-config --cflags apr-1 apr-util-1 libcurl jansson openssl)"
LIBS="$(pkg-config --libs apr-1 apr-util-1 libcurl jansson openssl) -lresolv"
mkdir -p "$B/obj"
objs=""
for src in "$TOP"/src/engine/*.c "$TOP"/src/process/*.c; do
    o=$B/obj/$(basename "$src" .c).o
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] || [ -n "$(find "$TOP/src" -name '*.h' -newer "$o" | head -n 1)" ]; then
        $CC $CFLAGS -fsanitize=fuzzer-no-link -I"$TOP/src/engine" -I"$TOP/src/process" -c -o "$o" "$src"
    fi
    objs="$objs $o"
done
rm -f "$B/libacme-fuzz.a"
ar rcs "$B/libacme-fuzz.a" $objs
# parse_duration is static in src/httpd/mod_acme_config.c (an httpd file): copy
# the function's text out of it (APR only)
awk '/^static const char \*parse_duration\(/ { on = 1 } on { print } on && /^}/ { exit }' \
    "$TOP/src/httpd/mod_acme_config.c" > "$B/parse_duration.inc"
grep -q parse_duration "$B/parse_duration.inc" || { echo "fuzz/build.sh: parse_duration not found in src/httpd/mod_acme_config.c" >&2; exit 1; }
for t in "$HERE"/fuzz_*.c; do
    n=$(basename "$t" .c)
    $CC $CFLAGS -fsanitize=fuzzer -I"$TOP/src/engine" -I"$TOP/src/process" -I"$B" -o "$B/$n" "$t" "$B/libacme-fuzz.a" $LIBS
done
echo "fuzz/build.sh: built $(ls "$HERE"/fuzz_*.c | wc -l) targets in $B"
