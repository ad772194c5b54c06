#!/usr/bin/env bash
# bench/run.sh -- mod_acme side by side with mod_md and Certbot.
#
#   bench/setup.sh                 # once: packages (wrk, certbot), build
#   bench/run.sh [PART ...]        # PART: issue startup rps idle (default all)
#
# Results: one line per measurement in $WORK/res/raw.tsv (metric, parameter,
# tool, repetition, value, unit); at the end bench/table.py prints one table
# of medians with the ratio mod_acme/peer. Knobs (environment):
#   ISSUE_NS="1 10 50 200"         certificate counts
#   ISSUE_REPS="1:3 10:3 50:2 200:1" repetitions per count
#   ISSUE_TOOLS="mod_acme mod_md certbot"
#   ISSUE_SKIP="certbot:200"       tool:N pairs not run (Certbot takes ~3 s
#                                  per certificate here: 200 = 10 min)
#   START_SIZES="1000 10000"  START_REPS="1000:3 10000:2"
#   RPS_ROUNDS=4 RPS_SECS=8 RPS_CONNS=16
#   IDLE_N=10000 IDLE_PASSES=5
#   ACME_WORKERS=4                 mod_acme's ACMEMaxWorkers (its default)
#   BENCH_WORK=/tmp/mod_acme-bench  BENCH_BUILD=/tmp/mod_acme-bench-build
set -u
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ISSUE_NS=${ISSUE_NS:-"1 10 50 200"}
ISSUE_REPS=${ISSUE_REPS:-"1:3 10:3 50:2 200:1"}
ISSUE_TOOLS=${ISSUE_TOOLS:-"mod_acme mod_md certbot"}
ISSUE_SKIP=${ISSUE_SKIP-"certbot:200"}
START_SIZES=${START_SIZES:-"1000 10000"}
START_REPS=${START_REPS:-"1000:3 10000:2"}
RPS_ROUNDS=${RPS_ROUNDS:-4}
RPS_SECS=${RPS_SECS:-8}
RPS_CONNS=${RPS_CONNS:-16}
IDLE_N=${IDLE_N:-10000}
IDLE_PASSES=${IDLE_PASSES:-5}

reps_for() {   # reps_for N "N:R ..." -> R (default 1)
    local kv
    for kv in $2; do [ "${kv%%:*}" = "$1" ] && { echo "${kv#*:}"; return; }; done
    echo 1
}
# rotate "a b c" K: the list rotated left by K (alternating order per rep)
rotate() {
    local -a a; read -r -a a <<<"$1"
    local n=${#a[@]} i out=""
    for i in $(seq 0 $((n - 1))); do out="$out ${a[$(((i + $2) % n))]}"; done
    echo "$out"
}

# ---------------------------------------------------------------------------
# 1. time from start to N certificates served (+ PSS afterwards)

# issue_one TOOL N REP
issue_one() {
    local tool=$1 n=$2 rep=$3 inst=is st names t0 t1 tr pid deadline i watcher= c0 c1
    deadline=$((120 + n * 15))
    st=$WORK/issue-$tool-$n-$rep
    names=$WORK/names-$n
    names_file "$n" "$names"
    pebble_start          # fresh pebble (and roots) for every run
    b_stop "$inst"
    rm -f "$WORK/md-msg.log"; : > "$WORK/md-msg.log"; chmod 666 "$WORK/md-msg.log"
    c0=$(ca_cpu_ms)
    case $tool in
    mod_acme)
        b_write "$inst" "$(conf_acme "$st" "$n" "$ACME_SERVER")"
        t0=$(now_ms); b_start "$inst"
        ;;
    mod_md)
        b_write "$inst" "$(conf_md "$st" "$n" "$ACME_SERVER")"
        t0=$(now_ms); b_start "$inst"
        # mod_md only activates after a restart: when MDMessageCmd has
        # reported "renewed" for all N domains, one graceful restart.
        ( while [ "$(grep -c ' renewed ' "$WORK/md-msg.log")" -lt "$n" ]; do
              sleep 0.05; [ $(( $(now_ms) - t0 )) -gt $((deadline * 1000)) ] && exit 1
          done
          echo $(( $(now_ms) - t0 )) > "$WORK/md-restart-ms"
          b_graceful "$inst" ) &
        watcher=$!
        ;;
    certbot)
        mkdir -p "$st"
        t0=$(now_ms)
        for i in $(seq "$n"); do
            REQUESTS_CA_BUNDLE=$ACME_CA_BUNDLE timeout 300 certbot certonly --standalone \
                -d "$(bn "$i")" --server "$ACME_SERVER" \
                --http-01-port "$HTTP01_PORT" --http-01-address 127.0.0.1 \
                --config-dir "$st/config" --work-dir "$st/work" --logs-dir "$st/logs" \
                --agree-tos -m bench@example.test --no-eff-email --key-type ecdsa \
                --non-interactive -q >>"$st/certbot.out" 2>&1 \
                || { blog "certbot failed for $(bn "$i")"; tail -5 "$st/certbot.out" >&2; }
        done
        tr=$(( $(now_ms) - t0 ))
        b_write "$inst" "$(conf_plain "$st/config/live" "$n")"
        b_start "$inst"
        ;;
    esac
    if python3 "$BENCH_DIR/served.py" "$HTTPS_PORT" "$names" "$deadline" --issuer Pebble; then
        t1=$(now_ms)
        c1=$(ca_cpu_ms)
        record issue_s "$n" "$tool" "$rep" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')" s
        # the CA's own CPU: on 2 cores, (CPU / 2) bounds what any client
        # can reach against this pebble
        record ca_cpu_s "$n" "$tool" "$rep" "$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')" s
        [ "$tool" = mod_md ] && record md_restart_at_s "$n" mod_md "$rep" "$(awk -v a="$(cat "$WORK/md-restart-ms")" 'BEGIN { printf "%.2f", a / 1000 }')" s
        [ "$tool" = certbot ] && record certbot_runs_s "$n" certbot "$rep" "$(awk -v a="$tr" 'BEGIN { printf "%.2f", a / 1000 }')" s
        sleep 2       # let a restart's old generation go away
        pid=$(apache_pid "$inst")
        record pss_kb "$n" "$tool" "$rep" "$(pss_tree "$pid")" kB
    else
        record issue_s "$n" "$tool" "$rep" "timeout>$deadline" s
        e2e_show_file "$(apache_dir "$inst")/logs/error.log" 15 >&2
    fi
    if [ -n "$watcher" ]; then kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null; fi
    b_stop "$inst"
    retire "$st"
}

part_issue() {
    local n r reps tool
    for n in $ISSUE_NS; do
        reps=$(reps_for "$n" "$ISSUE_REPS")
        for r in $(seq "$reps"); do
            for tool in $(rotate "$ISSUE_TOOLS" $((r - 1))); do
                case " $ISSUE_SKIP " in *" $tool:$n "*) continue ;; esac
                blog "issue: $tool N=$n rep $r"
                issue_one "$tool" "$n" "$r"
            done
        done
    done
    pebble_stop
    trash_empty
}

# ---------------------------------------------------------------------------
# 2. start-up (start until the last vhost answers over https) and
#    configtest, with certificates present and absent. The CA URL points at
#    a closed port: no issuance is attempted successfully by either module.

part_startup() {
    local size r reps tool state st names inst=su t0 t1 ms
    for size in $START_SIZES; do
        reps=$(reps_for "$size" "$START_REPS")
        names=$WORK/last-$size
        bn "$size" > "$names"; echo >> "$names"
        # stores with every certificate present (made once per size)
        python3 "$BENCH_DIR/gen_store.py" acme "$WORK/present-acme-$size" "$size" "$DEAD_CA"
        "$BUILD/supbench" prep-ari "$WORK/present-acme-$size" "$size" "$DEAD_CA"
        python3 "$BENCH_DIR/gen_store.py" md "$WORK/present-md-$size" "$size"
        for tool in mod_acme mod_md; do     # warm-up (mod_md writes md.json)
            if [ $tool = mod_acme ]; then b_write $inst "$(conf_acme "$WORK/present-acme-$size" "$size" "$DEAD_CA")"
            else b_write $inst "$(conf_md "$WORK/present-md-$size" "$size" "$DEAD_CA")"; fi
            b_start $inst
            python3 "$BENCH_DIR/served.py" "$HTTPS_PORT" "$names" 300 --http || blog "warm-up $tool $size: not serving"
            b_stop $inst
        done
        for r in $(seq "$reps"); do
            # "without": mod_ssl alone, SSLCertificateFile on the same
            # certificates (what the TLS vhosts cost, whichever module)
            for tool in $(rotate "mod_acme mod_md without" $((r - 1))); do
                for state in present absent; do
                    [ $tool = without ] && [ $state = absent ] && continue
                    if [ $tool = without ]; then st=$WORK/present-acme-$size
                    elif [ $state = present ]; then st=$WORK/present-${tool#mod_}-$size
                    else st=$WORK/absent-$tool-$size; retire "$st"; fi
                    if [ $tool = mod_acme ]; then b_write $inst "$(conf_acme "$st" "$size" "$DEAD_CA")"
                    elif [ $tool = without ]; then b_write $inst "$(conf_plain "$st/live" "$size")"
                    else b_write $inst "$(conf_md "$st" "$size" "$DEAD_CA")"; fi
                    sync
                    ms=$(b_configtest $inst)
                    record "configtest_s_$state" "$size" "$tool" "$r" "$(awk -v a="$ms" 'BEGIN { printf "%.2f", a / 1000 }')" s
                    [ $state = absent ] && retire "$st"    # configtest may create the store
                    blog "startup: $tool $size $state rep $r"
                    t0=$(now_ms); b_start $inst
                    if python3 "$BENCH_DIR/served.py" "$HTTPS_PORT" "$names" 600 --http; then
                        t1=$(now_ms)
                        record "startup_s_$state" "$size" "$tool" "$r" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')" s
                    else
                        record "startup_s_$state" "$size" "$tool" "$r" "timeout>600" s
                        e2e_show_file "$(apache_dir $inst)/logs/error.log" 10 >&2
                    fi
                    b_stop $inst
                    [ $state = absent ] && retire "$st"
                done
            done
        done
        retire "$WORK/present-acme-$size"; retire "$WORK/present-md-$size"
    done
    trash_empty
}

# ---------------------------------------------------------------------------
# 3. requests/s for a static file over keep-alive http and https: mod_acme
#    loaded with 1,000 ACMEDomain vhosts (certificates present) against no
#    ACME module and the same 1,000 vhosts with SSLCertificateFile.
#    Requests go to the first vhost (no SNI: the default of the address).

wrk_rps() {   # wrk_rps URL -> requests/s
    wrk -t1 -c"$RPS_CONNS" -d"${RPS_SECS}s" "$1" 2>&1 | awk '/^Requests\/sec:/ { print $2 }'
}

part_rps() {
    local n=1000 r v mode inst=rp d
    command -v wrk >/dev/null || { blog "wrk not installed (bench/setup.sh)"; return 1; }
    python3 "$BENCH_DIR/gen_store.py" acme "$WORK/rps-acme" $n "$DEAD_CA"
    "$BUILD/supbench" prep-ari "$WORK/rps-acme" $n "$DEAD_CA"
    python3 "$BENCH_DIR/gen_store.py" plain "$WORK/rps-plain" $n
    for r in $(seq "$RPS_ROUNDS"); do
        for mode in $(rotate "with without" $((r - 1))); do
            if [ "$mode" = with ]; then b_write $inst "$(conf_acme "$WORK/rps-acme" $n "$DEAD_CA")"
            else b_write $inst "$(conf_plain "$WORK/rps-plain" $n)"; fi
            d=$(apache_dir $inst)
            head -c 1024 /dev/zero | tr '\0' x > "$d/htdocs/f.html"
            b_start $inst
            python3 "$BENCH_DIR/served.py" "$HTTPS_PORT" <(bn 1; echo) 120 --http || blog "rps: not serving"
            sleep 3       # the supervisor's start-up pass is over
            wrk -t1 -c"$RPS_CONNS" -d2s "https://127.0.0.1:$HTTPS_PORT/f.html" >/dev/null 2>&1
            v=$(wrk_rps "http://127.0.0.1:$HTTP_PORT/f.html"); record rps_http $n "$mode" "$r" "$v" req/s
            v=$(wrk_rps "https://127.0.0.1:$HTTPS_PORT/f.html"); record rps_https $n "$mode" "$r" "$v" req/s
            b_stop $inst
        done
    done
    rm -rf "$WORK/rps-acme" "$WORK/rps-plain"
}

# ---------------------------------------------------------------------------
# 4. the supervisor's idle pass over IDLE_N lineages (CPU, bench/supbench.c)

part_idle() {
    local s=$WORK/idle-store out
    rm -rf "$s" "$s-noari"
    python3 "$BENCH_DIR/gen_store.py" acme "$s" "$IDLE_N" "$DEAD_CA"
    cp -a "$s" "$s-noari"
    "$BUILD/supbench" prep-ari "$s" "$IDLE_N" "$DEAD_CA"
    "$BUILD/supbench" prep-noari "$s-noari" "$IDLE_N" "$DEAD_CA"
    out=$("$BUILD/supbench" pass "$s" "$IDLE_N" "$DEAD_CA" "$IDLE_PASSES")
    printf '%s\n' "$out" >&2
    record idle_pass_cpu_ms_ari "$IDLE_N" mod_acme 1 "$(printf '%s\n' "$out" | awk '/^median/ { print $2 }')" ms
    out=$("$BUILD/supbench" pass "$s-noari" "$IDLE_N" "$DEAD_CA" "$IDLE_PASSES")
    printf '%s\n' "$out" >&2
    record idle_pass_cpu_ms_noari "$IDLE_N" mod_acme 1 "$(printf '%s\n' "$out" | awk '/^median/ { print $2 }')" ms
    rm -rf "$s" "$s-noari"
}

bench_prepare
PARTS=${*:-"idle startup rps issue"}
for part in $PARTS; do
    blog "part $part"
    "part_$part"
done
cp "$RESULTS" "$BENCH_DIR/results/raw-$(date +%Y%m%d-%H%M%S).tsv" 2>/dev/null \
    || { mkdir -p "$BENCH_DIR/results" && cp "$RESULTS" "$BENCH_DIR/results/raw-$(date +%Y%m%d-%H%M%S).tsv"; }
python3 "$BENCH_DIR/table.py" "$RESULTS"
