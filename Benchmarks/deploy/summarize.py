"""Summarises a deploy benchmark run: wall times, fwctl's per-step breakdown, the ratio to Ansible."""
import json
import statistics
import sys

out, hosts, first, second = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
ansible = float(sys.argv[5]) if len(sys.argv) > 5 and sys.argv[5] else None


def reports(name):
    with open(f"{out}/{name}") as f:
        return json.load(f)


first_reports, second_reports = reports("fwctl-first.json"), reports("fwctl-second.json")
results = lambda rs: ", ".join(f"{n} {r}" for r, n in sorted(
    {r: sum(1 for x in rs if x["result"] == r) for r in {x["result"] for x in rs}}.items()))
print(f"| run ({hosts} hosts) | wall time | hosts |")
print("| --- | ---: | --- |")
print(f"| fwctl deploy, first (every host changes) | {first:.2f} s | {results(first_reports)} |")
print(f"| fwctl deploy, second (every host unchanged) | {second:.2f} s | {results(second_reports)} |")
if ansible is not None:
    print(f"| ansible-playbook (forks=50, pipelining) | {ansible:.2f} s | |")
    print(f"\nAnsible / fwctl (first deploy): **{ansible / first:.1f}x**")
steps = sorted({s for r in first_reports for s in r["steps"]})
print("\nfwctl, first deploy, per host (seconds): mean / max")
print("\n| step | mean | max |")
print("| --- | ---: | ---: |")
for s in steps:
    values = [r["steps"][s] for r in first_reports if s in r["steps"]]
    print(f"| {s} | {statistics.mean(values):.3f} | {max(values):.3f} |")
total = [r["seconds"] for r in first_reports]
print(f"| whole host | {statistics.mean(total):.3f} | {max(total):.3f} |")
