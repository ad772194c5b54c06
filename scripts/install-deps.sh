#!/bin/sh
# scripts/install-deps.sh -- installs, as root on Debian 12, every package
# the build, the demo and the tests need. Idempotent: runs apt-get only if
# a package is missing.
#
# The system's apache2 service is not started by the install (a temporary
# policy-rc.d denies service starts while apt runs); our demo and tests run
# private Apache instances on high loopback ports and never touch it.
set -eu

PACKAGES="
build-essential
pkg-config
apache2
apache2-dev
libapr1-dev
libaprutil1-dev
libssl-dev
libcurl4-openssl-dev
libjansson-dev
pebble
openssl
curl
ca-certificates
jq
python3
procps
iproute2
coreutils
util-linux
bind9
bind9-utils
bind9-dnsutils
certbot
debhelper
dpkg-dev
fakeroot
python3-cryptography
clang
libclang-rt-14-dev
"

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps.sh: run as root (sudo scripts/install-deps.sh)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg-query >/dev/null 2>&1; then
    echo "install-deps.sh: this script is for Debian (apt-get, dpkg-query not found)" >&2
    exit 1
fi

missing=""
for p in $PACKAGES; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
    echo "install-deps.sh: all packages are installed"
    exit 0
fi

echo "install-deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive

# Deny service starts during the install (honoured by invoke-rc.d and
# deb-systemd-invoke), so that neither apache2 (port 80) nor named (53)
# starts from a postinst. Only if no policy-rc.d exists already.
POLICY=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\n# temporary, scripts/install-deps.sh\nexit 101\n' > "$POLICY"
    chmod 755 "$POLICY"
    own_policy=1
fi
cleanup() {
    if [ "$own_policy" = 1 ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

apt-get update
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing

echo "install-deps.sh: done"
