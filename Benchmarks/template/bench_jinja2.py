#!/usr/bin/env python3
"""Renders the rule template of TemplateBench with Jinja2 and chevron on the same data, checks their output
against FWTemplate's, and prints one table of all engines with ratios to FWTemplate.

usage: bench_jinja2.py TEMPLATE_DIR OUT_DIR   (OUT_DIR holds data.json, fwtemplate.txt, swift-results.json
                                               written by TemplateBench)
"""
import json
import os
import statistics
import sys
import time

import chevron
import jinja2


def measure(render, runs=7):
    """Median seconds per render over `runs` runs of >= ~0.2 s each, after ~0.3 s of warm-up."""
    start = time.perf_counter()
    warmups = 0
    while warmups < 3 or time.perf_counter() - start < 0.3:
        output = render()
        warmups += 1
    per_render = (time.perf_counter() - start) / warmups
    renders_per_run = max(1, int(0.2 / per_render))
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(renders_per_run):
            output = render()
        samples.append((time.perf_counter() - start) / renders_per_run)
    return statistics.median(samples), output


def compare(name, output, reference):
    if output == reference:
        return "byte-identical"
    for i, (a, b) in enumerate(zip(output.splitlines(True), reference.splitlines(True))):
        if a != b:
            return f"DIFFERS at line {i + 1}: {a!r} vs {b!r}"
    return f"DIFFERS in length: {len(output)} vs {len(reference)} bytes"


def main():
    template_dir, out_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(out_dir, "data.json")) as f:
        data = json.load(f)
    with open(os.path.join(out_dir, "fwtemplate.txt"), encoding="utf-8") as f:
        reference = f.read()
    with open(os.path.join(out_dir, "swift-results.json")) as f:
        results = json.load(f)

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    jinja_template = env.get_template("rules.v4.j2")  # compiled once

    def read(name):
        with open(os.path.join(template_dir, name), encoding="utf-8") as f:
            return f.read()
    mustache_main = read("rules.v4.mustache")
    partials = {"rule": read("rule.mustache")}

    checks = []
    for engine, render in [
        ("Jinja2 3.1.6", lambda: jinja_template.render(data)),
        ("chevron 0.14.0", lambda: chevron.render(mustache_main, data, partials_dict=partials)),
    ]:
        seconds, output = measure(render)
        size = len(output.encode("utf-8"))
        results.append({"engine": engine, "bytes": size, "microsecondsPerRender": seconds * 1e6,
                        "megabytesPerSecond": size / seconds / 1e6})
        checks.append(f"{engine} output vs FWTemplate: {compare(engine, output, reference)}")

    base = results[0]["megabytesPerSecond"]
    print(f"\nTemplate engines: iptables-like rules, 100 rules x 50 sources, nested sections and a partial "
          f"({results[0]['bytes']} bytes out)")
    print(f"{'engine':<28} {'MB/s':>9} {'µs/render':>12} {'FWTemplate is':>15}")
    for r in results:
        ratio = base / r["megabytesPerSecond"]
        shown = "-" if r is results[0] else f"{ratio:.1f}x faster"
        print(f"{r['engine']:<28} {r['megabytesPerSecond']:>9.1f} {r['microsecondsPerRender']:>12.1f} {shown:>15}")
    for line in checks:
        print(line)


if __name__ == "__main__":
    main()
