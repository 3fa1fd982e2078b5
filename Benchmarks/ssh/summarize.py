"""Turns hyperfine's JSON from Benchmarks/ssh/run.sh into the Markdown table for BENCHMARKS.md."""
import json
import sys

results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
sessions = int(sys.argv[2])


def mean(name):
    return results[name]["mean"]


print("| client | parallelism | wall (mean ± sd) | per session | client CPU | fwctl is |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for p, fwctl, others in [(1, "fwctl ping, p=1", ["ssh loop, p=1", "ssh loop, p=1, curve25519", "pssh -p 1"]),
                         (32, "fwctl ping, p=32", ["ssh xargs -P 32", "ssh xargs -P 32, curve25519", "pssh -p 32"])]:
    for name in [fwctl] + others:
        r = results[name]
        ratio = mean(name) / mean(fwctl)
        ratio = "—" if name == fwctl else f"{ratio:.1f}x faster" if ratio >= 1 else f"{1 / ratio:.1f}x slower"
        cpu = (r["user"] + r["system"]) / sessions * 1000
        print(f"| {name} | {p} | {r['mean']:.3f} s ± {r['stddev'] or 0:.3f} | "
              f"{r['mean'] / sessions * 1000:.1f} ms | {cpu:.1f} ms | {ratio} |")

target_pssh = mean("pssh -p 32") / mean("fwctl ping, p=32")
target_ssh = min(mean("ssh loop, p=1"), mean("ssh loop, p=1, curve25519")) / mean("fwctl ping, p=1")
print()
print(f"Targets: at p=32 fwctl is {target_pssh:.1f}x faster than pssh (target >= 2x: "
      f"{'met' if target_pssh >= 2 else 'NOT met'}); per session at p=1 fwctl takes "
      f"{mean('fwctl ping, p=1') / sessions * 1000:.1f} ms against ssh's "
      f"{mean('ssh loop, p=1') / sessions * 1000:.1f} ms ({mean('ssh loop, p=1, curve25519') / sessions * 1000:.1f} ms "
      f"with curve25519) ({'met' if target_ssh >= 1 else 'NOT met'}). Client CPU is user+system time of the whole "
      f"client side (fwctl's process; ssh, xargs, the shell loop or pssh and its ssh children) per session.")
