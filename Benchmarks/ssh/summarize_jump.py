"""Turns hyperfine's JSON from Benchmarks/ssh/jump.sh into the Markdown table for BENCHMARKS.md."""
import json
import sys

results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
hosts = int(sys.argv[2])
fwctl = "fwctl ping, one jump session"


def mean(name):
    return results[name]["mean"]


print("| client (parallelism 32) | wall (mean ± sd) | per host | client CPU per host | fwctl is |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, r in results.items():
    ratio = mean(name) / mean(fwctl)
    shown = "—" if name == fwctl else f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"
    cpu = (r["user"] + r["system"]) / hosts * 1000
    print(f"| {name} | {r['mean']:.3f} s ± {r['stddev'] or 0:.3f} | {r['mean'] / hosts * 1000:.1f} ms | "
          f"{cpu:.1f} ms | {shown} |")

no_master = min(mean("ssh -J, xargs -P 32"), mean("ssh -J, xargs -P 32, curve25519")) / mean(fwctl)
master = min(mean("ssh via ControlMaster on the jump, xargs -P 32"),
             mean("ssh via ControlMaster on the jump, xargs -P 32, curve25519")) / mean(fwctl)
print()
print(f"Targets: fwctl is {no_master:.1f}x faster than the faster `ssh -J` row (target >= 3x: "
      f"{'met' if no_master >= 3 else 'NOT met'}) and {master:.2f}x the speed of the faster ControlMaster row "
      f"(target >= 1: {'met' if master >= 1 else 'NOT met'}).")
