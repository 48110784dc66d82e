#!/usr/bin/env python3
"""Copy engines: the shape of Intel's memif frame-size experiment, on this machine.

A memif server's worker core (CPU 0) copies frames from its own buffers into the client's
ring, either inline (CPU engine) or offloaded to a DSA work queue -- here the software
work-queue model, running as the "device" on CPU 1 (which also runs the client's drain
loop). For each frame size: the worker thread's CPU time per packet (on loop turns that
moved something, clock-read cost subtracted) and the throughput the client received, CPU
vs offload.
Each point is the best of --runs runs (lowest worker CPU time, highest throughput: on a
shared machine, noise only adds time); the two engines alternate within a run. The JSON
keeps every run.

Usage: python3 Benchmarks/copy_bench.py [--runs 3] [--seconds 2] [--sizes 64,...,9000]
                                        [--timing spr|instant] [--scratch-path .build]
Builds memif-bench in release first (unless --no-build). Writes
Benchmarks/results/copy-engines.{json,md,svg}.
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "Benchmarks", "results")
SIZES = [64, 128, 256, 512, 1024, 1500, 4400, 9000]
ENGINES = ["cpu", "model"]
LABEL = {"cpu": "CPU copy (worker)", "model": "offloaded to DSA model (device core)"}


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_one(binary, engine, size, seconds, timing):
    args = [binary, "copy", "--engine", engine, "--size", str(size), "--seconds", str(seconds), "--timing", timing]
    out = subprocess.run(args, capture_output=True, text=True, timeout=seconds * 10 + 60)
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no result from {' '.join(args)}:\n{out.stdout}\n{out.stderr}")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def best_point(runs, key):
    values = [r[key] for r in runs]
    return min(values) if key == "worker_ns_per_packet" else max(values)


def svg(points, sizes, path):
    """Two panels: worker ns per packet (left) and received Gbit/s (right), per frame size."""
    width, height, pad = 960, 400, 60
    panel = (width - 3 * pad) // 2
    colors = {"cpu": "#d62728", "model": "#1f77b4"}
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>']
    for p, (key, title) in enumerate([("worker_ns_per_packet", "worker CPU ns per packet (lower is better)"),
                                      ("gbps", "throughput received, Gbit/s (higher is better)")]):
        x0 = pad + p * (panel + pad)
        y0, h = 40, height - 120
        top = max(points[e][s][key] for e in ENGINES for s in sizes) * 1.1 or 1
        parts.append(f'<text x="{x0}" y="25" font-weight="bold">{title}</text>')
        parts.append(f'<line x1="{x0}" y1="{y0 + h}" x2="{x0 + panel}" y2="{y0 + h}" stroke="black"/>')
        parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 + h}" stroke="black"/>')
        for k in range(5):
            v = top * k / 4
            y = y0 + h - h * k / 4
            parts.append(f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end">{v:.0f}</text>')
            parts.append(f'<line x1="{x0}" y1="{y}" x2="{x0 + panel}" y2="{y}" stroke="#ddd"/>')
        step = panel / (len(sizes) - 1 if len(sizes) > 1 else 1)
        for i, s in enumerate(sizes):
            parts.append(f'<text x="{x0 + i * step}" y="{y0 + h + 16}" text-anchor="middle">{s}</text>')
        parts.append(f'<text x="{x0 + panel / 2}" y="{y0 + h + 34}" text-anchor="middle">frame size, bytes</text>')
        for e in ENGINES:
            coords = " ".join(f"{x0 + i * step:.1f},{y0 + h - h * points[e][s][key] / top:.1f}" for i, s in enumerate(sizes))
            parts.append(f'<polyline points="{coords}" fill="none" stroke="{colors[e]}" stroke-width="2"/>')
            for i, s in enumerate(sizes):
                parts.append(f'<circle cx="{x0 + i * step:.1f}" cy="{y0 + h - h * points[e][s][key] / top:.1f}" r="3" fill="{colors[e]}"/>')
    for j, e in enumerate(ENGINES):
        parts.append(f'<rect x="{pad + j * 330}" y="{height - 14}" width="14" height="4" fill="{colors[e]}"/>')
        parts.append(f'<text x="{pad + j * 330 + 20}" y="{height - 8}">{LABEL[e]}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def measure(a, sizes):
    scratch = os.path.join(ROOT, a.scratch_path)
    if not a.no_build:
        subprocess.run(["swift", "build", "-c", "release", "--scratch-path", scratch, "--product", "memif-bench"],
                       cwd=ROOT, check=True)
    binary = os.path.join(scratch, "release", "memif-bench")
    runs = {e: {s: [] for s in sizes} for e in ENGINES}
    for r in range(a.runs):
        for s in sizes:
            for e in (ENGINES if r % 2 == 0 else list(reversed(ENGINES))):
                res = run_one(binary, e, s, a.seconds, a.timing)
                runs[e][s].append(res)
                log(f"run {r + 1}/{a.runs} {e:5} {s:5} B: {res['mpps']:.3f} Mpps, {res['gbps']:.2f} Gbit/s, "
                    f"worker {res['worker_ns_per_packet']:.1f} ns/packet")
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--timing", default="spr", choices=["spr", "instant"])
    ap.add_argument("--scratch-path", default=".build")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--report-only", action="store_true", help="rewrite the table and chart from the last JSON")
    ap.add_argument("--merge", action="store_true",
                    help="add these runs to the last JSON's (e.g. re-measure sizes a busy machine spoiled)")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    if a.report_only:
        with open(os.path.join(RESULTS, "copy-engines.json")) as f:
            saved = json.load(f)
        runs = {e: {int(s): v for s, v in saved["runs"][e].items()} for e in ENGINES}
        sizes = sorted(runs["cpu"])
        a.runs = len(runs["cpu"][sizes[0]])
        a.seconds = round(runs["cpu"][sizes[0]][0]["seconds"], 1)
        a.timing = saved["timing"]
        when, load = saved["when"], saved["load_average"]
    else:
        runs = measure(a, sizes)
        if a.merge:
            with open(os.path.join(RESULTS, "copy-engines.json")) as f:
                saved = json.load(f)
            old = {e: {int(s): v for s, v in saved["runs"][e].items()} for e in ENGINES}
            for e in ENGINES:
                for s, v in old[e].items():
                    runs[e][s] = v + runs[e].get(s, [])
            sizes = sorted(runs["cpu"])
            a.runs = min(len(runs[e][s]) for e in ENGINES for s in sizes)
        when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        try:
            load = os.getloadavg()[0]
        except OSError:
            load = float("nan")
    keys = ["mpps", "gbps", "worker_ns_per_packet", "worker_busy_fraction"]
    points = {e: {s: {k: best_point(runs[e][s], k) for k in keys} for s in sizes} for e in ENGINES}
    header = (f"Run {when} on {cpu_model()}, {os.cpu_count()} cores, kernel {platform.release()}; load average "
              f"{load:.2f} at the end. {a.runs}+ runs per point, {a.seconds:g} s each after 0.5 s of warm-up; best of the runs "
              f"(lowest worker CPU time, highest throughput). "
              f"Model timing: {a.timing}. Worker on CPU 0; model engine thread and the client's drain loop on CPU 1.")
    rows = ["| size | CPU: worker ns/packet | CPU: Mpps | CPU: Gbit/s | offload: worker ns/packet | offload: Mpps | "
            "offload: Gbit/s | worker time, offload/CPU | throughput, offload/CPU |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in sizes:
        c, m = points["cpu"][s], points["model"][s]
        rows.append(f"| {s} B | {c['worker_ns_per_packet']:.1f} | {c['mpps']:.2f} | {c['gbps']:.1f} | "
                    f"{m['worker_ns_per_packet']:.1f} | {m['mpps']:.2f} | {m['gbps']:.1f} | "
                    f"{m['worker_ns_per_packet'] / c['worker_ns_per_packet']:.2f}x | {m['gbps'] / c['gbps']:.2f}x |")
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "copy-engines.json"), "w") as f:
        json.dump({"when": when, "machine": cpu_model(), "cores": os.cpu_count(), "load_average": load,
                   "timing": a.timing, "runs": runs, "medians": points}, f, indent=1)
    with open(os.path.join(RESULTS, "copy-engines.md"), "w") as f:
        f.write(header + "\n\n" + "\n".join(rows) + "\n\n![copy engines](copy-engines.svg)\n")
    svg(points, sizes, os.path.join(RESULTS, "copy-engines.svg"))
    print(header + "\n\n" + "\n".join(rows))


if __name__ == "__main__":
    main()
