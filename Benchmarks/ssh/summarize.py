"""Turns hyperfine's JSON from Benchmarks/ssh/run.sh into the Markdown table for BENCHMARKS.md."""
import json
import sys

results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
sessions = int(sys.argv[2])


def mean(name):
    return results[name]["mean"]


print(f"| client | parallelism | wall (mean ± sd) | per session | fwctl is |")
print("| --- | ---: | ---: | ---: | ---: |")
for p, fwctl, others in [(1, "fwctl ping, p=1", ["ssh loop, p=1", "pssh -p 1"]),
                         (32, "fwctl ping, p=32", ["ssh xargs -P 32", "pssh -p 32"])]:
    for name in [fwctl] + others:
        r = results[name]
        ratio = "—" if name == fwctl else f"{mean(name) / mean(fwctl):.1f}x faster"
        print(f"| {name} | {p} | {r['mean']:.3f} s ± {r['stddev'] or 0:.3f} | "
              f"{r['mean'] / sessions * 1000:.1f} ms | {ratio} |")

target_pssh = mean("pssh -p 32") / mean("fwctl ping, p=32")
target_ssh = mean("ssh loop, p=1") / mean("fwctl ping, p=1")
print()
print(f"Targets: at p=32 fwctl is {target_pssh:.1f}x faster than pssh (target >= 2x: "
      f"{'met' if target_pssh >= 2 else 'NOT met'}); per session at p=1 fwctl takes "
      f"{mean('fwctl ping, p=1') / sessions * 1000:.1f} ms against ssh's "
      f"{mean('ssh loop, p=1') / sessions * 1000:.1f} ms ({'met' if target_ssh >= 1 else 'NOT met'}).")
