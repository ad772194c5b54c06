#!/usr/bin/env bash
# bench/profile.sh WHAT [N] -- where the time goes (perf, DWARF call graphs).
#   startup N    apache2 -DFOREGROUND with N ACMEDomain vhosts (certificates
#                present) until the last vhost answers; the whole process tree
#   configtest N apache2 -t with N ACMEDomain vhosts
#   idle N       supbench: one idle supervisor pass over N lineages
# Prints the top functions by inclusive time. Work dir $BENCH_WORK-prof.
set -u
WHAT=$1; N=${2:-1000}
BENCH_WORK=${BENCH_WORK:-/tmp/mod_acme-bench}-prof
export BENCH_WORK
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
cp "$BUILD/acmectl" "$BUILD/mod_acme.so" "$WORK/" && chmod 755 "$WORK/acmectl"
S=$WORK/store
python3 "$BENCH_DIR/gen_store.py" acme "$S" "$N" "$DEAD_CA"
"$BUILD/supbench" prep-ari "$S" "$N" "$DEAD_CA"
P=$WORK/perf.data
case $WHAT in
startup)
    b_write pr "$(conf_acme "$S" "$N" "$DEAD_CA")"
    bn "$N" > "$WORK/last"; echo >> "$WORK/last"
    perf record -q -F 300 --call-graph dwarf,8192 -o "$P" -- \
        "$APACHE_BIN" -DFOREGROUND -f "$(b_conf pr)" >/dev/null 2>&1 &
    PERF=$!
    python3 "$BENCH_DIR/served.py" "$HTTPS_PORT" "$WORK/last" 300 --http
    sleep 1
    "$APACHE_BIN" -f "$(b_conf pr)" -k stop; wait "$PERF" ;;
configtest)
    b_write pr "$(conf_acme "$S" "$N" "$DEAD_CA")"
    perf record -q -F 500 --call-graph dwarf,8192 -o "$P" -- "$APACHE_BIN" -t -f "$(b_conf pr)" ;;
idle)
    perf record -q -F 500 --call-graph dwarf,8192 -o "$P" -- "$BUILD/supbench" pass "$S" "$N" "$DEAD_CA" 1 ;;
esac
perf report -i "$P" --children --sort comm,symbol --stdio -g none 2>/dev/null \
    | grep '%' | grep -v '\[k\]' | head -60
