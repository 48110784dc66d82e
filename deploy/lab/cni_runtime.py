"""Runs a CNI network configuration list the way a container runtime does (libcni's order):
ADD runs the plugins in order, each getting the previous result as `prevResult`; DEL runs them in
reverse with the final ADD result; CHECK in order. Each plugin is executed with the CNI_*
environment and its configuration on stdin; `runtimeConfig` carries only the capabilities the
plugin declares (here: pod annotations, `io.kubernetes.cri.pod-annotations`, as containerd sends)."""

import json
import os
import subprocess
import time


class CNIError(Exception):
    def __init__(self, plugin, code, msg, details=""):
        super().__init__(f"{plugin}: CNI error {code}: {msg}" + (f" ({details})" if details else ""))
        self.plugin, self.code, self.msg = plugin, code, msg


def _invoke(plugin_conf, conflist, command, env, prev_result, capabilities_args, prefix):
    conf = dict(plugin_conf)
    conf["cniVersion"] = conflist["cniVersion"]
    conf["name"] = conflist["name"]
    if prev_result is not None:
        conf["prevResult"] = prev_result
    caps = {k: v for k, v in capabilities_args.items() if conf.get("capabilities", {}).get(k)}
    if caps:
        conf["runtimeConfig"] = caps
    path = os.path.join(env["CNI_PATH"].split(":")[0], conf["type"])
    for d in env["CNI_PATH"].split(":"):
        if os.path.exists(os.path.join(d, conf["type"])):
            path = os.path.join(d, conf["type"])
            break
    proc = subprocess.run(prefix + [path], input=json.dumps(conf).encode(), capture_output=True,
                          env={**os.environ, **env, "CNI_COMMAND": command}, timeout=30)
    out = proc.stdout.decode().strip()
    if proc.returncode != 0:
        try:
            e = json.loads(out)
            raise CNIError(conf["type"], e.get("code"), e.get("msg"), e.get("details", ""))
        except ValueError:
            raise CNIError(conf["type"], None, out or proc.stderr.decode().strip())
    return json.loads(out) if out else None


def run(conflist, command, container_id, netns, ifname, pod, cni_path, prev_result=None, prefix=()):
    """Runs `command` for one attachment; returns (final result, seconds per plugin). `prefix` runs
    each plugin through a command (the lab: `ip netns exec NODE`, where the node's runtime lives)."""
    prefix = list(prefix)
    args = (f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod['namespace']};K8S_POD_NAME={pod['name']};"
            f"K8S_POD_INFRA_CONTAINER_ID={container_id};K8S_POD_UID={pod['uid']}")
    env = {"CNI_CONTAINERID": container_id, "CNI_NETNS": netns, "CNI_IFNAME": ifname, "CNI_ARGS": args,
           "CNI_PATH": cni_path}
    caps = {"io.kubernetes.cri.pod-annotations": pod.get("annotations", {})}
    timings = {}
    plugins = conflist["plugins"]
    if command == "ADD":
        result = None
        for p in plugins:
            start = time.monotonic()
            result = _invoke(p, conflist, "ADD", env, result, caps, prefix)
            timings[p["type"]] = time.monotonic() - start
        return result, timings
    if command == "DEL":
        for p in reversed(plugins):
            _invoke(p, conflist, "DEL", env, prev_result, caps, prefix)
        return None, timings
    if command == "CHECK":
        for p in plugins:
            _invoke(p, conflist, "CHECK", env, prev_result, caps, prefix)
        return prev_result, timings
    raise ValueError(command)
