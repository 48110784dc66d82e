#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs every test,
# unit and integration (two-process runs and dpdk-testpmd interop).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# setup.sh installed dpdk-testpmd: its interop suite must run, never skip.
export MEMIFKIT_REQUIRE_DPDK=1
# Zero heap allocations per packet on transmit and receive after warm-up (a count, not a time),
# on the core queues and on MemifKit's channel queues (copying, and on one buffer pool).
swift build -c release --product memif-bench
for path in core channel pooled; do
    for size in 64 9000; do .build/release/memif-bench allocations --path "$path" --size "$size"; done
done
# Zero calls into the Swift runtime (retain, release, exclusivity checks) per burst, same paths
# and memifctl's data loop.
swift build -c release --product memifctl
python3 Benchmarks/hot_path_calls.py
# Steering classification: zero heap allocations per packet (fails otherwise).
.build/release/memif-bench classify --packets 2000000
# The same through the copy path, with the DSA engine and its model (MemifCopy).
.build/release/memif-bench copy --engine model --size 1500 --seconds 0.5 --require-zero-allocations
swift build --build-tests
swift test --skip-build --no-parallel --disable-xctest "$@"
