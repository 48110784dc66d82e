#!/usr/bin/env python3
"""Both mixed pairs in both memif orientations: which side is the client matters.

In memif the client allocates the shared memory and decides which buffer each descriptor
points at; a server reads and writes where it is told. With the sender as client (the
issue's DPDK->DPDK orientation), DPDK->Swift has testpmd as the client: it owns the buffers
and our sink cannot lay them out. bench.py measures all four pairs that way, plus
DPDK->DPDK and DPDK->Swift with the receiver as client; this study also runs Swift->DPDK
with the receiver as client (our source serving, testpmd `rxonly` as client), in the same
rounds and with bench.py's gating, and reports each mixed pair against DPDK->DPDK in the
same orientation. Under Calico/VPP, where VPP is the memif server, a CNF is the client in
both directions, so the rows with our side as client are the pod's seat.

Usage: python3 Benchmarks/orientation_bench.py [--sizes 64,512,1500] [--runs 3]
           [--out orientation]
(after scripts/bench.sh has built the release binaries). Writes
Benchmarks/results/OUT.{json,md}.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

MIXED = ["Swift->DPDK", "DPDK->Swift"]
ROLES = ["server", "client"]  # of the receiver


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.measurement_arguments(parser, sizes="64,512,1500", runs=3)
    parser.add_argument("--out", default="orientation", help="results file name, without extension")
    args = parser.parse_args()
    bench.require(bench.MEMIFCTL, bench.TESTPMD)
    variants = [bench.Variant(pair, None, role) for role in ROLES for pair in ["DPDK->DPDK"] + MIXED]
    state = bench.MachineState(args.wait_limit)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        found = bench.measure_rounds(variants, size, args, state)
        for variant in variants:
            reference = statistics.median(found[0][bench.Variant("DPDK->DPDK", None, variant.receiver_role)])
            rows.append({**bench.study_row(variant, size, found, reference), "receiver_role": variant.receiver_role})
    result = bench.study_result(args, rows, state, sink=bench.DEFAULT_SINK._asdict())
    bench.write_study(args.out, result, markdown(result))


def markdown(result):
    lines = [bench.study_title(result) +
             "bench.py's measurement and gating; median Mpps and the ratio to DPDK->DPDK in the same "
             "orientation over the same rounds.", "",
             "| size | receiver is | DPDK->DPDK | Swift->DPDK | DPDK->Swift |", "|---:|---|---:|---:|---:|"]
    for size in sorted({r["size"] for r in result["rows"]}):
        for role in ROLES:
            cells = []
            for pair in ["DPDK->DPDK"] + MIXED:
                r = next(r for r in result["rows"] if r["size"] == size and r["pair"] == pair and r["receiver_role"] == role)
                cells.append(f"{r['mpps']:.2f} Mpps ({r['ratio']:.2f}x)")
            lines.append(f"| {size} B | {role} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
