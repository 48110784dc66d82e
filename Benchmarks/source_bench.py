#!/usr/bin/env python3
"""Where the send side's settings move Swift->DPDK: memifctl source's buffers per slot and
transmit burst against the rate testpmd's `rxonly` receives.

In Swift->DPDK testpmd's receiver (a copy of every frame into mbufs) is the slower end, so
what our source can change is where it leaves the frames and how often it publishes them.
This measures, in the same rounds and with bench.py's fast-state gating, DPDK->DPDK
against Swift->DPDK with each combination of --buffers-per-slot (the buffers behind each
transmit slot: 1 rewrites a buffer every ring lap, 2 every other lap) and --bursts (the
descriptors one transmit call reserves and publishes: 32 holds six 9000 B frames, 160
holds 32 of them, testpmd's own burst).

Usage: python3 Benchmarks/source_bench.py [--sizes 9000] [--runs 8]
           [--buffers-per-slot 1,2] [--bursts 32,160] [--out source] [--one-at-a-time]
(after scripts/bench.sh has built the release binaries). Writes
Benchmarks/results/OUT.{json,md}.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.measurement_arguments(parser, sizes="9000", runs=8, attempts=6, wait_limit=180)
    parser.add_argument("--buffers-per-slot", default="1,2")
    parser.add_argument("--bursts", default="32,160")
    parser.add_argument("--out", default="source", help="results file name, without extension")
    args = parser.parse_args()
    reference = bench.Variant("DPDK->DPDK")
    variants = [reference] + [
        bench.Variant("Swift->DPDK", source=bench.Source(int(per_slot), int(burst)))
        for per_slot in args.buffers_per_slot.split(",") for burst in args.bursts.split(",")]
    bench.require(bench.MEMIFCTL, bench.TESTPMD)
    state = bench.MachineState(args.wait_limit)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        found = bench.measure_rounds(variants, size, args, state)
        dpdk = statistics.median(found[0][reference])
        for variant in variants:
            source = variant.source
            rows.append({**bench.study_row(variant, size, found, dpdk),
                         "buffers_per_slot": source.buffers_per_slot if source else None,
                         "burst": source.burst if source else None})
    result = bench.study_result(args, rows, state)
    bench.write_study(args.out, result, markdown(result))


def markdown(result):
    lines = [bench.study_title(result) +
             f"median Mpps, ratio to DPDK->DPDK over the same rounds.", "",
             "| size | pair | buffers per slot | burst | Mpps | ratio | runs (Mpps) |", "|---:|---|---:|---:|---:|---:|---|"]
    for r in result["rows"]:
        runs = " ".join(f"{x:.2f}" for x in r["runs_mpps"])
        per_slot = "1 (testpmd)" if r["buffers_per_slot"] is None else r["buffers_per_slot"]
        burst = "32 frames (testpmd)" if r["burst"] is None else r["burst"]
        lines.append(f"| {r['size']} B | {r['pair']} | {per_slot} | {burst} | {r['mpps']:.2f} | "
                     f"{r['ratio']:.2f}x | {runs} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
