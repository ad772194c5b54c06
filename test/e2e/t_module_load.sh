#!/usr/bin/env bash
# Smoke test of the module build: mod_acme.so loads into Debian's Apache
# (with mod_ssl) and the server answers. Catches unresolved symbols and
# crashes at load/post_config time before the feature tests run.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

t_begin "mod_acme.so loads into Apache (DUMP_MODULES lists acme_module)"
MOD=$TOP/mod_acme.so
if [ ! -f "$MOD" ]; then
    t_fail "$MOD does not exist (run ./configure && make)"
else
    apache_write_conf modload 5002 "LoadModule acme_module \"$MOD\""
    conf=$(apache_dir modload)/httpd.conf
    out=$(/usr/sbin/apache2 -f "$conf" -t -D DUMP_MODULES 2>&1)
    if printf '%s\n' "$out" | grep -q 'acme_module (shared)'; then
        t_pass
    else
        t_fail "$(printf '%s\n' "$out" | grep -v '^ ' | head -n 3 | tr '\n' ' ')"
    fi
fi

t_begin "Apache with mod_acme loaded starts and serves"
echo hello > "$(apache_dir modload)/htdocs/index.html"
chmod 644 "$(apache_dir modload)/htdocs/index.html"
if [ -f "$MOD" ] && apache_start modload 5002 "LoadModule acme_module \"$MOD\"" \
   && [ "$(curl -s "http://127.0.0.1:5002/index.html")" = hello ]; then
    if grep -Eq 'AH00052|Segmentation fault|exit signal' "$(apache_dir modload)/logs/error.log"; then
        t_fail "a child crashed: $(grep -E 'AH00052|Segmentation' "$(apache_dir modload)/logs/error.log" | head -n 1)"
    else
        t_pass
    fi
else
    t_fail "Apache did not start or answer with the module loaded"
fi

t_summary
