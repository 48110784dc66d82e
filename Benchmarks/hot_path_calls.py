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
measuredChannelSendBack: what a CNF runs; copying, and on one buffer pool by descriptor), at
64 B and at 9000 B (chained); and memifctl's own data loop (TrafficRunner.run, the binary
the throughput benchmark measures) as sink, source and reflector against a native memifctl
peer (the source with one flow and with 1024), counting the calls the loop and the Memif
data path make (its once-a-second rate line formats strings; those calls come from the
formatting).

Usage: python3 Benchmarks/hot_path_calls.py (after the release builds of memif-bench and
memifctl: `swift build -c release --product NAME` for each). Exits 1 when a burst calls into
the runtime.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import MEMIF_BENCH, MEMIFCTL, for_valgrind, listening  # noqa: E402

MEMIFCTL_LOOP = "TrafficRunnerV3run33_"  # memifctl's data loop (TrafficRunner.run)
MEASURED = [("core", "measuredTransmit"), ("core", "measuredReceive")] + [
    (path, function) for path in ("channel", "pooled")
    for function in ("measuredChannelTransmit", "measuredChannelForward", "measuredChannelSendBack")]
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
    names = set(found) | set(fewer)
    extra = {name: found.get(name, 0) - fewer.get(name, 0) for name in names if found.get(name, 0) != fewer.get(name, 0)}
    return bursts - fewer_bursts, extra


def quiet(args):
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def memifctl_loop_calls(binary, action, flows=1):
    """(bursts, {runtime function: calls}) made inside memifctl's data loop while it runs
    `action` (sink, source or reflect; the client's source sends `flows` flows) under
    callgrind against a native memifctl peer:
    calls the loop makes itself or through the Memif data path it calls. Its once-a-second
    rate line formats strings; those calls come from the formatting, and do not count."""
    socket = "memif-hot-" + uuid.uuid4().hex[:8]
    server = {"sink": "sink", "reflect": "reflect", "source": "sink"}[action]
    server_args = [server, "--role", "server", "--socket", "@" + socket]
    client_args = ["source", "--role", "client", "--socket", "@" + socket, "--size", "64", "--flows", str(flows)]
    with tempfile.NamedTemporaryFile(suffix=".callgrind") as out:
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out.name}",
                    f"--toggle-collect=*{MEMIFCTL_LOOP}*", binary]
        measured_is_server = action != "source"
        children = []
        try:
            # The server runs until stopped; the client sends for 5 s (at most 500k packets
            # when the measured side is the server, so the loop under callgrind keeps up).
            server_cmd = (valgrind if measured_is_server else [MEMIFCTL]) + server_args
            children.append(quiet(server_cmd))
            deadline = time.time() + 60
            while not listening(socket):
                if time.time() > deadline or children[0].poll() is not None:
                    raise RuntimeError(f"memifctl {server} never listened on @{socket}")
                time.sleep(0.1)
            client_cmd = ([MEMIFCTL] + client_args + ["--count", "500000"] if measured_is_server
                          else valgrind + client_args)
            client = quiet(client_cmd + ["--duration", "5"])
            children.append(client)
            client.wait(timeout=120)
            children[0].send_signal(signal.SIGINT)  # memifctl stops cleanly (callgrind writes out)
            children[0].wait(timeout=120)
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
        arcs = call_arcs(out.name)
    inside = [(callee, n) for caller, callee, n in arcs if MEMIFCTL_LOOP in caller or caller.startswith("$s5Memif")]
    bursts = sum(n for callee, n in inside if "RxQueueV7receive" in callee)
    found = {}
    for callee, n in inside:
        if RUNTIME.match(callee):
            found[callee] = found.get(callee, 0) + n
    if bursts == 0:
        raise RuntimeError(f"memifctl {action}: its data loop never received under callgrind")
    return bursts, found


def main():
    for exe, product in ((MEMIF_BENCH, "memif-bench"), (MEMIFCTL, "memifctl")):
        if not os.access(exe, os.X_OK):
            sys.exit(f"missing {exe}: swift build -c release --product {product}")
    scratch = tempfile.mkdtemp(prefix="hot-path-calls-")
    try:
        failed = check(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if failed:
        print("FAIL: the data path calls into the Swift runtime (docs/performance.md, 'Hot-path checks')")
        sys.exit(1)


def check(scratch):
    """Runs every measurement and prints it; True when any found a runtime call."""
    binary = for_valgrind(MEMIF_BENCH, os.path.join(scratch, "memif-bench"))
    loop_binary = for_valgrind(MEMIFCTL, os.path.join(scratch, "memifctl"))
    failed = False
    for action, flows in (("sink", 1), ("source", 1), ("source", 1024), ("reflect", 1)):
        bursts, found = memifctl_loop_calls(loop_binary, action, flows)
        total = sum(found.values())
        detail = ", ".join(f"{name} {n}" for name, n in sorted(found.items()))
        print(f"memifctl {action:7s} data loop{f' ({flows} flows)' if flows > 1 else ''}: "
              f"{total} Swift runtime calls in {bursts} polls"
              f"{': ' + detail if detail else ''}")
        failed = failed or total != 0
    for path, function in MEASURED:
        for size in SIZES:
            bursts, found = steady_runtime_calls(binary, path, function, size)
            # Each runtime function on its own: a count that went down must not hide one that went up.
            detail = ", ".join(f"{name} {n / bursts:+.2f}" for name, n in sorted(found.items()))
            worst = max((abs(n) for n in found.values()), default=0)
            print(f"{path:8s} {function:24s} {size:5d} B: {worst / bursts:.2f} Swift runtime calls per burst "
                  f"({bursts} bursts){': ' + detail if detail else ''}")
            failed = failed or bool(found)
    return failed


if __name__ == "__main__":
    main()
