#!/usr/bin/env python3
"""bench/served.py PORT NAMES_FILE TIMEOUT_S [--issuer SUBSTR] [--http]

Polls https://127.0.0.1:PORT with SNI for each name in NAMES_FILE (one per
line, in order) until every name is served a certificate whose issuer
contains SUBSTR (default: any certificate), or TIMEOUT_S seconds pass.
With --http it also sends a GET and wants an HTTP status line back. Names
already found served are not polled again; a round stops at the first name
not yet served and the next round starts 50 ms later from it. Exit 0 when
all are served, 1 on timeout (the count served is printed to stderr).
Certificates are not verified (the point is which one is presented)."""
import socket
import ssl
import sys
import time

from cryptography import x509


def served(port, name, issuer, http):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname=name) as s:
                der = s.getpeercert(binary_form=True)
                if issuer:
                    iss = x509.load_der_x509_certificate(der).issuer.rfc4514_string()
                    if issuer not in iss:
                        return False
                if http:
                    s.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                               % name).encode())
                    return s.recv(16).startswith(b"HTTP/1.")
                return der is not None
    except (OSError, ssl.SSLError):
        return False


def main():
    port, names_file, timeout = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    issuer, http = "", False
    args = sys.argv[4:]
    while args:
        a = args.pop(0)
        if a == "--issuer":
            issuer = args.pop(0)
        elif a == "--http":
            http = True
    names = [n.strip() for n in open(names_file) if n.strip()]
    end = time.monotonic() + timeout
    i = 0
    while i < len(names):
        if served(port, names[i], issuer, http):
            i += 1
            continue
        if time.monotonic() > end:
            print("served.py: %d of %d served after %.0f s" % (i, len(names), timeout),
                  file=sys.stderr)
            sys.exit(1)
        time.sleep(0.05)
    sys.exit(0)


if __name__ == "__main__":
    main()
