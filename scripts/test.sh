#!/bin/sh
# scripts/test.sh -- builds mod_acme and acmectl and runs every test: the
# unit tests and the end-to-end suite (pebble, challtestsrv and private
# Apache instances on 127.0.0.1 high ports). Run as root on Debian 12:
#
#     sudo scripts/test.sh
#
# It is: scripts/install-deps.sh (as root), then exactly
#     ./configure && make && make check
# The last line is "N passed, N failed"; the exit status is non-zero if
# anything failed. ACME_SKIP_E2E=1 runs only the unit tests.
set -e
cd "$(dirname "$0")/.."
# On a fresh Debian 12 (as root) this installs the packages first; when
# everything is installed it is a quick no-op. ACME_SKIP_DEPS=1 skips it.
if [ "$(id -u)" -eq 0 ] && [ "${ACME_SKIP_DEPS:-0}" != 1 ]; then
    scripts/install-deps.sh
fi
./configure && make && make check
