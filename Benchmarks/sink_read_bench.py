#!/usr/bin/env python3
"""Where the receive side's time goes: the Swift sink's read pattern and idle pause against the rate.

The sink's instructions per packet do not depend on the frame size (Benchmarks/results/
results.md), so what separates its rates from testpmd's is how many cache lines cross
between the two cores and when. This measures, in the same rounds and with bench.py's
fast-state gating, DPDK->DPDK against DPDK->Swift and Swift->Swift with the sink reading
one word of the first cache line (testpmd `rxonly`'s own work on an mbuf) and one word of
every line (the lines net_memif's copying receive pulls across), and with the sink spinning
for each of --pauses microseconds after an empty poll (memifctl --idle-pause; 0 polls
back-to-back, as testpmd does), and, with the sink as memif client, with each of --buffers
buffers behind every slot of its receive ring (memifctl --buffers-per-slot; DPDK's client
has 1, so each lap of its ring reuses the same buffers).

Usage: python3 Benchmarks/sink_read_bench.py [--sizes 512,1500] [--runs 3]
           [--reads first-line,every-line] [--pauses 5,20] [--pairs 'DPDK->Swift,Swift->Swift']
           [--receiver-role server|client] [--buffers 1,2] [--out sink-read]
With --receiver-role client the sink is the memif client (a CNF's seat, bench.py's judged
DPDK->Swift) and ratios are also given against the issue's DPDK->DPDK, as bench.py judges.
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
    bench.measurement_arguments(parser, sizes="512,1500", runs=3, attempts=6, wait_limit=180)
    parser.add_argument("--reads", default="first-line,every-line")
    parser.add_argument("--out", default="sink-read", help="results file name, without extension")
    parser.add_argument("--pauses", default=f"{bench.DEFAULT_SINK.pause_us:g}",
                        help="sink idle pauses to compare, microseconds")
    parser.add_argument("--buffers", default=f"{bench.DEFAULT_SINK.buffers_per_slot}",
                        help="buffers behind each slot of the sink's receive ring to compare (the sink as client only)")
    parser.add_argument("--pairs", default="DPDK->Swift,Swift->Swift")
    parser.add_argument("--receiver-role", choices=["server", "client"], default="server",
                        help="the sink's memif role; DPDK->DPDK is measured in this orientation, and with "
                             "'client' also in the issue's (testpmd rxonly as server)")
    args = parser.parse_args()
    pairs = args.pairs.split(",")
    if not set(pairs) <= {"DPDK->Swift", "Swift->Swift"}:  # (unquoted in a shell, '>' redirects)
        parser.error(f"--pairs takes DPDK->Swift and Swift->Swift (quoted), not {args.pairs!r}")
    role = args.receiver_role
    if role == "server" and args.buffers != f"{bench.DEFAULT_SINK.buffers_per_slot}":
        parser.error("--buffers applies only with --receiver-role client: a server's buffers are the client's")
    references = [bench.Variant("DPDK->DPDK", None, role)] + (
        [bench.Variant("DPDK->DPDK")] if role == "client" else [])
    variants = references + [
        bench.Variant(pair, bench.Sink(read, float(pause), int(buffers)), role)
        for pair in pairs for read in args.reads.split(",") for pause in args.pauses.split(",")
        for buffers in args.buffers.split(",")]
    bench.require(bench.MEMIFCTL, bench.TESTPMD)
    state = bench.MachineState(args.wait_limit)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        found = bench.measure_rounds(variants, size, args, state)
        reference = statistics.median(found[0][variants[0]])
        for variant in variants:
            sink = variant.sink
            row = {**bench.study_row(variant, size, found, reference), "read": sink.read if sink else None,
                   "idle_pause_us": sink.pause_us if sink else None,
                   "buffers_per_slot": sink.buffers_per_slot if sink and role == "client" else None,
                   "receiver_role": variant.receiver_role}
            if role == "client":  # as bench.py judges the client seat: also against the issue's DPDK->DPDK
                issue = statistics.median(found[0][references[1]])
                row["ratio_to_issue_reference"] = round(statistics.median(found[0][variant]) / issue, 3)
            rows.append(row)
    result = bench.study_result(args, rows, state)
    bench.write_study(args.out, result, markdown(result))


def markdown(result):
    lines = [bench.study_title(result) +
             f"median Mpps, ratio to DPDK->DPDK over the same rounds.", "",
             "| size | pair | receiver | sink reads | idle pause | buffers per slot | Mpps | ratio | to the issue's DPDK->DPDK | runs (Mpps) |",
             "|---:|---|---|---|---:|---:|---:|---:|---:|---|"]
    for r in result["rows"]:
        runs = " ".join(f"{x:.2f}" for x in r["runs_mpps"])
        pause = "none" if r.get("idle_pause_us") is None else f"{r['idle_pause_us']:g} us"
        issue = f"{r['ratio_to_issue_reference']:.2f}x" if "ratio_to_issue_reference" in r else ""
        buffers = "" if r.get("buffers_per_slot") is None else str(r["buffers_per_slot"])
        lines.append(f"| {r['size']} B | {r['pair']} | {r.get('receiver_role', 'server')} | "
                     f"{r['read'] or 'copy (net_memif)'} | {pause} | {buffers} | {r['mpps']:.2f} | {r['ratio']:.2f}x | {issue} | {runs} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
