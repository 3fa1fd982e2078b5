#!/usr/bin/env python3
"""Writes the data file of the end-to-end template benchmark: TemplateBench's rule data (the same names and
sources), with RULES rules of 50 sources each, as JSON.

usage: generate_e2e_data.py OUT.json [RULES]   (default 1000 rules: a 0.9 MB file, 5.5 MB of iptables rules)
"""
import json
import sys


def main():
    out = sys.argv[1]
    rule_count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rules = []
    for i in range(rule_count):
        sources = [f"198.51.{i % 256}.{j * 4}/30" if i % 2 == 0 else f"203.0.113.{j}/32" for j in range(50)]
        rules.append({
            "name": f"svc-{i:03d}",
            "comment": f"service {i} from the inventory",
            "proto": "udp" if i % 3 == 0 else "tcp",
            "port": 1000 + i * 7,
            "log": i % 10 == 0,
            "sources": sources,
        })
    with open(out, "w") as f:
        json.dump({"host": "web1.example.net", "chain": "INPUT", "rules": rules}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
