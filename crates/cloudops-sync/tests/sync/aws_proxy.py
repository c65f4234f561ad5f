"""A fault-injecting HTTP proxy in front of moto, for the estate sync's failure tests.

moto answers every call; real AWS also throttles, has failing endpoints and refuses roles.
This proxy forwards each request to moto unless told to answer it with one of those faults,
in the error format of the service's protocol, so the Rust SDK sees what AWS would send:

  --throttle-every N   every Nth call (per service) answers the service's throttling error
  --fail-service S     every call to S (its SigV4 signing name: ec2, rds, s3, lambda,
                       elasticloadbalancing, sts) answers 500 InternalFailure
  --deny-role ARN      sts AssumeRole for ARN answers 403 AccessDenied
  --fail-action A[:N]  the first N calls (default: all) of the query-protocol operation A
                       (e.g. ModifyInstanceAttribute) answer 400 UnsupportedOperation, an
                       error clients do not retry

GET /__proxy_fail?action=A&value=V (at any time) makes every later call of A whose parameters
name V answer that error: one target of a call for several refused, as IAM refuses a call that
names a resource the caller may not touch.

It prints `PORT <n>` once listening. GET /__proxy_stats answers JSON counts per service,
with calls per operation for query-protocol services:
{"ec2": {"seen": 13, "forwarded": 10, "throttled": 3, "failed": 0, "denied": 0,
         "actions": {"DescribeInstances": 2, ...}}, ...}.
Standard library only.
"""

import argparse
import http.client
import json
import re
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = re.compile(r"Credential=[^/]+/[0-9]{8}/[^/]+/([^/]+)/aws4_request")

QUERY_ERROR = (
    "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message>"
    "</Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>"
)
EC2_ERROR = (
    "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors>"
    "<RequestID>00000000-0000-0000-0000-000000000000</RequestID></Response>"
)
S3_ERROR = "<Error><Code>{code}</Code><Message>{message}</Message></Error>"


def error_answer(service, fault):
    """(status, headers, body) of `fault` (throttled, failed, denied) for `service`."""
    if fault == "throttled":
        codes = {"ec2": "RequestLimitExceeded", "s3": "SlowDown", "lambda": "TooManyRequestsException"}
        code, status, message = codes.get(service, "Throttling"), 400, "Rate exceeded"
        if service in ("s3", "ec2"):
            status = 503
        if service == "lambda":
            status = 429
    elif fault == "rejected":
        code, status, message = "UnsupportedOperation", 400, "injected failure of this operation"
    elif fault == "denied":
        code, status, message = "AccessDenied", 403, "User is not authorized to perform: sts:AssumeRole"
    else:
        code, status, message = "InternalFailure", 500, "injected failure"
    if service == "lambda":
        body = json.dumps({"Type": "Service", "message": message}).encode()
        return status, {"Content-Type": "application/json", "x-amzn-ErrorType": code}, body
    if service == "ec2":
        body = EC2_ERROR.format(code=code, message=message)
    elif service == "s3":
        body = S3_ERROR.format(code=code, message=message)
    else:
        kind = "Sender" if status < 500 else "Receiver"
        body = QUERY_ERROR.format(kind=kind, code=code, message=message)
    return status, {"Content-Type": "text/xml"}, body.encode()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options = None
    stats = {}
    lock = threading.Lock()

    def log_message(self, *args):  # quiet
        pass

    def count(self, service, what):
        with self.lock:
            entry = self.stats.setdefault(
                service,
                {"forwarded": 0, "throttled": 0, "failed": 0, "denied": 0, "rejected": 0, "seen": 0},
            )
            entry[what] += 1
            return entry

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/__proxy_stats":
            with self.lock:
                return self.answer(200, {"Content-Type": "application/json"}, json.dumps(self.stats).encode())
        if self.path.startswith("/__proxy_fail?"):
            query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
            with self.lock:
                self.options.fail_action = [query["action"][0], None]
                self.options.fail_value = query["value"][0]
            return self.answer(200, {"Content-Type": "text/plain"}, b"ok")
        match = SERVICE.search(self.headers.get("Authorization", ""))
        service = match.group(1) if match else "unsigned"
        seen = self.count(service, "seen")["seen"]
        # Query-protocol services (EC2, RDS, ELBv2, STS) name the operation in the form body.
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", [None])[0]
        if action:
            with self.lock:
                actions = self.stats[service].setdefault("actions", {})
                actions[action] = actions.get(action, 0) + 1
        options = self.options
        fault = None
        if options.fail_service == service:
            fault = "failed"
        elif (
            action
            and options.fail_action
            and action == options.fail_action[0]
            and (options.fail_value is None or any(options.fail_value in v for v in form.values()))
        ):
            with self.lock:
                if options.fail_action[1] is None or options.fail_action[1] > 0:
                    fault = "rejected"
                    if options.fail_action[1] is not None:
                        options.fail_action[1] -= 1
        elif service == "sts" and options.deny_role:
            form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
            if form.get("Action") == ["AssumeRole"] and form.get("RoleArn") == [options.deny_role]:
                fault = "denied"
        if fault is None and options.throttle_every and seen % options.throttle_every == 0:
            fault = "throttled"
        if fault:
            self.count(service, fault)
            return self.answer(*error_answer(service, fault))
        self.count(service, "forwarded")
        connection = http.client.HTTPConnection(options.target_host, options.target_port, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection",)}
        connection.request(self.command, self.path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        answer_headers = {
            k: v
            for k, v in response.getheaders()
            if k.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date")
        }
        connection.close()
        self.answer(response.status, answer_headers, payload)

    def answer(self, status, headers, body):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True, help="http://127.0.0.1:PORT of moto")
    parser.add_argument("--throttle-every", type=int, default=0)
    parser.add_argument("--fail-service")
    parser.add_argument("--deny-role")
    parser.add_argument("--fail-action")
    options = parser.parse_args()
    options.fail_value = None
    if options.fail_action:
        name, _, count = options.fail_action.partition(":")
        options.fail_action = [name, int(count) if count else None]
    target = urllib.parse.urlparse(options.target)
    options.target_host, options.target_port = target.hostname, target.port
    Proxy.options = options
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
