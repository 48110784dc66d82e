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
for mode in walk-tcp4 walk-udp6-ext checksum-1500 ttl-and-rewrite; do
  for k in 1 2; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$mode.$k" "$out/packet-bench" "$mode" $((n * k)) >/dev/null 2>"$out/vg.$mode.$k"
  done
  i1=$(grep -E '^summary:' "$out/cg.$mode.1" | awk '{print $2}')
  i2=$(grep -E '^summary:' "$out/cg.$mode.2" | awk '{print $2}')
  per=$(awk -v a="$i1" -v b="$i2" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }')
  timing=$("$out/packet-bench" "$mode" 20000000)
  echo "$mode: $per instructions/op; ${timing#* n=*ns/op=}" | sed 's/ result=.*//'
  echo "  $timing"
done
