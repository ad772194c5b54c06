#!/usr/bin/env python3
"""bench/table.py RAW.tsv... -- one table of medians from bench/run.sh's raw
lines (metric, parameter, tool, repetition, value, unit): one row per metric
and parameter, the median per tool, and mod_acme/peer for each peer.
Values that are not numbers (timeouts) make the median "n/a"."""
import statistics
import sys
from collections import OrderedDict

LABEL = {
    "issue_s": "start -> all N certs served (s), N=",
    "pss_kb": "PSS of httpd tree after N certs (kB), N=",
    "ca_cpu_s": "CPU pebble used meanwhile (s), N=",
    "configtest_s_present": "configtest, certs present (s), vhosts=",
    "configtest_s_absent": "configtest, certs absent (s), vhosts=",
    "startup_s_present": "start until serving, certs present (s), vhosts=",
    "startup_s_absent": "start until serving, certs absent (s), vhosts=",
    "rps_http": "keep-alive http, 1 KB file (req/s), ACMEDomains=",
    "rps_https": "keep-alive https, 1 KB file (req/s), ACMEDomains=",
    "idle_pass_cpu_ms_ari": "idle pass CPU, ARI windows recorded (ms), lineages=",
    "idle_pass_cpu_ms_noari": "idle pass CPU, CA without ARI (ms), lineages=",
    "md_restart_at_s": "(mod_md: our graceful restart sent at, s), N=",
    "certbot_runs_s": "(certbot: the N certonly runs alone, s), N=",
}
PEERS = ["mod_md", "certbot", "without"]


def main():
    rows = OrderedDict()
    for path in sys.argv[1:]:
        for line in open(path):
            f = line.rstrip("\n").split("\t")
            if len(f) < 6:
                continue
            metric, param, tool, _rep, value, _unit = f[:6]
            rows.setdefault((metric, param), OrderedDict()).setdefault(tool, []).append(value)
    order = list(LABEL)
    keys = sorted(rows, key=lambda k: (order.index(k[0]) if k[0] in order else 99,
                                       int(k[1]) if k[1].isdigit() else 0))

    def med(vals):
        try:
            return statistics.median(float(v) for v in vals)
        except ValueError:
            return None

    def fmt(v):
        if v is None:
            return "n/a"
        return "%.0f" % v if v >= 100 else "%.2f" % v

    print("| measurement | mod_acme | mod_md | certbot | without module | mod_acme/peer | runs |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for k in keys:
        tools = rows[k]
        acme = med(tools.get("mod_acme", tools.get("with", [])))
        cells = [fmt(acme) if ("mod_acme" in tools or "with" in tools) else ""]
        ratios = []
        for peer in PEERS:
            if peer in tools:
                m = med(tools[peer])
                cells.append(fmt(m))
                if acme is not None and m:
                    ratios.append("%.3f (%s)" % (acme / m, peer))
            else:
                cells.append("")
        runs = ", ".join("%s %d" % (t, len(v)) for t, v in tools.items())
        print("| %s%s | %s | %s | %s |" % (LABEL.get(k[0], k[0] + " "), k[1],
                                          " | ".join(cells), "; ".join(ratios) or "-", runs))


if __name__ == "__main__":
    main()
