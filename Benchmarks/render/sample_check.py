#!/usr/bin/env python3
"""Checks rendered firewall text against the benchmark sample: a benchmark of a wrong answer is worthless.

`check(host, outputs)` (used by bench_aerleon.py) raises SystemExit unless every output is non-empty and holds every
source address of every sampled rule (compared as parsed networks, so 10.0.0.1 and 10.0.0.1/32 are the same) and
every port, spelled as the output's syntax spells ranges (20000:20050 for iptables and ufw, 20000-20050 for
nftables).

As a program it checks fwctl's output folder for the sampled hosts:
    sample_check.py SAMPLE.json OUTDIR TARGET      (TARGET: iptables, nftables or ufw)
"""
import ipaddress
import os
import re
import sys

ADDRESS = re.compile(r"(?<![\w:.])(\d+\.\d+\.\d+\.\d+(?:/\d+)?|[0-9a-fA-F]*:[0-9a-fA-F:]+(?:/\d+)?)(?![\w:.])")


def networks_in(text):
    found = set()
    for candidate in ADDRESS.findall(text):
        try:
            found.add(ipaddress.ip_network(candidate, strict=False))
        except ValueError:
            pass  # a port range such as 20000:20050, or a timestamp
    return found


def check(host, outputs):
    """outputs: {target: text}. Raises SystemExit naming the host, target and what is missing."""
    for target, text in outputs.items():
        if not text.strip():
            raise SystemExit(f"sample_check: {host['host']}: empty {target} output")
        found = networks_in(text)
        for rule in host["rules"]:
            missing = [a for a in rule["sources"] if ipaddress.ip_network(a, strict=False) not in found]
            if missing:
                raise SystemExit(f"sample_check: {host['host']}: {target} output lacks {len(missing)} of the "
                                 f"{len(rule['sources'])} sources of {rule['name']}, e.g. {missing[0]}")
            for port in rule["ports"]:
                spelled = str(port).replace(":", "-" if target == "nftables" else ":")
                if not re.search(rf"(?<![\d:-]){re.escape(spelled)}(?![\d:-])", text):
                    raise SystemExit(f"sample_check: {host['host']}: {target} output lacks port {port} of {rule['name']}")


def main():
    import json
    sample_path, outdir, target = sys.argv[1:4]
    with open(sample_path) as f:
        hosts = json.load(f)["hosts"]
    for host in hosts:
        folder = os.path.join(outdir, host["host"])
        text = "".join(open(os.path.join(folder, name)).read() for name in sorted(os.listdir(folder)))
        check(host, {target: text})
    print(f"fwctl {target} output: all {len(hosts)} sampled hosts hold every sampled source and port", file=sys.stderr)


if __name__ == "__main__":
    main()
