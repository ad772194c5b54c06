#!/bin/sh
# scripts/test.sh -- builds mod_acme and acmectl and runs every test: the
# unit tests and the end-to-end suite (pebble, challtestsrv and private
# Apache instances on 127.0.0.1 high ports). Run as root on Debian 12 after
# scripts/install-deps.sh:
#
#     sudo scripts/test.sh
#
# It is exactly: ./configure && make && make check
# The last line is "N passed, N failed"; the exit status is non-zero if
# anything failed. ACME_SKIP_E2E=1 runs only the unit tests.
set -e
cd "$(dirname "$0")/.."
./configure && make && make check
