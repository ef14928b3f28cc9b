"""A real SMTP server for iotc-adx's tests: aiosmtpd, which stores every message it accepts
as <n>.eml (the bytes as received) and <n>.json (envelope sender and recipients, and the
AUTH login used) in a directory. Options: --tls none|starttls|implicit with --cert/--key,
--user/--password to require AUTH (PLAIN or LOGIN), --fail-first N to answer the first N
messages with a transient 451. Prints "READY <port>" once listening."""
import argparse
import asyncio
import json
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

args = argparse.ArgumentParser()
args.add_argument("--port", type=int, required=True)
args.add_argument("--dir", required=True)
args.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
args.add_argument("--cert")
args.add_argument("--key")
args.add_argument("--user")
args.add_argument("--password")
args.add_argument("--fail-first", type=int, default=0)
opts = args.parse_args()


class Store:
    def __init__(self):
        self.count = 0
        self.failures_left = opts.fail_first

    async def handle_DATA(self, server, session, envelope):
        if self.failures_left > 0:
            self.failures_left -= 1
            return "451 4.3.0 Try again later"
        self.count += 1
        stem = os.path.join(opts.dir, f"{self.count:05d}")
        with open(stem + ".eml", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        with open(stem + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "login": login}, f)
        return "250 2.0.0 OK"


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == (opts.user or "").encode()
        and auth_data.password == (opts.password or "").encode()
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


context = None
if opts.tls != "none":
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(opts.cert, opts.key)

kwargs = {}
if opts.user:
    kwargs.update(authenticator=authenticate, auth_required=True, auth_require_tls=opts.tls != "none")
if opts.tls == "starttls":
    kwargs.update(tls_context=context, require_starttls=True)
if opts.tls == "implicit":
    kwargs.update(ssl_context=context)

controller = Controller(Store(), hostname="127.0.0.1", port=opts.port, **kwargs)
controller.start()
print(f"READY {opts.port}", flush=True)
try:
    # Runs until the test closes standard input or kills the process.
    sys.stdin.read()
finally:
    controller.stop()
