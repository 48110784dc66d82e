#!/usr/bin/env python3
"""Counts calls into the Swift runtime (retain, release, allocation, exclusivity checks:
every `swift_*` entry point) made inside one burst of each data path, and fails on any.

The allocation check (`memif-bench allocations`) catches heap allocations; this catches the
reference counting and dynamic exclusivity checks that allocate nothing but still cost an
atomic or a call per burst, and that a small source change (binding a queue handle with
`if let`) brings back silently. Callgrind records the call arcs made while it collects, so
running `memif-bench instructions` with collection toggled on around one measured function
gives every call made inside that function and below it. As for instructions per packet,
a run of 2N packets minus a run of N leaves the steady state: a channel queue's first burst
looks up its connection (and retains it), once.

Paths: the core queues (measuredTransmit, measuredReceive: what memifctl runs) and the
MemifKit channel queues (measuredChannelTransmit, measuredChannelForward,
measuredChannelSendBack: what a CNF runs), at 64 B and at 9000 B (chained); and memifctl's
own data loop (TrafficRunner.run, the binary the throughput benchmark measures), as sink and
as source against a native memifctl peer: only the calls the loop makes itself count there
(its once-a-second rate line formats strings).

Usage: python3 Benchmarks/hot_path_calls.py (after the release builds of memif-bench and
memifctl: `swift build -c release --product NAME` for each). Exits 1 when a burst calls into
the runtime.
"""
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEMIF_BENCH = os.path.join(ROOT, ".build", "release", "memif-bench")
MEMIFCTL = os.path.join(ROOT, ".build", "release", "memifctl")
MEMIFCTL_LOOP = "TrafficRunnerV3run33_"  # memifctl's data loop (TrafficRunner.run)
MEASURED = [("core", "measuredTransmit"), ("core", "measuredReceive"),
            ("channel", "measuredChannelTransmit"), ("channel", "measuredChannelForward"),
            ("channel", "measuredChannelSendBack")]
SIZES = (64, 9000)
RUNTIME = re.compile(r"^_?swift_")


def call_arcs(path):
    """(caller, callee, calls) for every call arc in a callgrind output file."""
    names, arcs = {}, []
    caller = callee = None
    with open(path) as f:
        for line in f:
            named = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if named:
                kind, ident, name = named.groups()
                if name:
                    names[ident] = name
                if kind == "fn":
                    caller = ident
                else:
                    callee = ident
                continue
            calls = re.match(r"^calls=(\d+)", line)
            if calls and callee is not None:
                arcs.append((caller, callee, int(calls.group(1))))
                callee = None
    return [(names.get(a, a), names.get(b, b), n) for a, b, n in arcs]


def runtime_calls(binary, path, function, size, packets):
    """(bursts, {runtime function: calls}) inside `function` while moving `packets`."""
    with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
        run = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
                              f"--toggle-collect=*{function}*", binary, "instructions", "--path", path,
                              "--packets", str(packets), "--size", str(size)], capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"callgrind failed:\n{run.stderr[-2000:]}")
        arcs = call_arcs(out.name)
    bursts = sum(n for caller, callee, n in arcs if function in callee and function not in caller)
    found = {}
    for _, callee, n in arcs:
        if RUNTIME.match(callee):
            found[callee] = found.get(callee, 0) + n
    if bursts == 0:
        raise RuntimeError(f"{function} never ran under callgrind")
    return bursts, found


def steady_runtime_calls(binary, path, function, size, packets=16_000):
    """(bursts, {runtime function: calls}) of a 2N-packet run minus an N-packet run."""
    bursts, found = runtime_calls(binary, path, function, size, 2 * packets)
    fewer_bursts, fewer = runtime_calls(binary, path, function, size, packets)
    extra = {name: n - fewer.get(name, 0) for name, n in found.items() if n != fewer.get(name, 0)}
    return bursts - fewer_bursts, extra


def listening(name):
    """True when an abstract socket @name is listening in this namespace."""
    with open("/proc/net/unix") as f:
        return any(line.split()[7:8] == ["@" + name] and line.split()[3] == "00010000"
                   for line in f.read().splitlines()[1:])


def memifctl_loop_calls(binary, action):
    """(bursts, {runtime function: calls}) made by memifctl's data loop itself while it runs
    `action` (sink or source) under callgrind against a native memifctl peer. Its once-a-
    second rate line allocates, inside the formatting it calls; only calls the loop makes
    directly count, against the loop's receive calls."""
    socket = "memif-hot-" + uuid.uuid4().hex[:8]
    with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
                    f"--toggle-collect=*{MEMIFCTL_LOOP}*", binary]
        server = ["sink", "--role", "server", "--socket", "@" + socket]
        client = ["source", "--role", "client", "--socket", "@" + socket, "--size", "64"]
        if action == "sink":
            measured = subprocess.Popen(valgrind + server + ["--duration", "8"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            peer_args = [MEMIFCTL] + client + ["--count", "500000", "--duration", "5"]
        else:
            measured = None
            peer = subprocess.Popen([MEMIFCTL] + server + ["--duration", "9"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while not listening(socket) and time.time() < deadline:
            time.sleep(0.1)
        if action == "sink":
            subprocess.run(peer_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
            measured.wait(timeout=60)
        else:
            subprocess.run(valgrind + client + ["--duration", "5"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
            peer.wait(timeout=60)
        arcs = call_arcs(out.name)
    loop = [(callee, n) for caller, callee, n in arcs if MEMIFCTL_LOOP in caller]
    bursts = sum(n for callee, n in loop if "RxQueueV7receive" in callee or "TrafficO4sink" in callee)
    found = {}
    for callee, n in loop:
        if RUNTIME.match(callee):
            found[callee] = found.get(callee, 0) + n
    if bursts == 0:
        raise RuntimeError(f"memifctl {action}: its data loop never received under callgrind")
    return bursts, found


def main():
    for exe, product in ((MEMIF_BENCH, "memif-bench"), (MEMIFCTL, "memifctl")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"missing {exe}: swift build -c release --product {product}")
    # valgrind 3.19 cannot read the toolchain's DWARF 5; it needs only the symbol table.
    binary = os.path.join(tempfile.gettempdir(), "memif-bench-nodebug")
    subprocess.run(["objcopy", "--strip-debug", MEMIF_BENCH, binary], check=True)
    failed = False
    loop_binary = os.path.join(tempfile.gettempdir(), "memifctl-nodebug")
    subprocess.run(["objcopy", "--strip-debug", MEMIFCTL, loop_binary], check=True)
    for action in ("sink", "source"):
        bursts, found = memifctl_loop_calls(loop_binary, action)
        total = sum(found.values())
        detail = ", ".join(f"{name} {n}" for name, n in sorted(found.items()))
        print(f"memifctl {action:6s} data loop: {total} Swift runtime calls in {bursts} polls"
              f"{': ' + detail if detail else ''}")
        failed = failed or total * 100 >= bursts  # any per-poll call; a few once-per-run ones pass
    for path, function in MEASURED:
        for size in SIZES:
            bursts, found = steady_runtime_calls(binary, path, function, size)
            total = sum(found.values())
            detail = ", ".join(f"{name} {n / bursts:.2f}" for name, n in sorted(found.items()))
            print(f"{path:8s} {function:24s} {size:5d} B: {total / bursts:.2f} Swift runtime calls per burst "
                  f"({bursts} bursts){': ' + detail if detail else ''}")
            failed = failed or total != 0
    if failed:
        print("FAIL: the data path calls into the Swift runtime (docs/performance.md, 'Hot-path checks')")
        sys.exit(1)


if __name__ == "__main__":
    main()
