#!/usr/bin/env bash
# Installs the Debian packages MemifKit needs to build, test and run its demo. Idempotent:
# packages already present are skipped, so a warm machine pays only the dpkg query.
#   dpdk-dev  dpdk-testpmd, the DPDK net_memif peer the interop tests run against
#   iproute2  ss, to check the socket addresses we bind
#   valgrind, binutils, gcc, python3  the benchmark: instruction counts, the memcpy ceiling, the harness
#   python3-scapy  the packet oracle: MemifPacketTests and MemifSteeringTests check against scapy
#   libaccel-config-dev, uuid-dev  DSA discovery headers (MemifCopy; the library is dlopen()ed;
#                                  its header includes <uuid/uuid.h> without depending on uuid-dev)
#   libnuma-dev  NUMA node of memif regions, to pick a DSA work queue on the same node
#   containernetworking-plugins  ptp + host-local in /usr/lib/cni: MemifNodeTests and the lab chain memif-cni after them
#   nftables  kernel-mode port steering marks packets with nft (MemifNode, KernelSteeringTests)
#   libcurl4-openssl-dev, openssl  the Kubernetes API client (HTTPS over libcurl); the tests' throwaway CA
#   python3-yaml  the lab reads Pod YAML files
set -euo pipefail
packages=(dpdk-dev iproute2 valgrind binutils gcc python3 python3-scapy libaccel-config-dev uuid-dev libnuma-dev
  containernetworking-plugins nftables libcurl4-openssl-dev openssl python3-yaml)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
command -v swift >/dev/null || { echo "setup: swift 6.2+ must be on PATH" >&2; exit 1; }
