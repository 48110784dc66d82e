#!/usr/bin/python3
"""A recorded stand-in for the Kubernetes API server, for MemifNode's pod lookup tests.

No API server can run in CI, so this HTTPS server replays recorded, real-shaped responses:
  recorded_apiserver.py SCRIPT.json CERT KEY LOG
SCRIPT: {"token": "...", "routes": [{"path": "/api/v1/...", "watch": false,
          "responses": [{"status": 200, "fixture": "pod.json"} | {"status": 404, "json": {...}}
                        | {"status": 200, "events": ["e1.json", ...], "hold": 0.5}]}]}
Each request to a route takes its next response (the last one repeats). A request without
"Authorization: Bearer <token>" gets the API server's real 401 Status. Prints "port N" once
listening on 127.0.0.1; appends one JSON line per request to LOG.
"""
import json, os, ssl, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

script = json.load(open(sys.argv[1]))
base = os.path.dirname(os.path.abspath(sys.argv[1]))
fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
log_path = sys.argv[4]
lock = threading.Lock()
counters = {}

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def load(name):
    for d in (base, fixtures):
        p = os.path.join(d, name)
        if os.path.exists(p):
            return open(p, "rb").read()
    raise FileNotFoundError(name)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_body(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        watch = query.get("watch", ["false"])[0] == "true"
        auth = self.headers.get("Authorization", "")
        with open(log_path, "a") as log:
            log.write(json.dumps({"path": url.path, "query": {k: v[0] for k, v in query.items()},
                                  "authorization": auth}) + "\n")
        if auth != "Bearer " + script["token"]:
            return self.send_body(401, json.dumps(UNAUTHORIZED).encode())
        for i, route in enumerate(script["routes"]):
            if route["path"] == url.path and route.get("watch", False) == watch:
                with lock:
                    n = counters.get(i, 0)
                    counters[i] = n + 1
                r = route["responses"][min(n, len(route["responses"]) - 1)]
                if "events" in r:
                    self.send_response(r["status"])
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for e in r["events"]:
                        self.wfile.write(json.dumps(json.loads(load(e))).encode() + b"\n")
                        self.wfile.flush()
                        time.sleep(0.05)
                    time.sleep(r.get("hold", 0))
                    return
                body = load(r["fixture"]) if "fixture" in r else json.dumps(r["json"]).encode()
                return self.send_body(r["status"], body)
        self.send_body(404, json.dumps({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                        "message": "no recorded route for " + url.path, "reason": "NotFound",
                                        "code": 404}).encode())


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(sys.argv[2], sys.argv[3])
server.socket = context.wrap_socket(server.socket, server_side=True)
print("port %d" % server.server_address[1], flush=True)
server.serve_forever()
