#!/usr/bin/env bash
# Measures MemifPacket's per-packet operations: instructions per operation under callgrind (the
# difference between N and 2N iterations, so setup drops out) and nanoseconds per operation.
# Usage: Benchmarks/packet/run.sh   (needs swiftc and valgrind; builds into .build-packet-bench/)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=.build-packet-bench
mkdir -p "$out"
swiftc -O -wmo -parse-as-library -module-name MemifPacket -emit-module -emit-module-path "$out/MemifPacket.swiftmodule" \
  -emit-object -o "$out/MemifPacket.o" $(find Sources/MemifPacket -name '*.swift')
swiftc -O -I "$out" Benchmarks/packet/main.swift "$out/MemifPacket.o" -o "$out/packet-bench"
n=200000
modes="walk-tcp4 walk-udp6-ext checksum-1500 ttl-and-rewrite"
# Heap allocations per operation: memcheck's count at N and 2N iterations must be equal.
for mode in $modes; do
  a1=$(valgrind --tool=memcheck "$out/packet-bench" "$mode" 1000 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
  a2=$(valgrind --tool=memcheck "$out/packet-bench" "$mode" 2000 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
  echo "$mode: $(( (a2 - a1) / 1000 )) heap allocations/op ($a1 allocations for 1000 ops, $a2 for 2000)"
  [ "$a1" = "$a2" ] || { echo "allocation on the per-packet path" >&2; exit 1; }
done
for mode in $modes; do
  for k in 1 2; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$mode.$k" "$out/packet-bench" "$mode" $((n * k)) >/dev/null 2>"$out/vg.$mode.$k"
  done
  i1=$(grep -E '^summary:' "$out/cg.$mode.1" | awk '{print $2}')
  i2=$(grep -E '^summary:' "$out/cg.$mode.2" | awk '{print $2}')
  per=$(awk -v a="$i1" -v b="$i2" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
  ns=$("$out/packet-bench" "$mode" 20000000 | sed -n 's/.*ns\/op=\([0-9.]*\).*/\1/p')
  echo "$mode: $per instructions/op, $ns ns/op (wall clock, 2e7 ops)"
done
