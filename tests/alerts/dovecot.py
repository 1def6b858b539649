"""A real IMAP server for the tests: Debian's dovecot, unprivileged, throwaway config.

Its own port on 127.0.0.1, implicit TLS only (a self-signed certificate made here, trusted by
the client through CSIRT_ALERTS_IMAP_CAFILE), one passwd-file user, a maildir under the test's
folder. Run by the test user; under root it drops to ``nobody`` first.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "alerts"
PASSWORD = "mailbox-pass-0123456789"
NOBODY = 65534


@dataclass(frozen=True)
class Dovecot:
    root: Path
    port: int
    cafile: Path
    password_file: Path
    maildir: Path

    def deliver(self, name: str, raw: bytes) -> None:
        """Put a mail in the inbox (a new, unseen maildir file)."""
        target = self.maildir / "new" / f"{time.time_ns()}.{name}.csirt-test"
        target.write_bytes(raw)
        if os.getuid() == 0:
            os.chown(target, NOBODY, NOBODY)


def available() -> bool:
    return Path(DOVECOT).exists() and shutil.which("openssl") is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(root: Path, port: int, user: str, group: str) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain
default_login_user = {user}
default_internal_user = {user}
default_internal_group = {group}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
  default_fields = home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
"""


def start() -> Iterator[Dovecot]:
    """Start dovecot in the foreground in a new folder; stop it (and remove the folder) when
    the generator closes. The folder is directly under the system's temporary folder: the
    test run's own folder is private to the test user, whom ``nobody`` cannot pass."""
    root = Path(tempfile.mkdtemp(prefix="csirt-dovecot-"))
    try:
        yield from _run(root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(root: Path) -> Iterator[Dovecot]:
    for sub in ("run", "state", "home", *(f"mail/{USER}/{d}" for d in ("new", "cur", "tmp"))):
        (root / sub).mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem"),
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n", encoding="utf-8")
    password_file = root / "imap-password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    as_root = os.getuid() == 0
    import grp
    import pwd

    if as_root:
        user, group, prefix = "nobody", grp.getgrgid(NOBODY).gr_name, [
            "setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
        ]  # fmt: skip
    else:
        user, group, prefix = (
            pwd.getpwuid(os.getuid()).pw_name,
            grp.getgrgid(os.getgid()).gr_name,
            [],
        )
    port = _free_port()
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, user, group), encoding="utf-8")
    if as_root:
        os.chmod(root, 0o755)  # noqa: S103 - nobody (dovecot) must enter its own folder
        for path in [root, *root.rglob("*")]:
            os.chown(path, NOBODY, NOBODY)
        os.chown(password_file, 0, 0)  # only csirt (root here) reads the password
        os.chmod(password_file, 0o600)
    errors = root / "dovecot.stderr"
    with errors.open("wb") as stderr:
        process = subprocess.Popen(
            [*prefix, DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    said = errors.read_text(errors="replace")
                    raise RuntimeError(f"dovecot did not start: {said}") from None
                time.sleep(0.1)
        yield Dovecot(root, port, root / "cert.pem", password_file, root / "mail" / USER)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
