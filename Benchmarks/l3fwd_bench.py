#!/usr/bin/env python3
"""l3fwd against dpdk-testpmd `io` forwarding on the same topology, side by side.

    testpmd txonly (server) -> FORWARDER (two memif clients) -> memifctl sink (server)

FORWARDER is either our samples/l3fwd (LPM routing, TTL decrement, MAC rewrite, both channels
on one buffer pool: forwarding by descriptor) or `dpdk-testpmd --forward-mode=io` with two
net_memif client ports (copies each packet into an mbuf and out again, no header work). The
forwarder runs alone on CPU 1; the generator and the counter share CPU 0 (this machine has two
cores), so the counter sleeps on its eventfd between bursts (interrupt mode: the forwarder signals
it after each burst) instead of competing with the generator by polling. Both forwarders face the
same generator and counter. Each point: runs alternating the two forwarders; a run's rate is the
mean of the counter's per-second rates after a warm-up; the point is the median of the runs and the
ratio l3fwd / testpmd io. Runs are gated on the machine's fast state as in bench.py: a run is kept
when bench.py's state probe reads fast before and after it, its per-second rates agree within 15%,
and it reaches half the best earlier run of the same forwarder (else it is run again).

Usage: python3 Benchmarks/l3fwd_bench.py [--runs 3] [--seconds 4] [--sizes 64,1500]
Writes Benchmarks/results/l3fwd.{json,md}.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import MEMIFCTL, Child, MachineState, ROOT, RESULTS, TESTPMD, listening, log, samples  # noqa: E402

L3FWD = os.path.join(ROOT, ".build", "release", "l3fwd")


def eal(prefix, lcores):
    return [TESTPMD, "--lcores", lcores, "--main-lcore", "0", "--no-huge", "-m", "1024", "--no-pci",
            "--file-prefix=" + prefix]


def generator(socket, size):
    args = eal("l3b-" + uuid.uuid4().hex[:8], "0@0,1@0") + [
        f"--vdev=net_memif0,role=server,id=0,socket={socket}", "--",
        "--nb-cores=1", "--no-mlockall", "--total-num-mbufs=16384", "--stats-period=1"]
    if size > 2048:
        args.append("--mbuf-size=10240")
    return Child(args + ["--forward-mode=txonly", f"--txpkts={size}"])


def counter(socket):
    return Child([MEMIFCTL, "sink", "--role", "server", "--socket", "@" + socket, "--interrupt", "--cpu", "0"])


def forwarder(kind, west, east):
    if kind == "l3fwd":
        conf = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
        conf.write(f"channel west socket=@{west} mac=02:00:00:00:00:01\n"
                   f"channel east socket=@{east} mac=02:00:00:00:00:02\n"
                   "route 198.18.0.0/24 east 02:00:00:00:00:10\n")
        conf.close()
        return Child([L3FWD, "--config", conf.name, "--cpus", "1", "--stats-interval", "0"]), conf.name
    args = eal("l3b-" + uuid.uuid4().hex[:8], "0@0,1@1") + [
        f"--vdev=net_memif0,role=client,id=0,socket={west}", f"--vdev=net_memif1,role=client,id=0,socket={east}",
        "--", "--forward-mode=io", "--port-topology=paired", "--nb-cores=1", "--no-mlockall",
        "--total-num-mbufs=16384"]
    return Child(args), None


def run_once(kind, size, seconds, warmup=2):
    west, east = "l3b-w-" + uuid.uuid4().hex[:6], "l3b-e-" + uuid.uuid4().hex[:6]
    sink = counter(east)
    source = generator(west, size)
    deadline = time.time() + 10
    while not (listening(west) and listening(east)) and time.time() < deadline:
        time.sleep(0.05)
    fwd, conf = forwarder(kind, west, east)
    try:
        time.sleep(warmup + seconds)
    finally:
        fwd_text = fwd.stop()
        source.stop()
        text = sink.stop()
        if conf:
            os.unlink(conf)
    rates = samples("Swift", text, size)
    if len(rates) < 2:
        raise RuntimeError(f"{kind}: the counter saw no traffic:\n{text[-1500:]}\n--- forwarder:\n{fwd_text[-1500:]}")
    return rates[-seconds:]


def gated(kind, size, seconds, state, earlier, attempts=6):
    """(rate, kept): one run's rate (mean of its per-second samples) taken in the fast state;
    the last attempt's, not kept, when none qualified."""
    for attempt in range(1, attempts + 1):
        before = state.wait_for_fast()
        measured = run_once(kind, size, seconds)
        after = state.read()
        rate = statistics.mean(measured)
        steady = min(measured) >= 0.85 * max(measured)
        plausible = not earlier or rate >= 0.5 * max(earlier)
        kept = state.fast(before) and state.fast(after) and steady and plausible
        if kept or attempt == attempts:
            return rate, kept
        log(f"{size} B {kind} again: probe {before:.1f} -> {after:.1f} Mpps, samples "
            f"{' '.join(f'{r / 1e6:.2f}' for r in measured)} Mpps")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=4)
    ap.add_argument("--sizes", default="64,1500")
    ap.add_argument("--wait-limit", type=float, default=180)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    state = MachineState(a.wait_limit)
    points = []
    for size in sizes:
        rates = {"l3fwd": [], "testpmd-io": []}
        unkept = {"l3fwd": 0, "testpmd-io": 0}
        for r in range(a.runs):
            for kind in (("l3fwd", "testpmd-io") if r % 2 == 0 else ("testpmd-io", "l3fwd")):
                rate, kept = gated(kind, size, a.seconds, state, rates[kind])
                rates[kind].append(rate)
                unkept[kind] += 0 if kept else 1
                log(f"{size} B run {r + 1}: {kind} {rate / 1e6:.2f} Mpps"
                    f"{'' if kept else ' (never in a steady fast state: kept anyway)'}")
        ratios = [l / t for l, t in zip(rates["l3fwd"], rates["testpmd-io"])]
        points.append({"size": size, "l3fwd_mpps": statistics.median(rates["l3fwd"]) / 1e6,
                       "testpmd_io_mpps": statistics.median(rates["testpmd-io"]) / 1e6,
                       "ratio": statistics.median(ratios), "runs": rates, "not_steady": unkept})
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "l3fwd.json"), "w") as f:
        json.dump({"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "points": points,
                   "state_probe_mpps": state.summary()}, f, indent=1)
    lines = ["| frame | l3fwd (Mpps) | testpmd io (Mpps) | ratio (median of runs) |", "|---|---|---|---|"]
    for p in points:
        lines.append(f"| {p['size']} B | {p['l3fwd_mpps']:.2f} | {p['testpmd_io_mpps']:.2f} | {p['ratio']:.2f}x |")
    table = "\n".join(lines)
    with open(os.path.join(RESULTS, "l3fwd.md"), "w") as f:
        f.write(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
