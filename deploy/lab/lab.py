#!/usr/bin/env python3
"""The MemifKit lab on one machine: two Kubernetes "nodes" as network namespaces joined by a veth
underlay, each running memifd and the real CNI chain (ptp + host-local, then memif-cni) invoked
exactly as a container runtime does; pods created from the Pod YAML files in deploy/lab/pods (their
annotations are what a user would write); a reflector CNF built on MemifKit in an annotated pod;
traffic from a pod on the other node; a summary of where packets went.

    lab.py up                 create nodes, start memifd, create the pods (prints each pod's CNI result)
    lab.py traffic            run the traffic and print where packets went (repeat with --watch N)
    lab.py status             pods, attachments (memifctl status) and memifd metrics
    lab.py add POD.yaml       create one more pod;  lab.py delete NAME  deletes one (CNI DEL)
    lab.py restart-memifd N   SIGKILL node N's memifd and start it again (listeners and steering come back)
    lab.py down               delete the pods (CNI DEL), stop everything, remove every namespace and file

Needs root, iproute2, nftables, containernetworking-plugins, python3-yaml (scripts/lab.sh installs
them and builds the binaries).
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import cni_runtime  # noqa: E402

STATE_DIR = os.environ.get("MEMIFKIT_LAB_DIR", "/run/memifkit-lab")
PREFIX = os.environ.get("MEMIFKIT_LAB_PREFIX", "mklab")
BIN = os.environ.get("MEMIFKIT_BIN", os.path.join(ROOT, ".build", "release"))
NODES = {"node1": {"underlay": "10.100.0.1", "pods": "10.244.1.0/24"},
         "node2": {"underlay": "10.100.0.2", "pods": "10.244.2.0/24"}}
STEERED_UDP, KERNEL_UDP = 7777, 7000


def sh(*args, check=True, netns=None, **kw):
    cmd = (["ip", "netns", "exec", netns] if netns else []) + [str(a) for a in args]
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def ns(name):
    return f"{PREFIX}-{name}"


def load_state():
    try:
        with open(os.path.join(STATE_DIR, "state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"nodes": {}, "pods": {}}


def save_state(state):
    os.makedirs(STATE_DIR, exist_ok=True)
    tmp = os.path.join(STATE_DIR, "state.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, os.path.join(STATE_DIR, "state.json"))


def spawn(args, netns, log):
    out = open(log, "a")
    return subprocess.Popen(["ip", "netns", "exec", netns] + [str(a) for a in args], stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True).pid


def node_dir(node):
    return os.path.join(STATE_DIR, node)


def conflist(node):
    return {"cniVersion": "1.0.0", "name": "memifkit-lab", "plugins": [
        {"type": "ptp", "mtu": 1500, "ipMasq": False,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": NODES[node]["pods"]}]], "routes": [{"dst": "0.0.0.0/0"}],
                  "dataDir": os.path.join(node_dir(node), "ipam")}},
        {"type": "memif-cni", "memifdSocket": os.path.join(node_dir(node), "memifd.sock"),
         "capabilities": {"io.kubernetes.cri.pod-annotations": True}},
    ]}


def memifd_args(node):
    d = node_dir(node)
    return [os.path.join(BIN, "memifd"), "--socket", os.path.join(d, "memifd.sock"),
            "--state", os.path.join(d, "attachments.json"), "--metrics", "127.0.0.1:9464"]


def wait_for(path, seconds=10):
    deadline = time.time() + seconds
    while not os.path.exists(path):
        if time.time() > deadline:
            raise RuntimeError(f"{path} did not appear")
        time.sleep(0.05)


def up_nodes(state):
    sh("ip", "link", "del", f"{PREFIX}-u1", check=False)
    for node in NODES:
        sh("ip", "netns", "add", ns(node))
        sh("ip", "link", "set", "lo", "up", netns=ns(node))
        sh("sysctl", "-qw", "net.ipv4.ip_forward=1", netns=ns(node))
        sh("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0", netns=ns(node))
        os.makedirs(node_dir(node), exist_ok=True)
        state["nodes"][node] = {"netns": ns(node)}
    sh("ip", "link", "add", f"{PREFIX}-u1", "netns", ns("node1"), "type", "veth", "peer", "name", f"{PREFIX}-u2",
       "netns", ns("node2"))
    for i, node in enumerate(NODES, 1):
        sh("ip", "addr", "add", NODES[node]["underlay"] + "/24", "dev", f"{PREFIX}-u{i}", netns=ns(node))
        sh("ip", "link", "set", f"{PREFIX}-u{i}", "up", netns=ns(node))
    sh("ip", "route", "add", NODES["node2"]["pods"], "via", NODES["node2"]["underlay"], netns=ns("node1"))
    sh("ip", "route", "add", NODES["node1"]["pods"], "via", NODES["node1"]["underlay"], netns=ns("node2"))
    for node in NODES:
        start_memifd(state, node)


def start_memifd(state, node):
    sock = os.path.join(node_dir(node), "memifd.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    state["nodes"][node]["memifd"] = spawn(memifd_args(node), ns(node), os.path.join(node_dir(node), "memifd.log"))
    wait_for(sock)


def cni(pod, command, prev=None):
    node = pod["node"]
    cni_path = ":".join([BIN, "/usr/lib/cni", "/opt/cni/bin"])
    return cni_runtime.run(conflist(node), command, pod["containerID"], f"/run/netns/{pod['netns']}", "eth0",
                           pod, cni_path, prev_result=prev, prefix=["ip", "netns", "exec", ns(node)])


def add_pod(state, path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    meta, spec = doc["metadata"], doc["spec"]
    pod = {"name": meta["name"], "namespace": meta.get("namespace", "default"), "uid": meta["uid"],
           "annotations": meta.get("annotations", {}), "node": spec["nodeName"], "netns": ns("pod-" + meta["name"]),
           "containerID": "lab" + meta["uid"].replace("-", ""), "yaml": os.path.relpath(path, ROOT)}
    sh("ip", "netns", "add", pod["netns"])
    sh("ip", "link", "set", "lo", "up", netns=pod["netns"])
    started = time.monotonic()
    try:
        result, timings = cni(pod, "ADD")
    except cni_runtime.CNIError as e:
        sh("ip", "netns", "del", pod["netns"], check=False)
        print(f"pod {pod['name']}: ADD failed: {e}")
        return None
    pod["addSeconds"] = round(time.monotonic() - started, 4)
    pod["result"] = result
    pod["ip"] = result["ips"][0]["address"].split("/")[0]
    pod["pids"] = []
    for c in spec.get("containers", []):
        cmd = [a.replace("$(POD_IP)", pod["ip"]).replace("$(POD_NAME)", PREFIX + "-" + pod["name"]) for a in c.get("command", [])]
        log = os.path.join(STATE_DIR, f"{pod['name']}-{c['name']}.log")
        if cmd[0] == "reflector":
            pod["pids"].append(spawn([os.path.join(BIN, "reflector")] + cmd[1:], pod["netns"], log))
        elif cmd[0] == "dpdk-testpmd":
            pod["pids"].append(spawn(["/usr/bin/dpdk-testpmd"] + cmd[1:], pod["netns"], log))
        elif cmd[0] == "udp-echo":
            pod["pids"].append(spawn([sys.executable, os.path.join(HERE, "tools", "udp_echo.py")] + cmd[1:], pod["netns"], log))
    state["pods"][pod["name"]] = pod
    memif = [i for i in result.get("interfaces", []) if i.get("socketPath")]
    print(f"pod {pod['name']} on {pod['node']}: {pod['ip']}, ADD {1000 * pod['addSeconds']:.0f} ms"
          + (f", memif {memif[0]['socketPath']}" if memif else ""))
    return pod


def up(args):
    state = load_state()
    if state["nodes"]:
        sys.exit("the lab is already up (lab.py down first)")
    save_state(state)
    up_nodes(state)
    save_state(state)
    for path in args.pods:
        add_pod(state, path)
        save_state(state)
    print("lab up: `lab.py traffic` sends traffic, `lab.py down` removes everything")


def metrics(node):
    out = sh(sys.executable, "-c", "import urllib.request;print(urllib.request.urlopen("
             "'http://127.0.0.1:9464/metrics', timeout=2).read().decode())", netns=ns(node), check=False)
    return {line.split(" ")[0]: line.split(" ")[-1] for line in out.stdout.splitlines()
            if line and not line.startswith("#")}


def reflector_stats(pod):
    """The reflector CNF's last counters line (it prints one per second)."""
    try:
        with open(os.path.join(STATE_DIR, f"{pod['name']}-reflector.log")) as f:
            lines = [l for l in f.read().splitlines() if l.startswith("stats:")]
        return lines[-1][len("stats: "):] if lines else "no counters yet"
    except FileNotFoundError:
        return "not running"


def traffic(args):
    state = load_state()
    target = state["pods"].get(args.target)
    client = state["pods"].get("client")
    if not target or not client:
        sys.exit(f"needs the {args.target} and client pods (lab.py up)")
    for round_ in range(max(1, args.watch)):
        out = sh(sys.executable, os.path.join(HERE, "tools", "traffic.py"), target["ip"], STEERED_UDP, KERNEL_UDP,
                 args.count, netns=client["netns"])
        t = json.loads(out.stdout)
        m = metrics(target["node"])
        hits = sum(float(v) for k, v in m.items() if "steering_hits" in k)
        if args.json:
            print(json.dumps({**t, "steering_hits": hits, "metrics": m}))
            continue
        print(f"client -> {target['ip']}:  UDP {STEERED_UDP} (steered to the memif): "
              f"{t['steered_udp']['answered']}/{t['steered_udp']['sent']} answered through the pod's memif  |  "
              f"UDP {KERNEL_UDP}: {t['unsteered_udp']['answered']}/{t['unsteered_udp']['sent']} answered by the pod's kernel  |  "
              f"ICMP: {t['icmp']['answered']}/{t['icmp']['sent']} by the kernel  |  memifd steering hits so far: {hits:.0f}"
              + (f"  |  reflector: {reflector_stats(target)}" if target["name"] == "reflector" else ""))
        if round_ + 1 < args.watch:
            time.sleep(1)


def status(args):
    state = load_state()
    for name, pod in state["pods"].items():
        print(f"pod {name} on {pod['node']} ({pod['netns']}): {pod['ip']}  ADD {1000 * pod['addSeconds']:.0f} ms")
    for node in state["nodes"]:
        out = sh(os.path.join(BIN, "memifctl"), "status", "--socket", os.path.join(node_dir(node), "memifd.sock"),
                 check=False, netns=ns(node))
        print(f"{node}: memifctl status\n{out.stdout}{out.stderr}")


def add(args):
    state = load_state()
    if add_pod(state, os.path.abspath(args.pod)) is None:
        save_state(state)
        sys.exit(1)
    save_state(state)


def delete(args):
    state = load_state()
    pod = state["pods"].pop(args.name, None)
    if pod is None:
        sys.exit(f"no pod {args.name}")
    delete_pod(pod)
    save_state(state)
    print(f"pod {args.name} deleted")


def delete_pod(pod):
    for pid in pod.get("pids", []):
        kill(pid)
    try:
        cni(pod, "DEL", pod.get("result"))
    except Exception as e:  # noqa: BLE001 (DEL is best effort; the namespace goes anyway)
        print(f"pod {pod['name']}: DEL: {e}")
    sh("ip", "netns", "del", pod["netns"], check=False)


def restart_memifd(args):
    state = load_state()
    info = state["nodes"][args.node]
    os.kill(info["memifd"], signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(info["memifd"], 0)
            time.sleep(0.02)
        except ProcessLookupError:
            break
    start_memifd(state, args.node)
    save_state(state)
    print(f"{args.node}: memifd restarted (pid {state['nodes'][args.node]['memifd']})")


def kill(pid):
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def down(args):
    state = load_state()
    for pod in list(state["pods"].values()):
        delete_pod(pod)
    for node, info in state["nodes"].items():
        if info.get("memifd"):
            kill(info["memifd"])
        sh("ip", "netns", "del", ns(node), check=False)
    # Anything a crashed run left: namespaces with our prefix.
    for line in sh("ip", "netns", "list").stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(PREFIX + "-"):
            sh("ip", "netns", "del", name, check=False)
    subprocess.run(["rm", "-rf", STATE_DIR])
    print("lab down: no namespaces, processes or files left")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up")
    p.add_argument("pods", nargs="*", default=[os.path.join(HERE, "pods", n) for n in
                                               ("reflector.yaml", "client.yaml", "bad-annotation.yaml")])
    p = sub.add_parser("traffic")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--watch", type=int, default=1, help="rounds, one per second")
    p.add_argument("--target", default="reflector", help="the pod to send to")
    p.add_argument("--json", action="store_true", help="one JSON object per round")
    sub.add_parser("status")
    p = sub.add_parser("add")
    p.add_argument("pod")
    p = sub.add_parser("delete")
    p.add_argument("name")
    p = sub.add_parser("restart-memifd")
    p.add_argument("node", choices=list(NODES))
    sub.add_parser("down")
    args = ap.parse_args()
    {"up": up, "traffic": traffic, "status": status, "add": add, "delete": delete, "restart-memifd": restart_memifd,
     "down": down}[args.command](args)


if __name__ == "__main__":
    main()
