#!/usr/bin/env bash
# README's first command: installs what is needed, builds MemifKit (release), brings up the lab
# (two nodes as network namespaces, memifd on each, the real CNI chain ptp + host-local then
# memif-cni, pods from deploy/lab/pods with Calico/VPP's annotations, a reflector CNF on MemifKit)
# and shows steered traffic flowing. The lab stays up for deploy/lab/lab.py traffic | status |
# add | delete; `scripts/lab.sh down` removes everything. Needs root (namespaces, nftables).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
lab=(/usr/bin/python3 deploy/lab/lab.py)
if [ "${1:-}" = down ]; then exec "${lab[@]}" down; fi
swift build -c release
"${lab[@]}" down >/dev/null 2>&1 || true  # whatever an earlier run left
"${lab[@]}" up
"${lab[@]}" traffic --watch "${LAB_ROUNDS:-5}"
"${lab[@]}" status
echo "The lab is up: deploy/lab/lab.py traffic|status|add|delete|restart-memifd; scripts/lab.sh down removes it."
