#!/bin/sh
# bench/setup.sh -- installs, as root on Debian 12, what the benchmarks need
# beyond scripts/install-deps.sh (which covers the build and the tests), and
# builds the snapshot the benchmarks run (bench/build.sh). Idempotent.
#
#   wrk            requests/s (bench/run.sh rps)
#   certbot        the Certbot peer (bench/run.sh issue; install-deps.sh has it too, for t_import); brings
#                  python3-cryptography, which gen_store.py and served.py use
#   apache2        mod_md (the peer) ships in apache2-bin: /usr/lib/apache2/modules/mod_md.so
#   linux-perf     optional, for profiling (not needed to run)
# The benchmarks are not run by CI, so these are not in install-deps.sh.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root" >&2; exit 1
fi
"$TOP/scripts/install-deps.sh"
missing=""
for p in wrk certbot python3-cryptography apache2-bin; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup.sh: installing:$missing"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
fi
[ -f /usr/lib/apache2/modules/mod_md.so ] || { echo "setup.sh: mod_md.so missing" >&2; exit 1; }
"$TOP/bench/build.sh"
