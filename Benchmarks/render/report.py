#!/usr/bin/env python3
"""Prints the render benchmark's results (scripts/bench-render): the workload, one row per fwctl run, ms per host
for iptables + nftables beside Aerleon's, the ratios, and whether the issue's targets are met.

Usage: report.py WORKDIR GROUPS    (WORKDIR holds time-*.json, size-*.json, hyperfine-*.json, aerleon.json and
inventory.sample.json, as scripts/bench-render leaves them)
"""
import ipaddress
import json
import os
import statistics
import sys

work, groups = sys.argv[1], int(sys.argv[2])


def load(name):
    with open(os.path.join(work, name)) as f:
        return json.load(f)


def hyperfine(name):
    return load(f"hyperfine-{name}.json")["results"][0]


def mib(n):
    return f"{n / 2**20:,.1f} MiB"


sample = load("inventory.sample.json")["hosts"]
aerleon = load("aerleon.json")
own_size = load("size-own.json")
fleet_hosts = own_size["hosts"]
allow = [r for h in sample for r in h["rules"][2:]]
v4 = [sum(ipaddress.ip_network(a, strict=False).version == 4 for a in r["sources"]) for r in allow]
v6 = [sum(ipaddress.ip_network(a, strict=False).version == 6 for a in r["sources"]) for r in allow]

print("\n## Workload")
print(f"{fleet_hosts:,} hosts with a firewall ({fleet_hosts - 4:,} plus 4 bastions) in {groups} groups; every host: "
      f"management SSH from the 4 dual-stack bastions, ping, and {len(allow) // len(sample)} allow rules of "
      f"{statistics.mean(len(r['sources']) for r in allow):.0f} sources on average "
      f"({statistics.mean(v4):.0f} IPv4, {statistics.mean(v6):.0f} IPv6: two service groups and a partner /28).")
print(f"Own targets: {own_size['iptables']:,} iptables, {own_size['nftables']:,} nftables, {own_size['ufw']:,} ufw hosts.")

print("\n## fwctl render (outputs to tmpfs unless noted)")
print(f"| run | wall, mean ± sd (median) | CPU user + sys | peak RSS | output | files | output per host | ms per host (median wall) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
rows = [("whole fleet, own targets", "own"), ("whole fleet, --target iptables", "iptables"),
        ("whole fleet, --target nftables", "nftables"), ("whole fleet, --target ufw", "ufw")]
for label, name in rows:
    t, s, h = load(f"time-{name}.json"), load(f"size-{name}.json"), hyperfine(name)
    print(f"| {label} | {h['mean']:.2f} s ± {h['stddev'] or 0:.2f} ({h['median']:.2f} s) | "
          f"{t['user'] + t['system']:.2f} s | {t['rss_kb'] / 1024:.0f} MiB | {mib(s['bytes'])} | {s['files']:,} | "
          f"{s['bytes'] / s['hosts'] / 1024:.1f} KiB | {h['median'] / s['hosts'] * 1000:.3f} |")
t, s = load("time-disk.json"), load("size-disk.json")
print(f"| whole fleet, own targets, to the {load('disk-fs.json')['type']} disk (1 run) | {t['wall']:.2f} s | {t['user'] + t['system']:.2f} s | "
      f"{t['rss_kb'] / 1024:.0f} MiB | {mib(s['bytes'])} | {s['files']:,} | | {t['wall'] / s['hosts'] * 1000:.3f} |")
h, one = hyperfine("sample"), hyperfine("one")
for label, r in ((f"{len(sample)} sampled hosts (--limit @FILE)", h), ("1 host (--limit host00000)", one)):
    print(f"| {label}, iptables run + nftables run | {r['mean'] * 1000:.0f} ms ± {(r['stddev'] or 0) * 1000:.0f} "
          f"({r['median'] * 1000:.0f} ms) | {(r['user'] + r['system']) * 1000:.0f} ms | | | | | |")

ipt, nft = hyperfine("iptables"), hyperfine("nftables")
cpu = sum(load(f"time-{n}.json")[k] for n in ("iptables", "nftables") for k in ("user", "system"))
fwctl_rows = [
    ("fwctl, whole fleet: (iptables wall + nftables wall) / hosts",
     (ipt["median"] + nft["median"]) / fleet_hosts * 1000, (ipt["mean"] + nft["mean"]) / fleet_hosts * 1000),
    ("fwctl, whole fleet: (iptables + nftables CPU time) / hosts", cpu / fleet_hosts * 1000, cpu / fleet_hosts * 1000),
    (f"fwctl, {len(sample)} sampled hosts: wall / {len(sample)} (each run loads all {fleet_hosts:,} hosts: see the 1-host run)",
     h["median"] / len(sample) * 1000, h["mean"] / len(sample) * 1000),
]
print("\n## Per host, iptables + nftables")
print("| | ms per host, median | mean | Aerleon / fwctl (median, mean) |")
print("| --- | ---: | ---: | ---: |")
print(f"| Aerleon {aerleon['aerleon']}, api.Generate in-process, {aerleon['hosts']} hosts x {aerleon['repeat']} | "
      f"{aerleon['median_ms']:.2f} | {aerleon['mean_ms']:.2f} | |")

for label, median, mean in fwctl_rows:
    print(f"| {label} | {median:.3f} | {mean:.3f} | {aerleon['median_ms'] / median:.0f}x, {aerleon['mean_ms'] / mean:.0f}x |")
print(f"\nAerleon's output per host: iptables {aerleon['bytes_per_host']['iptables'] / 1024:.0f} KiB "
      f"({aerleon['lines_per_host']['iptables']:.0f} lines, v4 and v6 filters in one file), nftables "
      f"{aerleon['bytes_per_host']['nftables'] / 1024:.0f} KiB ({aerleon['lines_per_host']['nftables']:.0f} lines).")

own = hyperfine("own")
ratio = aerleon["median_ms"] / fwctl_rows[0][1]
print("\n## Targets")
print(f"- whole fleet (own targets) under 2 s: {own['median']:.2f} s median: {'met' if own['median'] < 2 else 'NOT met'}")
print(f"- per host at least 100x faster than Aerleon (fleet wall time): {ratio:.0f}x: {'met' if ratio >= 100 else 'NOT met'}")
