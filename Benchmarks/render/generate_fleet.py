#!/usr/bin/env python3
"""Writes the render benchmark's fleet: an Ansible INI inventory of HOSTS hosts in GROUPS groups with a firewall
policy in group_vars/, the shape a real fleet has: service groups inside sites, every service allowing a few
ports from a few other services, management from the bastions, some dual-stack hosts.

Usage: generate_fleet.py DIR [HOSTS] [GROUPS]
Also writes DIR.sample.json (beside DIR: an inventory directory reads every file in it): for a sample of 100 hosts,
the resolved policy (sources and ports per rule) and the addresses of the groups it names, which the Aerleon side
of the benchmark (bench_aerleon.py) turns into the same rules.
"""
import json, os, random, sys

root = sys.argv[1]
hosts = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
groups = int(sys.argv[3]) if len(sys.argv) > 3 else 200
random.seed(7)
os.makedirs(f"{root}/group_vars", exist_ok=True)

sites = [f"site{n:02d}" for n in range(10)]
services = [f"svc{n:03d}" for n in range(groups - len(sites) - 1)]  # plus `bastion`
targets = ["iptables", "nftables", "ufw"]

members = {s: [] for s in services}
addresses = {}
lines = ["# generated render benchmark inventory", "[bastion]"]
for b in range(4):
    name = f"bastion{b}"
    addresses[name] = [f"203.0.113.{10 + b}", f"2001:db8:ffff::{10 + b:x}"]
    lines.append(f"{name} ansible_host=203.0.113.{10 + b} fw_addresses='[\"2001:db8:ffff::{10 + b:x}\"]'")
for h in range(hosts):
    s = services[h % len(services)]
    a, b = divmod(h, 250)
    v4 = f"10.{a // 250}.{a % 250}.{b + 1}"
    name = f"host{h:05d}"
    addresses[name] = [v4]
    members[s].append(name)
for s in services:
    lines.append(f"[{s}]")
    for name in members[s]:
        h = int(name[4:])
        if h % 10 == 0:
            v6 = f"2001:db8:{h // 65536:x}:{h % 65536:x}::1"
            addresses[name].append(v6)
            lines.append(f"{name} ansible_host={addresses[name][0]} fw_addresses='[\"{v6}\"]'")
        else:
            lines.append(f"{name} ansible_host={addresses[name][0]}")
for i, site in enumerate(sites):
    lines.append(f"[{site}:children]")
    lines += [s for j, s in enumerate(services) if j % len(sites) == i]
with open(f"{root}/hosts", "w") as f:
    f.write("\n".join(lines) + "\n")

with open(f"{root}/group_vars/all.yml", "w") as f:
    f.write("firewall:\n  target: iptables\n  default: drop\n  management: [bastion]\n  allow:\n"
            "    - {from: any, proto: icmp, comment: ping}\n")
policies = {}
for n, s in enumerate(services):
    rules = []
    for r in range(3):
        # Two other services and a partner network outside the inventory.
        sources = random.sample(services, 2) + [f"198.51.100.{random.randint(0, 15) * 16}/28"]
        ports = [random.randint(1000, 9000), f"{20000 + r * 100}:{20050 + r * 100}"]
        rules.append({"from": sources, "proto": random.choice(["tcp", "udp"]), "ports": ports, "comment": f"rule {r} of {s}"})
    policies[s] = rules
    with open(f"{root}/group_vars/{s}.yml", "w") as f:
        f.write(f"firewall:\n  target: {targets[n % 3]}\n  allow:\n")
        for rule in rules:
            f.write(f"    - from: {json.dumps(rule['from'])}\n      proto: {rule['proto']}\n"
                    f"      ports: {json.dumps(rule['ports'])}\n      comment: {rule['comment']}\n")

# The sample for Aerleon: every 100th host with its rules (the inventory's references in `from`, the addresses they
# resolve to in `sources`), and the addresses of every group those rules name, so that Aerleon's definitions can
# name the same groups as the inventory does.
def resolve(source):
    if source == "bastion":
        return [a for b in range(4) for a in addresses[f"bastion{b}"]]
    if source in members:
        return [a for m in members[source] for a in addresses[m]]
    return [source]

sample = {"hosts": [], "groups": {"bastion": resolve("bastion")}}
for h in range(0, hosts, max(1, hosts // 100)):
    name = f"host{h:05d}"
    s = services[h % len(services)]
    rules = [{"name": "management", "from": ["bastion"], "sources": resolve("bastion"), "proto": "tcp", "ports": [22],
              "comment": "fwctl management"},
             {"name": "ping", "from": ["any"], "sources": [], "proto": "icmp", "ports": [], "comment": "ping"}]
    for r, rule in enumerate(policies[s]):
        rules.append({"name": f"rule{r}", "from": rule["from"],
                      "sources": [a for src in rule["from"] for a in resolve(src)],
                      "proto": rule["proto"], "ports": rule["ports"], "comment": rule["comment"]})
        for src in rule["from"]:
            if src in members:
                sample["groups"][src] = resolve(src)
    sample["hosts"].append({"host": name, "service": s, "rules": rules})
with open(f"{root}.sample.json", "w") as f:
    json.dump(sample, f)
