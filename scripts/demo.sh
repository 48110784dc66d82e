#!/usr/bin/env bash
# The two-process demo: a memifctl server reflecting, a memifctl client sourcing 64-byte
# frames over an abstract socket, rates printed once a second for a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product memifctl
bin=.build/release/memifctl
socket="@memifkit-demo-$$"
seconds="${DEMO_SECONDS:-5}"
"$bin" reflect --role server --socket "$socket" --cpu 0 --duration "$((seconds + 1))" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
sleep 0.5
"$bin" source --role client --socket "$socket" --cpu 1 --size "${DEMO_SIZE:-64}" --duration "$seconds"
wait $server
