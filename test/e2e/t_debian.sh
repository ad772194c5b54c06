#!/usr/bin/env bash
# test/e2e/t_debian.sh -- the Debian package libapache2-mod-acme, end to end
# with the SYSTEM apache2 (/etc/apache2, apache2ctl):
#
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree; the .deb holds
#      the module, acmectl, acme.load/acme.conf, hooks, docs, man pages;
#   2. apt-get install ./libapache2-mod-acme_*.deb: the postinst enabled
#      acme and, through "# Depends: ssl", ssl and socache_shmcb; the store
#      /var/lib/apache2/acme exists (0755 root); configtest passes;
#   3. a site in /etc/apache2/sites-available with an SSL vhost on
#      127.0.0.1:$DEB_HTTPS_PORT (ACMEDomain deb.example.test) and an http
#      vhost on the http-01 port, ports.conf replaced by Listen lines for
#      those two ports only; "apache2ctl start"; the certificate from
#      pebble is served within $DEB_CERT_TIMEOUT s;
#   4. apache2ctl stop, apt-get purge: module disabled, files gone, the
#      store kept (README.Debian); then everything this test changed is
#      undone (site, ports.conf, ssl/socache_shmcb, the store if it did not
#      exist) and /etc/apache2 and /var/lib/apache2 are compared with a
#      snapshot taken before.
#
# Skipped (with the reason) when not root, without dpkg-buildpackage, apt-get
# or Debian's apache2, when the package or a "make install" copy of
# mod_acme is already installed, or when the system apache2 is running.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEB_HTTPS_PORT=${DEB_HTTPS_PORT:-8446}
DEB_NAME=deb.example.test
DEB_CERT_TIMEOUT=${DEB_CERT_TIMEOUT:-90}
PKG=libapache2-mod-acme
STORE_DEFAULT=/var/lib/apache2/acme
SITE=mod-acme-e2e
SITE_FILE=/etc/apache2/sites-available/$SITE.conf
PORTS_CONF=/etc/apache2/ports.conf
SYS_PIDFILE=/var/run/apache2/apache2.pid

skip_all() {
    t_begin "Debian package $PKG with the system apache2"
    t_skip "$*"
    t_summary
    exit 0
}

# ---------------------------------------------------------------------------
# Can this machine run the test without disturbing anything?

[ "$(id -u)" -eq 0 ] || skip_all "needs root (installs a package, configures the system apache2)"
for c in dpkg-buildpackage dpkg-checkbuilddeps dpkg-deb dpkg apt-get a2enmod a2dismod \
         a2ensite a2dissite a2query apache2ctl; do
    command -v "$c" >/dev/null 2>&1 || skip_all "$c not found (apt-get install dpkg-dev debhelper apache2)"
done
if [ ! -f "$PORTS_CONF" ] || [ ! -f /etc/apache2/apache2.conf ]; then
    skip_all "no Debian apache2 configuration in /etc/apache2"
fi
id www-data >/dev/null 2>&1 || skip_all "no user www-data"
if ! (cd "$TOP" && dpkg-checkbuilddeps >/dev/null 2>&1); then
    skip_all "build dependencies missing: $(cd "$TOP" && dpkg-checkbuilddeps 2>&1 | sed 's/^dpkg-checkbuilddeps: error: //' | head -n 1) (scripts/install-deps.sh)"
fi
st=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)
if [ -n "$st" ] && [ "$st" != not-installed ]; then
    skip_all "$PKG is already installed here ($st); this test installs and purges it"
fi
for f in /usr/lib/apache2/modules/mod_acme.so /usr/bin/acmectl \
         /etc/apache2/mods-available/acme.load /etc/apache2/mods-available/acme.conf \
         /etc/apache2/mods-enabled/acme.load /usr/share/mod-acme "$SITE_FILE"; do
    [ -e "$f" ] && skip_all "$f exists (a 'make install' or an earlier run?); not overwriting it"
done
sys_apache_pid() {
    local pid
    pid=$(cat "$SYS_PIDFILE" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}
if pid=$(sys_apache_pid); then
    skip_all "the system apache2 is running (pid $pid); this test reconfigures and starts it"
fi
for p in "$DEB_HTTPS_PORT" "$HTTP01_PORT"; do
    port_open "$p" && skip_all "port $p is in use"
done

e2e_init

# systemd as pid 1 (a developer's machine): apache2ctl start hands over to
# systemctl; stop the same way. CI containers have no systemd.
SYSTEMD=0
case "$(readlink -f /proc/1/exe 2>/dev/null)" in *systemd*) SYSTEMD=1 ;; esac

# ---------------------------------------------------------------------------
# What we change, and how to undo it (the EXIT trap calls deb_undo).

SNAP_BEFORE=$WORK/system-before.txt
SNAP_AFTER=$WORK/system-after.txt
# the state of the system's Apache configuration: files, links, modes, hashes
system_snapshot() {
    { echo "## /etc/apache2"; store_snapshot /etc/apache2
      echo "## /var/lib/apache2"; store_snapshot /var/lib/apache2 | grep -v '^\./acme[/ ]'
    } 2>/dev/null
}
system_snapshot > "$SNAP_BEFORE"
# directories that exist now (new empty ones are removed at the end)
find /etc/apache2 /var/lib/apache2 -type d 2>/dev/null | LC_ALL=C sort > "$WORK/dirs-before.txt"

cp -p "$PORTS_CONF" "$WORK/ports.conf.orig" || e2e_die "cannot back up $PORTS_CONF"
MODS_BEFORE=" "
for m in ssl socache_shmcb acme; do
    a2query -q -m "$m" 2>/dev/null && MODS_BEFORE="$MODS_BEFORE$m "
done
STORE_EXISTED=0
[ -e "$STORE_DEFAULT" ] && STORE_EXISTED=1
OWN_POLICY=0
UNDONE=0

# policy_deny / policy_restore: no service starts from maintainer scripts
# (as scripts/install-deps.sh does), only if there is no policy-rc.d yet.
policy_deny() {
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# temporary, test/e2e/t_debian.sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        OWN_POLICY=1
    fi
}
policy_restore() {
    if [ "$OWN_POLICY" = 1 ]; then rm -f /usr/sbin/policy-rc.d; OWN_POLICY=0; fi
}

APT_OPTS=(-y -q -o DPkg::Lock::Timeout=120 -o Dpkg::Use-Pty=0)
apt_run() {
    policy_deny
    DEBIAN_FRONTEND=noninteractive apt-get "${APT_OPTS[@]}" "$@" </dev/null
    local rc=$?
    policy_restore
    return $rc
}

sys_apache_stop() {
    local pid _
    pid=$(sys_apache_pid) || return 0
    if [ "$SYSTEMD" = 1 ]; then
        systemctl stop apache2 >/dev/null 2>&1
    fi
    apache2ctl stop >/dev/null 2>&1
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
    wait_port_free "$DEB_HTTPS_PORT" 5 || true
    wait_port_free "$HTTP01_PORT" 5 || true
}

# deb_undo: stop the system apache2, purge the package, remove the site,
# restore ports.conf, disable the modules we enabled, remove the store if we
# created it. Safe to call twice.
deb_undo() {
    [ "$UNDONE" = 1 ] && return 0
    UNDONE=1
    local m
    sys_apache_stop
    st=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)
    if [ -n "$st" ] && [ "$st" != not-installed ]; then
        apt_run purge "$PKG" >>"$WORK/apt.log" 2>&1 \
            || dpkg --purge "$PKG" >>"$WORK/apt.log" 2>&1
    fi
    if [ -e "/etc/apache2/sites-enabled/$SITE.conf" ]; then
        a2dissite -q -p "$SITE" >/dev/null 2>&1 || rm -f "/etc/apache2/sites-enabled/$SITE.conf"
    fi
    rm -f "$SITE_FILE"
    find /var/lib/apache2/site -name "$SITE" -type f -delete 2>/dev/null
    if [ -f "$WORK/ports.conf.orig" ]; then
        cp -p "$WORK/ports.conf.orig" "$PORTS_CONF"
    fi
    for m in acme ssl socache_shmcb; do
        case "$MODS_BEFORE" in *" $m "*) continue ;; esac
        if a2query -q -m "$m" 2>/dev/null; then
            a2dismod -q -f -p "$m" >/dev/null 2>&1
        fi
        # no marker left behind (a2dismod -p and the postrm purge remove
        # theirs; the postinst's enabled_by_maint markers of dependencies)
        find /var/lib/apache2/module -name "$m" -type f -delete 2>/dev/null
    done
    if [ "$STORE_EXISTED" = 0 ] && [ -d "$STORE_DEFAULT" ]; then
        rm -rf "${STORE_DEFAULT:?}"
    fi
    # new empty directories (a2dismod -p creates marker directories)
    find /etc/apache2 /var/lib/apache2 -depth -type d -empty 2>/dev/null | while read -r d; do
        grep -qxF "$d" "$WORK/dirs-before.txt" || rmdir "$d" 2>/dev/null
    done
    policy_restore
}
trap 'deb_undo; e2e_cleanup' EXIT
trap 'deb_undo; e2e_cleanup; trap - INT; kill -INT $$' INT
trap 'deb_undo; e2e_cleanup; exit 143' TERM

# ---------------------------------------------------------------------------
# 1. Build

BUILD=$WORK/pkg
SRC=$BUILD/libapache2-mod-acme-0.1.0
DEB=""

copy_tree() {
    mkdir -p "$SRC" || return 1
    if git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        # tracked and new files, without what .gitignore names (builds)
        (cd "$TOP" && git ls-files -z -c -o --exclude-standard \
            | xargs -0 cp --parents -t "$SRC" 2>/dev/null)
        # files deleted in the work tree but still tracked make cp fail;
        # what matters is that the tree builds
        [ -f "$SRC/debian/rules" ] && [ -f "$SRC/configure" ]
    else
        (cd "$TOP" && tar -cf - --exclude=./test/e2e/work --exclude=./demo \
             --exclude=./build --exclude=./.libs --exclude='*.so' --exclude='*.o' \
             --exclude=./acmectl --exclude=./Makefile .) | tar -C "$SRC" -xf -
    fi
}

case_build() {
    t_begin "dpkg-buildpackage -us -uc -b builds $PKG from a clean copy of the tree"
    local t0 secs list f
    copy_tree || { t_fail "cannot copy the tree to $SRC"; return 1; }
    t0=$SECONDS
    # the unit tests run in scripts/test.sh already
    if ! (cd "$SRC" && DEB_BUILD_OPTIONS=nocheck timeout 600 dpkg-buildpackage -us -uc -b) \
            >"$WORK/build.log" 2>&1 </dev/null; then
        e2e_show_file "$WORK/build.log" 25
        t_fail "dpkg-buildpackage failed (log: $WORK/build.log)"; return 1
    fi
    secs=$((SECONDS - t0))
    DEB=$(find "$BUILD" -maxdepth 1 -name "${PKG}_0.1.0_*.deb" | head -n 1)
    [ -s "$DEB" ] || { t_fail "no ${PKG}_0.1.0_*.deb in $BUILD: $(ls "$BUILD")"; return 1; }
    e2e_log "built $(basename "$DEB") in ${secs}s"
    list=$(dpkg-deb -c "$DEB" | awk '{ print $1, $6 }')
    for f in ./usr/lib/apache2/modules/mod_acme.so ./usr/bin/acmectl \
             ./etc/apache2/mods-available/acme.load ./etc/apache2/mods-available/acme.conf \
             ./usr/share/mod-acme/contrib/acme-dns-rfc2136 ./usr/share/mod-acme/contrib/acme-dns-cloudflare \
             ./usr/share/doc/$PKG/copyright ./usr/share/doc/$PKG/README.Debian \
             ./usr/share/doc/$PKG/docs/directives.md \
             ./usr/share/man/man8/acmectl.8.gz ./usr/share/man/man5/apache-mod-acme.5.gz; do
        printf '%s\n' "$list" | grep -q " $f\$" || { t_fail "the package lacks $f"; return 1; }
    done
    for f in acme-dns-rfc2136 acme-dns-cloudflare; do
        printf '%s\n' "$list" | grep -q "^-rwxr-xr-x ./usr/share/mod-acme/contrib/$f\$" \
            || { t_fail "contrib/$f is not 0755 in the package"; return 1; }
    done
    local ctl deps
    ctl=$(dpkg-deb -f "$DEB" Package Version Architecture Depends)
    deps=$(dpkg-deb -f "$DEB" Depends)
    for f in apache2-api-20120211 apache2-bin libcurl4 libjansson4 libssl3; do
        case "$deps" in *"$f"*) ;; *) t_fail "Depends lacks $f: $deps"; return 1 ;; esac
    done
    e2e_log "$(printf '%s' "$ctl" | tr '\n' ' ')"
    t_pass
}

# ---------------------------------------------------------------------------
# 2. Install

case_install() {
    t_begin "apt-get install ./$(basename "$DEB"): a2enmod acme enabled acme, ssl and socache_shmcb; store 0755 root; configtest passes"
    local m out
    if ! apt_run install --no-install-recommends "$DEB" >"$WORK/apt.log" 2>&1; then
        e2e_show_file "$WORK/apt.log" 15
        t_fail "apt-get install failed"; return 1
    fi
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)" = installed ] \
        || { t_fail "$PKG is not in state installed"; return 1; }
    for f in /usr/lib/apache2/modules/mod_acme.so /usr/bin/acmectl \
             /etc/apache2/mods-available/acme.load /etc/apache2/mods-available/acme.conf; do
        [ -f "$f" ] || { t_fail "$f not installed"; return 1; }
    done
    [ -x /usr/share/mod-acme/contrib/acme-dns-rfc2136 ] \
        || { t_fail "contrib hooks not installed executable"; return 1; }
    grep -q '^# Depends: ssl' /etc/apache2/mods-available/acme.load \
        || { t_fail "acme.load has no '# Depends: ssl'"; return 1; }
    # the postinst ran a2enmod acme; running it again is a no-op
    out=$(a2enmod acme 2>&1) || { t_fail "a2enmod acme: $out"; return 1; }
    for m in acme ssl socache_shmcb; do
        if [ ! -L "/etc/apache2/mods-enabled/$m.load" ] || [ ! -e "/etc/apache2/mods-enabled/$m.load" ]; then
            t_fail "/etc/apache2/mods-enabled/$m.load is not a link to mods-available"; return 1
        fi
    done
    [ -L /etc/apache2/mods-enabled/acme.conf ] || { t_fail "acme.conf not enabled"; return 1; }
    [ -L /etc/apache2/mods-enabled/ssl.conf ] || { t_fail "ssl.conf not enabled"; return 1; }
    if [ -e "$STORE_DEFAULT" ] && [ "$STORE_EXISTED" = 0 ]; then
        [ "$(stat -c '%a %U:%G' "$STORE_DEFAULT")" = "755 root:root" ] \
            || { t_fail "$STORE_DEFAULT is $(stat -c '%a %U:%G' "$STORE_DEFAULT"), want 755 root:root"; return 1; }
    elif [ ! -d "$STORE_DEFAULT" ]; then
        t_fail "the package did not create $STORE_DEFAULT"; return 1
    fi
    out=$(/usr/bin/acmectl version 2>&1)
    case "$out" in *0.1.0*) ;; *) t_fail "acmectl version: '$out'"; return 1 ;; esac
    if ! apache2ctl configtest >"$WORK/configtest.log" 2>&1; then
        e2e_show_file "$WORK/configtest.log"
        t_fail "apache2ctl configtest fails with the shipped configuration"; return 1
    fi
    e2e_log "$(tail -n 1 "$WORK/configtest.log")"
    t_pass
}

# ---------------------------------------------------------------------------
# 3. The system apache2 gets a certificate

STORE=$STORE_DEFAULT
SYS_ERRLOG=$WORK/system-apache/error.log

write_site() {
    local storeline=""
    if [ "$STORE_EXISTED" = 1 ]; then
        # someone's store is there: do not touch it
        STORE=$WORK/store
        storeline="ACMEStoreDir \"$STORE\""
        e2e_log "note: $STORE_DEFAULT existed before; the site uses $STORE"
    fi
    mkdir -p "$WORK/system-apache" "$WORK/www/deb"
    echo "mod_acme debian e2e" > "$WORK/www/deb/index.html"
    chmod 755 "$WORK/www" "$WORK/www/deb"; chmod 644 "$WORK/www/deb/index.html"
    cat > "$PORTS_CONF" <<EOF
# temporary, test/e2e/t_debian.sh (the original is restored at the end)
Listen 127.0.0.1:$HTTP01_PORT
Listen 127.0.0.1:$DEB_HTTPS_PORT
EOF
    cat > "$SITE_FILE" <<EOF
# temporary, test/e2e/t_debian.sh
ErrorLog "$SYS_ERRLOG"
LogLevel info ssl:warn
ACMECertificateAuthority $ACME_SERVER
ACMECACertificateFile "$ACME_CA_BUNDLE"
ACMEAgreeToS on
ACMEContact e2e@example.test
ACMEPortMap 80:$HTTP01_PORT
$storeline

<Directory "$WORK/www/deb">
    Require all granted
</Directory>

<VirtualHost 127.0.0.1:$HTTP01_PORT>
    ServerName $DEB_NAME
    DocumentRoot "$WORK/www/deb"
</VirtualHost>

<VirtualHost 127.0.0.1:$DEB_HTTPS_PORT>
    ServerName $DEB_NAME
    DocumentRoot "$WORK/www/deb"
    SSLEngine on
    ACMEDomain $DEB_NAME
</VirtualHost>
EOF
    a2ensite -q "$SITE" >/dev/null
}

served_ok() {
    tls_served_chain "$DEB_HTTPS_PORT" "$DEB_NAME" "$WORK/served" || return 1
    [ -s "$WORK/served.chain.pem" ] || return 1
    openssl verify -CAfile "$PEBBLE_ROOT" -untrusted "$WORK/served.chain.pem" \
        "$WORK/served.leaf.pem" >/dev/null 2>&1
}

case_system_apache() {
    t_begin "the system apache2 (apache2ctl start) obtains a certificate for $DEB_NAME from pebble and serves it on 127.0.0.1:$DEB_HTTPS_PORT"
    local t0 out code
    write_site
    if ! apache2ctl configtest >"$WORK/configtest2.log" 2>&1; then
        e2e_show_file "$WORK/configtest2.log"
        t_fail "configtest fails with the site"; return 1
    fi
    t0=$SECONDS
    if ! apache2ctl start >"$WORK/start.log" 2>&1 </dev/null; then
        e2e_show_file "$WORK/start.log"; e2e_show_file "$SYS_ERRLOG"
        t_fail "apache2ctl start failed"; return 1
    fi
    if ! wait_port "$DEB_HTTPS_PORT" 15; then
        e2e_show_file "$SYS_ERRLOG"
        t_fail "nothing listens on $DEB_HTTPS_PORT after apache2ctl start"; return 1
    fi
    # the listeners open before the pid file is written
    wait_until 10 sys_apache_pid >/dev/null || { t_fail "no running apache2 with $SYS_PIDFILE"; return 1; }
    if ! wait_until "$DEB_CERT_TIMEOUT" served_ok; then
        grep 'mod_acme' "$SYS_ERRLOG" | tail -n 15 | sed 's/^/#   /'
        t_fail "no certificate from pebble served within ${DEB_CERT_TIMEOUT}s (issuer: $(openssl x509 -in "$WORK/served.leaf.pem" -noout -issuer 2>/dev/null))"
        return 1
    fi
    e2e_log "certificate served $((SECONDS - t0))s after apache2ctl start"
    check_cert_verifies "$WORK/served.leaf.pem" "$WORK/served.chain.pem" \
        || { t_fail "served certificate does not verify against pebble's root"; return 1; }
    check_cert_names "$WORK/served.leaf.pem" "$DEB_NAME" \
        || { t_fail "served certificate's SAN is not $DEB_NAME"; return 1; }
    # a real request through the verified chain
    code=$(curl -s --max-time 10 --cacert "$PEBBLE_ROOT" -o "$WORK/body" -w '%{http_code}' \
        --resolve "$DEB_NAME:$DEB_HTTPS_PORT:127.0.0.1" "https://$DEB_NAME:$DEB_HTTPS_PORT/")
    if [ "$code" != 200 ] || [ "$(cat "$WORK/body")" != "mod_acme debian e2e" ]; then
        t_fail "GET https://$DEB_NAME:$DEB_HTTPS_PORT/ with pebble's root: $code '$(head -c 100 "$WORK/body")'"; return 1
    fi
    # the store of the installed module, read by the installed acmectl
    check_lineage "$STORE" "$DEB_NAME" 1 || { t_fail "lineage in $STORE"; return 1; }
    out=$(/usr/bin/acmectl certificates --config-dir "$STORE" 2>&1)
    printf '%s\n' "$out" | grep -q "Certificate Name: $DEB_NAME" \
        || { t_fail "acmectl certificates does not list $DEB_NAME: $out"; return 1; }
    # the worker ran as www-data, the installed /usr/bin/acmectl
    if [ -d "$STORE/challenges" ] && [ "$(stat -c %U "$STORE/challenges")" != www-data ]; then
        t_fail "$STORE/challenges is owned by $(stat -c %U "$STORE/challenges"), want www-data"; return 1
    fi
    t_pass
}

# ---------------------------------------------------------------------------
# 4. Stop, purge, undo

case_purge() {
    t_begin "apache2ctl stop and apt-get purge: module disabled, files removed, the store kept (README.Debian)"
    local f
    sys_apache_stop
    if sys_apache_pid >/dev/null; then t_fail "the system apache2 still runs"; return 1; fi
    if ! apt_run purge "$PKG" >"$WORK/purge.log" 2>&1; then
        e2e_show_file "$WORK/purge.log" 15
        t_fail "apt-get purge failed"; return 1
    fi
    st=$(dpkg-query -W -f='${db:Status-Status}' "$PKG" 2>/dev/null)
    [ -z "$st" ] || [ "$st" = not-installed ] || { t_fail "$PKG is in state $st after purge"; return 1; }
    for f in /usr/lib/apache2/modules/mod_acme.so /usr/bin/acmectl \
             /etc/apache2/mods-available/acme.load /etc/apache2/mods-available/acme.conf \
             /etc/apache2/mods-enabled/acme.load /etc/apache2/mods-enabled/acme.conf \
             /usr/share/mod-acme; do
        [ -e "$f" ] || [ -L "$f" ] && { t_fail "$f is still there after purge"; return 1; }
    done
    if [ "$STORE" = "$STORE_DEFAULT" ]; then
        [ -s "$STORE/live/$DEB_NAME/fullchain.pem" ] \
            || { t_fail "purge removed the store's certificate (README.Debian says it is kept)"; return 1; }
        grep -q "keeping $STORE_DEFAULT" "$WORK/purge.log" \
            || { t_fail "purge did not say that it kept $STORE_DEFAULT"; return 1; }
    fi
    t_pass
}

case_undo() {
    t_begin "the system is left as it was: apache2 stopped, /etc/apache2 and /var/lib/apache2 as before"
    deb_undo
    if sys_apache_pid >/dev/null; then t_fail "the system apache2 still runs"; return 1; fi
    system_snapshot > "$SNAP_AFTER"
    if ! cmp -s "$SNAP_BEFORE" "$SNAP_AFTER"; then
        diff "$SNAP_BEFORE" "$SNAP_AFTER" | head -n 20 | sed 's/^/#   /'
        t_fail "/etc/apache2 or /var/lib/apache2 differ from before the test"; return 1
    fi
    if [ "$STORE_EXISTED" = 0 ] && [ -e "$STORE_DEFAULT" ]; then
        t_fail "$STORE_DEFAULT is still there"; return 1
    fi
    for p in "$DEB_HTTPS_PORT" "$HTTP01_PORT"; do
        port_open "$p" && { t_fail "port $p is still open"; return 1; }
    done
    t_pass
}

challtestsrv_start
pebble_start

if case_build && case_install; then
    case_system_apache
    case_purge
fi
case_undo
t_summary
