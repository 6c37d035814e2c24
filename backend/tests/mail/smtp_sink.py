"""A real SMTP server on loopback for the backend's tests, with aiosmtpd (PyPI; installed by
scripts/lib/setup.sh into the venv KEYWAY_TEST_PYTHON names).

Every message it accepts is written to --out as NNNN.eml (the bytes received) beside
NNNN.json (envelope recipients, whether TLS was on, who authenticated). Every RCPT it is
offered is appended to --out/attempts.log, so a test can count delivery attempts even when
--reply makes the server refuse them (e.g. "451 4.3.0 try again later").

Prints "listening on PORT" once it accepts connections, and exits when its stdin closes
(the test that started it is gone).
"""

import argparse
import asyncio
import json
import os
import ssl
import sys
import threading
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

# aiosmtpd warns about its own deprecated attribute when AUTH runs; not ours to fix.
warnings.filterwarnings("ignore", category=DeprecationWarning)


class Sink:
    def __init__(self, out, reply, mode):
        self.out = out
        self.reply = reply
        self.mode = mode
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with open(os.path.join(self.out, "attempts.log"), "a") as log:
            log.write(f"RCPT {address}\n")
        if self.reply:
            return self.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.out, f"{self.count:04}")
        meta = {
            "rcpt": list(envelope.rcpt_tos),
            "mail_from": envelope.mail_from,
            "tls": self.mode == "implicit" or session.ssl is not None,
            "auth": session.auth_data if session.authenticated else None,
        }
        # The .eml appears last and whole: a test that sees it can read both.
        with open(name + ".json", "w") as f:
            json.dump(meta, f)
        with open(name + ".tmp", "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(name + ".tmp", name + ".eml")
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mode", choices=["plain", "starttls", "implicit"], default="plain")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth", help="USER:PASSWORD the server requires")
    p.add_argument("--reply", help="answer every RCPT with this line instead of accepting it")
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)

    context = None
    if a.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(a.tls_cert, a.tls_key)

    authenticator = None
    if a.auth:
        user, password = a.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, auth_data=user if ok else None)

    handler = Sink(a.out, a.reply, a.mode)

    def factory():
        return SMTP(
            handler,
            hostname="localhost",
            tls_context=context if a.mode == "starttls" else None,
            require_starttls=a.mode == "starttls",
            authenticator=authenticator,
            auth_required=authenticator is not None,
            # Implicit TLS is TLS from the first byte; aiosmtpd only knows about STARTTLS.
            auth_require_tls=a.mode == "starttls",
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(factory, host="127.0.0.1", port=a.port, ssl=context if a.mode == "implicit" else None)
    )
    print(f"listening on {server.sockets[0].getsockname()[1]}", flush=True)

    def exit_when_stdin_closes():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    loop.run_forever()


if __name__ == "__main__":
    main()
