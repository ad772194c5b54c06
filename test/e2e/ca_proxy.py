#!/usr/bin/env python3
"""test/e2e/ca_proxy.py -- an HTTPS reverse proxy in front of pebble that can
misbehave on purpose, for end-to-end tests of the ACME client.

Every request is forwarded to pebble (the Host header is kept, so pebble's
own URLs and its JWS "url" checks name the proxy; any URL that still names
pebble's origin is rewritten to the proxy's, in bodies and in the Location
and Link headers). On the way, behaviours chosen at start (--config JSON) or
later with POST /_control can change the answers:

  "ari": {...} or null      ARI (RFC 9773): the directory gets "renewalInfo"
                            (the proxy's /renewal-info) and
                            GET /renewal-info/<certid> answers
                              {"suggestedWindow": {start, end},
                               "explanationURL": ...}
                            with "start"/"end" (RFC 3339 text) or
                            "start_offset"/"end_offset" (seconds from the
                            time of the request), "retry_after" (seconds or
                            text; null: no header), "explanation",
                            "status" and "body" (raw text) overrides.
                            null (the default): no renewalInfo in the
                            directory, even if pebble has one.
  "already_replaced": N     the next N newOrder requests whose payload has
                            "replaces" get 409 urn:ietf:params:acme:error:
                            alreadyReplaced (true: all of them).
  "rules": [...]            a general table, checked in order; the first
                            rule that matches acts. A rule:
                              {"match": {"method": "POST",
                                         "endpoint": "newOrder" (directory
                                            name) | "path": "/x" |
                                            "path_prefix": "/x",
                                         "payload_has": "replaces"},
                               "action": NAME, ...parameters...,
                               "times": N (default: unlimited)}
                            Actions (see ACTIONS below; add new ones there):
                              problem    status, type, detail, retry_after
                              raw        status, headers {}, body
                              delay      seconds, then forward
                              malformed  forward, then cut the JSON body
                              truncate   forward, announce a longer body
                                         than is sent, then close
                              oversize   status 200, bytes (of "x")
                              swap_chain forward, then answer with the PEM
                                         in file (a certificate download)
                              trickle    status 200, headers, then the body
                                         ("x" * bytes, or "body") one byte
                                         every "interval" seconds, for at
                                         most "seconds" (slow loris)
                              forge_chain forward, then answer a certificate
                                         download with a chain made here:
                                         a leaf for the public key of the
                                         last CSR seen in a finalize payload
                                         ("key": "csr", default) or a fresh
                                         one ("key": "fresh"), SANs "names"
                                         (default: the CSR's), validity
                                         "not_before"/"not_after" (seconds
                                         from now; default -3600/+86400),
                                         issued by a CA the proxy makes at
                                         start (its certificate follows).
                                         Needs python3-cryptography.

Control and inspection (never forwarded):
  POST /_control   JSON merged into the behaviours; {"clear_requests": true}
                   empties the request log
  GET  /_control   the behaviours now in force
  GET  /_requests  the request log: [{"method", "path", "status",
                   "payload" (the decoded JWS payload: JSON, text, "" for
                   POST-as-GET, or null), "url" (the JWS url), "action"}]

Signatures are never verified: the proxy only reads the JWS "payload" and
"protected" members. Listens on 127.0.0.1 only; forwards only to a loopback
upstream; bodies are capped; sockets time out.
"""

import argparse
import base64
import datetime
import http.client
import http.server
import json
import os
import re
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

MAX_REQUEST_BODY = 1024 * 1024        # what a client may send
MAX_UPSTREAM_BODY = 8 * 1024 * 1024   # what pebble may answer
MAX_LOG = 2000                        # request log entries kept
SOCKET_TIMEOUT = 30
UPSTREAM_TIMEOUT = 30
MAX_DELAY = 60

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate",
              "proxy-authorization", "te", "trailers", "transfer-encoding",
              "upgrade", "content-length", "content-encoding"}


def b64url_decode(s):
    s = s + "=" * (-len(s) % 4)
    return base64.urlsafe_b64decode(s.encode("ascii"))


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc) \
        .strftime("%Y-%m-%dT%H:%M:%SZ")


class State:
    """Behaviours and the request log, shared by the handler threads."""

    def __init__(self, config):
        self.lock = threading.Lock()
        self.config = {"ari": None, "already_replaced": 0, "rules": []}
        self.requests = []
        self.directory_paths = {}     # "newOrder" -> "/order-plz"
        self.last_csr = None          # DER of the last finalize CSR
        self.update(config or {})

    def update(self, changes):
        with self.lock:
            if changes.get("clear_requests"):
                self.requests = []
            for k, v in changes.items():
                if k == "clear_requests":
                    continue
                if k == "rules":
                    if not isinstance(v, list):
                        raise ValueError("rules must be a list")
                    v = [dict(r) for r in v]
                self.config[k] = v

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.config))

    def request_log(self):
        with self.lock:
            return list(self.requests)

    def log(self, entry):
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-MAX_LOG]

    def take_rule(self, req):
        """The first rule matching req (a dict: method, path, payload,
        endpoint); its "times" is counted down."""
        with self.lock:
            for rule in self.config.get("rules") or []:
                if rule.get("times") is not None and rule["times"] <= 0:
                    continue
                if not rule_matches(rule.get("match") or {}, req):
                    continue
                if rule.get("times") is not None:
                    rule["times"] -= 1
                return dict(rule)
            # the named behaviours are rules too
            ar = self.config.get("already_replaced")
            if ar and req["endpoint"] == "newOrder" \
                    and isinstance(req["payload"], dict) \
                    and "replaces" in req["payload"]:
                if ar is not True:
                    self.config["already_replaced"] = ar - 1
                return {"action": "problem", "status": 409,
                        "type": "urn:ietf:params:acme:error:alreadyReplaced",
                        "detail": "the certificate %s has already been "
                                  "replaced (ca_proxy)"
                                  % req["payload"]["replaces"]}
        return None


def rule_matches(m, req):
    if "method" in m and m["method"].upper() != req["method"]:
        return False
    if "endpoint" in m and m["endpoint"] != req["endpoint"]:
        return False
    if "path" in m and m["path"] != req["path"]:
        return False
    if "path_prefix" in m and not req["path"].startswith(m["path_prefix"]):
        return False
    if "payload_has" in m and not (isinstance(req["payload"], dict)
                                   and m["payload_has"] in req["payload"]):
        return False
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT
    server_version = "ca_proxy"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("ca_proxy: %s\n" % (fmt % args))

    # -- plumbing ----------------------------------------------------------

    def read_body(self):
        n = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding"):
            raise ValueError("chunked request bodies are not supported")
        n = int(n) if n else 0
        if n < 0 or n > MAX_REQUEST_BODY:
            raise ValueError("request body of %d bytes is too large" % n)
        return self.rfile.read(n) if n else b""

    def send(self, status, body=b"", headers=(), ctype=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=(), ctype="application/json"):
        self.send(status, json.dumps(obj, indent=1) + "\n", headers, ctype)

    def upstream(self, method, path, body, headers):
        s = self.server
        conn = http.client.HTTPSConnection(s.up_host, s.up_port,
                                           timeout=UPSTREAM_TIMEOUT,
                                           context=s.up_ctx)
        try:
            conn.request(method, path, body=body if body else None,
                         headers=headers)
            resp = conn.getresponse()
            data = resp.read(MAX_UPSTREAM_BODY + 1)
            if len(data) > MAX_UPSTREAM_BODY:
                raise ValueError("upstream answer too large")
            return resp.status, resp.getheaders(), data
        finally:
            conn.close()

    def fresh_nonce(self):
        """A nonce from pebble, so that an invented error answer carries a
        Replay-Nonce like a real one."""
        path = self.server.directory_paths().get("newNonce")
        if not path:
            return None
        try:
            _, headers, _ = self.upstream("HEAD", path, b"",
                                          {"Host": self.headers.get("Host")
                                           or self.server.origin_host})
        except (OSError, ValueError, http.client.HTTPException):
            return None
        for k, v in headers:
            if k.lower() == "replay-nonce":
                return v
        return None

    def rewrite(self, data):
        for origin in self.server.up_origins:
            data = data.replace(origin.encode(), self.server.origin.encode())
        return data

    # -- requests ----------------------------------------------------------

    def do_GET(self):
        self.handle_any("GET")

    def do_HEAD(self):
        self.handle_any("HEAD")

    def do_POST(self):
        self.handle_any("POST")

    def handle_any(self, method):
        try:
            body = self.read_body()
        except (ValueError, OSError) as e:
            self.close_connection = True
            self.send_json(413, {"error": str(e)})
            return
        path = self.path
        if path.startswith("/_control"):
            return self.control(method, body)
        if path.startswith("/_requests"):
            return self.send_json(200, self.server.state.request_log())
        payload, jws_url = None, None
        if method == "POST" and body:
            try:
                jws = json.loads(body)
                raw = b64url_decode(jws.get("payload", ""))
                text = raw.decode("utf-8", "replace")
                try:
                    payload = json.loads(text) if text else ""
                except ValueError:
                    payload = text
                prot = json.loads(b64url_decode(jws.get("protected", "")))
                jws_url = prot.get("url")
            except (ValueError, AttributeError, TypeError):
                payload = None
        if isinstance(payload, dict) and isinstance(payload.get("csr"), str):
            try:
                self.server.state.last_csr = b64url_decode(payload["csr"])
            except (ValueError, TypeError):
                pass
        endpoint = None
        for name, p in self.server.directory_paths().items():
            if p == urllib.parse.urlsplit(path).path:
                endpoint = name
        if path.rstrip("/") == self.server.dir_path:
            endpoint = "directory"
        req = {"method": method, "path": path, "payload": payload,
               "endpoint": endpoint}
        entry = {"method": method, "path": path, "payload": payload,
                 "url": jws_url, "endpoint": endpoint, "time": time.time()}
        try:
            status, action = self.dispatch(req, body)
        except (OSError, ValueError, http.client.HTTPException) as e:
            status, action = 502, "error"
            try:
                self.send_json(502, {"error": "ca_proxy: %s" % e})
            except OSError:
                pass
        entry["status"], entry["action"] = status, action
        self.server.state.log(entry)

    def control(self, method, body):
        st = self.server.state
        if method == "POST":
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("a JSON object is needed")
                st.update(changes)
            except ValueError as e:
                return self.send_json(400, {"error": str(e)})
        return self.send_json(200, st.snapshot())

    def dispatch(self, req, body):
        """Answers one ACME request; returns (status, action name)."""
        st = self.server.state
        rule = st.take_rule(req)
        if rule:
            act = ACTIONS.get(rule.get("action"))
            if not act:
                self.send_json(500, {"error": "unknown action %r"
                                     % rule.get("action")})
                return 500, "bad-rule"
            return act(self, rule, req, body), rule["action"]
        if req["path"].startswith("/renewal-info/") and req["method"] == "GET":
            return self.renewal_info(req), "ari"
        return self.forward(req, body), "forward"

    def forward(self, req, body, edit=None):
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP
                   and k.lower() != "accept-encoding"}
        status, rheaders, data = self.upstream(req["method"], req["path"],
                                               body, headers)
        data = self.rewrite(data)
        out = []
        for k, v in rheaders:
            if k.lower() in HOP_BY_HOP:
                continue
            if k.lower() in ("location", "link"):
                v = self.rewrite(v.encode()).decode()
            out.append((k, v))
        if req["endpoint"] == "directory" and status == 200:
            data = self.edit_directory(data)
        if edit:
            return edit(status, out, data)
        self.send(status, data, out)
        return status

    def edit_directory(self, data):
        try:
            d = json.loads(data)
        except ValueError:
            return data
        if self.server.state.snapshot().get("ari") is not None:
            d["renewalInfo"] = self.server.origin + "/renewal-info"
        else:
            d.pop("renewalInfo", None)
        return (json.dumps(d, indent=1) + "\n").encode()

    def renewal_info(self, req):
        ari = self.server.state.snapshot().get("ari")
        if ari is None:
            self.send_json(404, {"type": "urn:ietf:params:acme:error:"
                                 "malformed", "detail": "no ARI here"},
                           ctype="application/problem+json")
            return 404
        now = time.time()
        start = ari.get("start") or rfc3339(now + ari.get("start_offset", 0))
        end = ari.get("end") or rfc3339(now + ari.get("end_offset", 86400))
        obj = {"suggestedWindow": {"start": start, "end": end}}
        if ari.get("explanation"):
            obj["explanationURL"] = ari["explanation"]
        headers = []
        if ari.get("retry_after") is not None:
            headers.append(("Retry-After", str(ari["retry_after"])))
        status = int(ari.get("status", 200))
        if "body" in ari:
            self.send(status, ari["body"], headers, "application/json")
        else:
            self.send_json(status, obj, headers)
        return status


# -- actions: each answers the request and returns the status sent ---------

def act_problem(h, rule, req, body):
    status = int(rule.get("status", 400))
    headers = []
    nonce = h.fresh_nonce()
    if nonce:
        headers.append(("Replay-Nonce", nonce))
    if rule.get("retry_after") is not None:
        headers.append(("Retry-After", str(rule["retry_after"])))
    h.send_json(status, {"type": rule.get("type",
                                          "urn:ietf:params:acme:error:"
                                          "serverInternal"),
                         "detail": rule.get("detail", "ca_proxy problem"),
                         "status": status},
                headers, "application/problem+json")
    return status


def act_raw(h, rule, req, body):
    status = int(rule.get("status", 500))
    h.send(status, rule.get("body", ""),
           list((rule.get("headers") or {}).items()))
    return status


def act_delay(h, rule, req, body):
    time.sleep(min(float(rule.get("seconds", 1)), MAX_DELAY))
    return h.forward(req, body)


def act_malformed(h, rule, req, body):
    def edit(status, headers, data):
        h.send(status, data[:max(1, len(data) // 2)], headers)
        return status
    return h.forward(req, body, edit)


def act_truncate(h, rule, req, body):
    def edit(status, headers, data):
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(data) + 100))
        h.end_headers()
        h.wfile.write(data[:len(data) // 2])
        h.wfile.flush()
        h.close_connection = True
        try:
            h.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return status
    return h.forward(req, body, edit)


def act_oversize(h, rule, req, body):
    n = min(int(rule.get("bytes", 2 * 1024 * 1024)), 64 * 1024 * 1024)
    h.send(int(rule.get("status", 200)), b"x" * n)
    return int(rule.get("status", 200))


def act_swap_chain(h, rule, req, body):
    with open(rule["file"], "rb") as f:
        pem = f.read(MAX_UPSTREAM_BODY)

    def edit(status, headers, data):
        h.send(status, pem if status == 200 else data, headers)
        return status
    return h.forward(req, body, edit)


MAX_TRICKLE = 900


def act_trickle(h, rule, req, body):
    data = rule.get("body")
    data = data.encode() if isinstance(data, str) else \
        b"x" * min(int(rule.get("bytes", 4096)), 1024 * 1024)
    interval = max(float(rule.get("interval", 1)), 0.01)
    end = time.time() + min(float(rule.get("seconds", 120)), MAX_TRICKLE)
    status = int(rule.get("status", 200))
    h.send_response(status)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.flush()
    h.close_connection = True
    try:
        for i in range(len(data)):
            if time.time() >= end:
                break
            h.wfile.write(data[i:i + 1])
            h.wfile.flush()
            time.sleep(interval)
    except OSError:
        pass                      # the client gave up: that is the point
    return status


_FORGE_CA = []


def forge_ca():
    """A throwaway issuing CA (key, certificate), made once."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    if not _FORGE_CA:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                             "ca_proxy forged issuer")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=30))
                .not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                               critical=True)
                .sign(key, hashes.SHA256()))
        _FORGE_CA.append((key, cert))
    return _FORGE_CA[0]


def forge_pem(rule, csr_der):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    ca_key, ca_cert = forge_ca()
    csr = x509.load_der_x509_csr(csr_der) if csr_der else None
    if rule.get("key") == "fresh" or csr is None:
        pub = ec.generate_private_key(ec.SECP256R1()).public_key()
    else:
        pub = csr.public_key()
    names = rule.get("names")
    if not names and csr is not None:
        try:
            names = csr.extensions.get_extension_for_class(
                x509.SubjectAlternativeName).value.get_values_for_type(
                x509.DNSName)
        except x509.ExtensionNotFound:
            names = []
    names = names or ["forged.invalid"]
    now = datetime.datetime.now(datetime.timezone.utc)
    nb = now + datetime.timedelta(seconds=float(rule.get("not_before", -3600)))
    na = now + datetime.timedelta(seconds=float(rule.get("not_after", 86400)))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(ca_cert.subject).public_key(pub)
            .serial_number(x509.random_serial_number())
            .not_valid_before(nb).not_valid_after(na)
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(n) for n in names]), critical=True)
            .sign(ca_key, hashes.SHA256()))
    enc = serialization.Encoding.PEM
    return leaf.public_bytes(enc) + ca_cert.public_bytes(enc)


def act_forge_chain(h, rule, req, body):
    pem = forge_pem(rule, h.server.state.last_csr)

    def edit(status, headers, data):
        h.send(status, pem if status == 200 else data,
               [(k, v) for k, v in headers if k.lower() != "link"])
        return status
    return h.forward(req, body, edit)


ACTIONS = {
    "trickle": act_trickle,
    "forge_chain": act_forge_chain,
    "problem": act_problem,
    "raw": act_raw,
    "delay": act_delay,
    "malformed": act_malformed,
    "truncate": act_truncate,
    "oversize": act_oversize,
    "swap_chain": act_swap_chain,
}


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, args, state):
        super().__init__(("127.0.0.1", args.port), Handler)
        self.state = state
        self.verbose = args.verbose
        up = urllib.parse.urlsplit(args.upstream)
        if up.scheme != "https" or up.hostname not in ("localhost",
                                                       "127.0.0.1", "::1"):
            raise SystemExit("ca_proxy: the upstream must be https on "
                             "loopback, not %s" % args.upstream)
        self.up_host, self.up_port = up.hostname, up.port or 443
        self.dir_path = (up.path or "/dir").rstrip("/")
        self.up_origins = ["https://localhost:%d" % self.up_port,
                           "https://127.0.0.1:%d" % self.up_port]
        self.up_ctx = ssl.create_default_context(cafile=args.upstream_ca)
        self.port = self.server_address[1]
        self.origin_host = "localhost:%d" % self.port
        self.origin = "https://" + self.origin_host
        self._paths = None
        self._paths_lock = threading.Lock()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        self.socket = ctx.wrap_socket(self.socket, server_side=True,
                                      do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        # TLS handshakes that fail, clients that go away: not the test's
        # business unless asked
        if self.verbose:
            super().handle_error(request, client_address)

    def get_request(self):
        sock, addr = super().get_request()
        sock.settimeout(SOCKET_TIMEOUT)
        return sock, addr

    def directory_paths(self):
        """Paths of the directory's endpoints, read from pebble once."""
        with self._paths_lock:
            if self._paths is None:
                paths = {}
                try:
                    conn = http.client.HTTPSConnection(
                        self.up_host, self.up_port, timeout=UPSTREAM_TIMEOUT,
                        context=self.up_ctx)
                    conn.request("GET", self.dir_path,
                                 headers={"Host": self.origin_host})
                    d = json.loads(conn.getresponse().read(MAX_REQUEST_BODY))
                    conn.close()
                    for k, v in d.items():
                        if isinstance(v, str) and v.startswith("http"):
                            paths[k] = urllib.parse.urlsplit(v).path
                    self._paths = paths
                except (OSError, ValueError, http.client.HTTPException):
                    return paths          # try again next time
            return self._paths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0,
                    help="port on 127.0.0.1 (0: any free port)")
    ap.add_argument("--port-file", help="write the port here when ready")
    ap.add_argument("--upstream", required=True,
                    help="pebble's directory URL, https://localhost:N/dir")
    ap.add_argument("--upstream-ca", required=True,
                    help="CA file that pebble's API certificate chains to")
    ap.add_argument("--cert", required=True, help="the proxy's certificate")
    ap.add_argument("--key", required=True, help="the proxy's key")
    ap.add_argument("--config", default="{}",
                    help="initial behaviours (JSON object)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    state = State(json.loads(args.config))
    srv = Server(args, state)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.port)
        os.replace(tmp, args.port_file)
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()
