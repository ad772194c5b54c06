#!/usr/bin/env python3
"""A small stand-in for the Cloudflare API v4, for testing dns-01 hooks.

Implements exactly the endpoints contrib/acme-dns-cloudflare calls, with
Cloudflare's response envelope {"success", "errors", "messages", "result"}:

  GET    /client/v4/zones?name=ZONE
  POST   /client/v4/zones/{zone_id}/dns_records      {"type","name","content","ttl"}
  GET    /client/v4/zones/{zone_id}/dns_records?type=&name=&content=
  DELETE /client/v4/zones/{zone_id}/dns_records/{id}

Authentication: "Authorization: Bearer TOKEN" (--token), or the legacy
global API key headers X-Auth-Email/X-Auth-Key (--email/--key). Anything
else is answered 403 {"code": 10000, "message": "Authentication error"}.

Debug endpoints (no authentication; the test inspects the state):

  GET  /_records    every record: [{"id","zone","type","name","content","ttl"}]
  GET  /_requests   every request seen: [{"method","path","auth"}]
  POST /_reset      forget records and requests

Loopback only, bounded: at most --max-records records, request bodies of at
most 64 KiB, and the process exits after --lifetime seconds.

  mock_cloudflare.py --port 0 --port-file F --token T --zone example.test
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PREFIX = "/client/v4"
MAX_BODY = 64 * 1024

LOCK = threading.Lock()
ZONES = {}      # id -> name
RECORDS = []    # dicts
REQUESTS = []   # dicts
ARGS = None


def zone_id(name):
    return hashlib.md5(name.encode()).hexdigest()


def envelope(result=None, success=True, errors=None, extra=None):
    doc = {"success": success, "errors": errors or [], "messages": [],
           "result": result}
    if extra:
        doc.update(extra)
    return doc


def error(code, message):
    return envelope(None, False, [{"code": code, "message": message}])


def record_view(r):
    return {"id": r["id"], "zone_id": r["zone"], "zone_name": ZONES[r["zone"]],
            "type": r["type"], "name": r["name"], "content": r["content"],
            "ttl": r["ttl"], "proxiable": False, "proxied": False,
            "locked": False, "meta": {"auto_added": False}}


class Handler(BaseHTTPRequestHandler):
    server_version = "mock-cloudflare/1"
    protocol_version = "HTTP/1.1"
    timeout = 10  # seconds a connection may idle

    def log_message(self, fmt, *args):  # quiet; the state is in /_requests
        if ARGS.verbose:
            sys.stderr.write("mock_cloudflare: " + (fmt % args) + "\n")

    def send_json(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            return None
        return self.rfile.read(n) if n else b""

    def authorized(self):
        auth = self.headers.get("Authorization")
        if auth is not None:
            return ARGS.token is not None and auth == "Bearer " + ARGS.token
        email, key = self.headers.get("X-Auth-Email"), self.headers.get("X-Auth-Key")
        if email is not None or key is not None:
            return (ARGS.key is not None and email == ARGS.email and key == ARGS.key)
        return False

    def auth_kind(self):
        if self.headers.get("Authorization"):
            return "bearer"
        if self.headers.get("X-Auth-Key"):
            return "key"
        return "none"

    def handle_any(self, method):
        url = urlsplit(self.path)
        path, query = url.path, parse_qs(url.query)
        body = self.read_body() if method in ("POST", "PUT", "PATCH") else b""
        if body is None:
            self.close_connection = True
            return self.send_json(413, error(1000, "Request body too large"))

        # debug endpoints
        if path == "/_records" and method == "GET":
            with LOCK:
                return self.send_json(200, [
                    {"id": r["id"], "zone": ZONES[r["zone"]], "type": r["type"],
                     "name": r["name"], "content": r["content"], "ttl": r["ttl"]}
                    for r in RECORDS])
        if path == "/_requests" and method == "GET":
            with LOCK:
                return self.send_json(200, REQUESTS)
        if path == "/_reset" and method == "POST":
            with LOCK:
                del RECORDS[:]
                del REQUESTS[:]
            return self.send_json(200, {"ok": True})

        with LOCK:
            if len(REQUESTS) < 10000:
                REQUESTS.append({"method": method, "path": self.path,
                                 "auth": self.auth_kind()})

        if not path.startswith(PREFIX + "/"):
            return self.send_json(404, error(7000, "No route for that URI"))
        if not self.authorized():
            if not self.headers.get("Authorization") and not self.headers.get("X-Auth-Key"):
                return self.send_json(400, error(9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers"))
            return self.send_json(403, error(10000, "Authentication error"))

        parts = path[len(PREFIX) + 1:].rstrip("/").split("/")
        one = lambda k: (query.get(k) or [None])[0]

        # GET /zones?name=
        if parts == ["zones"] and method == "GET":
            name = one("name")
            with LOCK:
                res = [{"id": i, "name": n, "status": "active"}
                       for i, n in sorted(ZONES.items())
                       if name is None or n == name.lower()]
            return self.send_json(200, envelope(res, extra={"result_info": {
                "page": 1, "per_page": 20, "count": len(res), "total_count": len(res),
                "total_pages": 1}}))

        if len(parts) >= 3 and parts[0] == "zones" and parts[2] == "dns_records":
            zid = parts[1]
            with LOCK:
                if zid not in ZONES:
                    return self.send_json(404, error(7003, "Could not route to /zones/%s/dns_records, perhaps your object identifier is invalid?" % zid))
                zname = ZONES[zid]
                if len(parts) == 3 and method == "GET":
                    res = [record_view(r) for r in RECORDS if r["zone"] == zid
                           and (one("type") is None or r["type"] == one("type"))
                           and (one("name") is None or r["name"] == one("name").lower().rstrip("."))
                           and (one("content") is None or r["content"] == one("content"))]
                    return self.send_json(200, envelope(res, extra={"result_info": {
                        "page": 1, "per_page": 100, "count": len(res),
                        "total_count": len(res), "total_pages": 1}}))
                if len(parts) == 3 and method == "POST":
                    try:
                        doc = json.loads(body.decode() or "null")
                    except ValueError:
                        return self.send_json(400, error(9207, "Request body is invalid."))
                    if not isinstance(doc, dict):
                        return self.send_json(400, error(9207, "Request body is invalid."))
                    rtype, name, content, ttl = (doc.get("type"), doc.get("name"),
                                                 doc.get("content"), doc.get("ttl", 1))
                    if rtype not in ("TXT", "A", "AAAA", "CNAME"):
                        return self.send_json(400, error(9004, "This record type is not supported."))
                    if not isinstance(name, str) or not name:
                        return self.send_json(400, error(9005, "DNS name is invalid."))
                    if not isinstance(content, str) or not content:
                        return self.send_json(400, error(9021, "Invalid TTL or content."))
                    if not isinstance(ttl, int) or not (ttl == 1 or 60 <= ttl <= 86400):
                        return self.send_json(400, error(9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic."))
                    name = name.lower().rstrip(".")
                    if name == "@":
                        name = zname
                    elif name != zname and not name.endswith("." + zname):
                        name = name + "." + zname
                    for r in RECORDS:
                        if (r["zone"], r["type"], r["name"], r["content"]) == (zid, rtype, name, content):
                            return self.send_json(400, error(81058, "An identical record already exists."))
                    if len(RECORDS) >= ARGS.max_records:
                        return self.send_json(400, error(81045, "Record quota exceeded."))
                    r = {"id": uuid.uuid4().hex, "zone": zid, "type": rtype,
                         "name": name, "content": content, "ttl": ttl}
                    RECORDS.append(r)
                    return self.send_json(200, envelope(record_view(r)))
                if len(parts) == 4 and method == "DELETE":
                    for r in RECORDS:
                        if r["zone"] == zid and r["id"] == parts[3]:
                            RECORDS.remove(r)
                            return self.send_json(200, envelope({"id": r["id"]}))
                    return self.send_json(404, error(81044, "Record does not exist."))
        return self.send_json(404, error(7000, "No route for that URI"))

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_PATCH(self):
        self.handle_any("PATCH")


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--token", help="the valid API token")
    ap.add_argument("--email", help="the valid X-Auth-Email (global API key)")
    ap.add_argument("--key", help="the valid X-Auth-Key (global API key)")
    ap.add_argument("--zone", action="append", default=[], help="a zone (repeatable)")
    ap.add_argument("--max-records", type=int, default=100)
    ap.add_argument("--lifetime", type=int, default=900, help="exit after this many seconds")
    ap.add_argument("--verbose", action="store_true")
    ARGS = ap.parse_args()
    for z in ARGS.zone:
        z = z.lower().rstrip(".")
        ZONES[zone_id(z)] = z
    ThreadingHTTPServer.daemon_threads = True
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.timeout = 5
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.replace(tmp, ARGS.port_file)
    timer = threading.Timer(ARGS.lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
