#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs every test,
# unit and integration (two-process runs and dpdk-testpmd interop).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# setup.sh installed dpdk-testpmd: its interop suite must run, never skip.
export MEMIFKIT_REQUIRE_DPDK=1
swift build --build-tests
swift test --skip-build --no-parallel --disable-xctest "$@"
