#!/bin/sh
# Builds mod_acme.so with apxs (libtool under the hood) from src/httpd/*.c, the
# module's glue files and the engine's PIC objects, then copies the shared
# object to the top of the tree. Called by Makefile.
#   apxs/build-module.sh APXS OUT.so "CFLAGS" "LIBS" src1.c ... -- obj1.o ...
set -e
APXS=$1; OUT=$2; CFLAGS=$3; LIBS=$4; shift 4
srcs=""; objs=""; mode=src
for f in "$@"; do
    if [ "$f" = "--" ]; then mode=obj; continue; fi
    if [ $mode = src ]; then srcs="$srcs $f"; else objs="$objs $f"; fi
done
wc=""
for f in $CFLAGS; do wc="$wc -Wc,$f"; done
wl=""
for f in $LIBS; do
    case "$f" in
        -l*|-L*) wl="$wl $f" ;;
        *) wl="$wl -Wl,$f" ;;
    esac
done
# shellcheck disable=SC2086
"$APXS" -c -o mod_acme.la $wc $srcs $objs $wl >apxs-build.log 2>&1 || { cat apxs-build.log >&2; exit 1; }
# replace atomically: a running httpd may have the old file mapped
cp .libs/mod_acme.so "$OUT.tmp.$$" && mv -f "$OUT.tmp.$$" "$OUT"
