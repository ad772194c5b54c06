#!/usr/bin/env python3
"""test/e2e/tls_sni01_validator.py -- a tls-sni-01 validator, as a CA did it.

Written from the text of ACME draft-01 (draft-ietf-acme-acme-01, section 7.3,
"TLS with Server Name Indication"), independently of mod_acme's engine:

  * Z is the lowercase hex SHA-256 of the key authorization
    (token "." base64url(JWK thumbprint));
  * the validator opens a TLS connection to the name being validated, port
    443 (here: HOST PORT), sending the server name
        Z[0:32] "." Z[32:64] ".acme.invalid"
    in the SNI extension;
  * the validation succeeds when the certificate the server presents carries
    that name as a dNSName in its subjectAltName extension. The certificate
    is not verified against any trust anchor (it is self-signed by design).

Draft-01 also had an iteration count "n" (Z_i = SHA-256(Z_{i-1}), one name per
iteration, the validator picking one); Let's Encrypt's Boulder only ever used
n = 1 and later drafts dropped it, so this validator does n = 1.

Usage:
  tls_sni01_validator.py HOST PORT KEYAUTHZ [--save-cert FILE]

Prints one line: "valid: ..." (exit 0) or "invalid: ..." (exit 1);
exit 2 on usage errors. --save-cert writes the presented leaf as PEM.
"""

import hashlib
import socket
import ssl
import subprocess
import sys


def sni_name(keyauthz):
    z = hashlib.sha256(keyauthz.encode("utf-8")).hexdigest()  # lowercase hex
    return "%s.%s.acme.invalid" % (z[0:32], z[32:64])


def dns_sans(der):
    """The dNSName entries of the certificate's subjectAltName (openssl CLI,
    so that no third-party Python module is needed)."""
    pem = ssl.DER_cert_to_PEM_cert(der)
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-ext", "subjectAltName"],
        input=pem.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        check=False).stdout.decode("utf-8", "replace")
    names = []
    for line in out.splitlines()[1:]:
        for item in line.split(","):
            item = item.strip()
            if item.startswith("DNS:"):
                names.append(item[4:])
    return names, pem


def main(argv):
    args = list(argv[1:])
    save = None
    if "--save-cert" in args:
        i = args.index("--save-cert")
        if i + 1 >= len(args):
            print("usage: tls_sni01_validator.py HOST PORT KEYAUTHZ [--save-cert FILE]")
            return 2
        save = args[i + 1]
        del args[i:i + 2]
    if len(args) != 3:
        print("usage: tls_sni01_validator.py HOST PORT KEYAUTHZ [--save-cert FILE]")
        return 2
    host, port, keyauthz = args[0], int(args[1]), args[2]
    want = sni_name(keyauthz)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=10) as sock:
            with ctx.wrap_socket(sock, server_hostname=want) as tls:
                der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as e:
        print("invalid: TLS connection to %s:%d with SNI %s failed: %s"
              % (host, port, want, e))
        return 1
    if not der:
        print("invalid: no certificate presented for SNI %s" % want)
        return 1
    names, pem = dns_sans(der)
    if save:
        with open(save, "w") as f:
            f.write(pem)
    if want in names:
        print("valid: SNI %s answered with a certificate for %s"
              % (want, ", ".join(names)))
        return 0
    print("invalid: SNI %s answered with a certificate for [%s]"
          % (want, ", ".join(names)))
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
