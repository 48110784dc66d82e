#!/usr/bin/env bash
# The benchmark command: installs what is needed, builds release binaries, and runs the
# side-by-side memif benchmark against dpdk-testpmd (Benchmarks/bench.py; flags pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product memifctl
swift build -c release --product memif-bench
exec python3 Benchmarks/bench.py "$@"
