#!/usr/bin/env python3
"""The copy ceiling like for like: what memifctl source's copy reaches against C memcpy when
both read their frames the same way.

bench.py compares Swift->Swift's bytes per second at 1500 B with memcpy_rate.c, which reads
each frame from a 2 MiB pool (the issue's ceiling); memifctl source with one flow reads
every frame from one template that stays in L1. This measures, in the same rounds and with
bench.py's fast-state gating, Swift->Swift and Swift->DPDK with one flow (the template) and
with --flows 1024 (1024 frames in 2048-byte slots: a 2 MiB pool, memcpy_rate.c's read
pattern), beside DPDK->DPDK; and, before each round, memcpy_rate.c both ways (pool and
template), each run between two state probes that find the fast state. (DPDK's sender
reads from few buffers: net_memif frees each burst's mbufs once copied and testpmd's
per-core mempool cache hands the same ones back to txonly's next burst.)

Usage: python3 Benchmarks/copy_ceiling_bench.py [--sizes 1500] [--runs 5] [--flows 1024]
           [--out copy-ceiling] [--one-at-a-time]
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
    bench.measurement_arguments(parser, sizes="1500", runs=5, attempts=6, wait_limit=180)
    parser.add_argument("--flows", type=int, default=bench.POOL_FLOWS, help="the pooled source's flows (frames in 2048 B slots)")
    parser.add_argument("--out", default="copy-ceiling", help="results file name, without extension")
    args = parser.parse_args()
    reference = bench.Variant("DPDK->DPDK")
    variants = [reference] + [bench.Variant(pair, source=bench.DEFAULT_SOURCE._replace(flows=flows))
                              for pair in ("Swift->Swift", "Swift->DPDK") for flows in (1, args.flows)]
    bench.require(bench.MEMIFCTL, bench.TESTPMD)
    state = bench.MachineState(args.wait_limit)
    rows, ceilings = [], []
    for size in (int(s) for s in args.sizes.split(",")):
        memcpy = {mode: [] for mode in bench.MEMCPY_MODES}
        found = bench.measure_rounds(variants, size, args, state,
                                     every_round=lambda: bench.add_memcpy_round(memcpy, size, state))
        dpdk = statistics.median(found[0][reference])
        ceiling = {mode: statistics.median(rates) for mode, rates in memcpy.items()}
        ceilings.append({"size": size, **{f"memcpy_{mode}_gbytes": round(ceiling[mode], 3) for mode in bench.MEMCPY_MODES},
                         **{f"memcpy_{mode}_runs": memcpy[mode] for mode in bench.MEMCPY_MODES}})
        for variant in variants:
            row = bench.study_row(variant, size, found, dpdk)
            gbytes = row["mpps"] * size / 1e3
            row.update({"flows": variant.source.flows if variant.source else None, "gbytes": round(gbytes, 3),
                        **{f"of_memcpy_{mode}": round(gbytes / ceiling[mode], 3) for mode in bench.MEMCPY_MODES}})
            rows.append(row)
    result = bench.study_result(args, rows, state, memcpy=ceilings)
    bench.write_study(args.out, result, markdown(result))


def markdown(result):
    lines = [bench.study_title(result) + "median Mpps and GB/s of frame bytes over the same rounds; "
             "ratios to DPDK->DPDK and to C memcpy (memcpy_rate.c, median of the rounds' readings) with "
             "each frame read from a 2 MiB pool (the issue's ceiling) and from one template.", ""]
    for c in result["memcpy"]:
        lines.append(f"C memcpy at {c['size']} B: pool {c['memcpy_pool_gbytes']:.1f} GB/s "
                     f"(rounds {' '.join(f'{x:.1f}' for x in c['memcpy_pool_runs'])}), template "
                     f"{c['memcpy_template_gbytes']:.1f} GB/s "
                     f"(rounds {' '.join(f'{x:.1f}' for x in c['memcpy_template_runs'])}).")
    lines += ["", "| size | pair | source flows | Mpps | GB/s | ratio | of memcpy (pool) | of memcpy (template) "
              "| runs (Mpps) |", "|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in result["rows"]:
        runs = " ".join(f"{x:.2f}" for x in r["runs_mpps"])
        flows = "testpmd" if r["flows"] is None else r["flows"]
        lines.append(f"| {r['size']} B | {r['pair']} | {flows} | {r['mpps']:.2f} | {r['gbytes']:.1f} | "
                     f"{r['ratio']:.2f}x | {100 * r['of_memcpy_pool']:.0f}% | {100 * r['of_memcpy_template']:.0f}% "
                     f"| {runs} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
