#!/usr/bin/env python3
"""Every kept 0.1 s rate report of bench.py's measurements, in order, to see where a rate
changes: inside a segment, at a segment boundary (after a state probe), or between peers'
processes.

bench.py keeps a measurement's median; that hides a pair that switches between two fast
levels. This runs `--measurements` measurements of each pair in turn, with bench.py's
run_pair and gating, and prints each one's kept reports, segment by segment (about 10 per
1 s segment). Its use so far: at 9000 B, both Swift->DPDK and DPDK->DPDK move between rate
levels (~2.3 and ~3.0 Mpps), sometimes across a state probe and sometimes inside a segment
(docs/performance.md, "Status").

Usage: python3 Benchmarks/segment_trace.py [--size 9000] [--pairs Swift->DPDK,DPDK->DPDK]
           [--measurements 10] [--seconds 3]
(after scripts/bench.sh has built the release binaries). Prints only; writes no file.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.measurement_arguments(parser, sizes="9000", runs=1)
    parser.add_argument("--size", type=int, default=9000)
    parser.add_argument("--pairs", default="Swift->DPDK,DPDK->DPDK")
    parser.add_argument("--measurements", type=int, default=10)
    parser.set_defaults(seconds=3)  # three segments per measurement show more switches
    args = parser.parse_args()
    bench.require(bench.MEMIFCTL, bench.TESTPMD)
    state = bench.MachineState(args.wait_limit)
    for i in range(args.measurements):
        for pair in args.pairs.split(","):
            segments = []
            kept, seen, _ = bench.run_pair(bench.Variant(pair), args.size, args, state, segments)
            medians = " | ".join(" ".join(f"{r / 1e6:.2f}" for r in s) for s in segments)
            print(f"{i + 1:2d} {pair:12s} median {statistics.median(kept or seen) / 1e6:5.2f} Mpps  "
                  f"kept segments: {medians}", flush=True)


if __name__ == "__main__":
    main()
