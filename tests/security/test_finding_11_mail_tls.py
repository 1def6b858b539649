"""Finding 11: the SMTP mailer had no STARTTLS/TLS option, and the console mailer printed
notifications into the server log. Driven against a real SMTP server (aiosmtpd) with TLS."""

from __future__ import annotations

import io
import smtplib
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from csirt.notify.mail import LogMailer, Mail, SmtpMailer, mailer_from_settings
from tests.teams.conftest import Sink


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throwaway CA and a server certificate for ``localhost`` signed by it (openssl)."""
    folder = tmp_path_factory.mktemp("pki")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test CA",
        "-keyout", "ca.key", "-out", "ca.pem", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
        "server.key", "-out", "server.csr")  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=DNS:localhost\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-out", "server.pem", "-extfile", "ext.cnf")  # fmt: skip
    return {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key"}


def _server_context(pki: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(pki["cert"], pki["key"])
    return context


def _client_context(pki: dict[str, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    return context


@pytest.fixture
def starttls_server(pki: dict[str, Path]) -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    sink, port = Sink(), _free_port()
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=port,
        tls_context=_server_context(pki),
        require_starttls=True,
    )
    controller.start()
    yield sink, port
    controller.stop()


@pytest.fixture
def tls_server(pki: dict[str, Path]) -> Iterator[tuple[Sink, int]]:
    from aiosmtpd.controller import Controller

    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, ssl_context=_server_context(pki))
    controller.start()
    yield sink, port
    controller.stop()


MAIL = Mail("officer@city.example.jp", "[csirt:reminder] 期限", "事案 CSIRT-2015-001 の期限です")


def test_starttls_delivers_with_a_verified_certificate(pki, starttls_server):
    sink, port = starttls_server
    mailer = SmtpMailer("localhost", port, "csirt@city.example.jp", context=_client_context(pki))
    assert mailer.tls == "starttls"  # the default
    mailer.send(MAIL)
    assert [str(m["Subject"]) for m in sink.messages] == [MAIL.subject]


def test_implicit_tls_delivers_with_a_verified_certificate(pki, tls_server):
    sink, port = tls_server
    mailer = SmtpMailer("localhost", port, "csirt@x.jp", tls="tls", context=_client_context(pki))
    mailer.send(MAIL)
    assert len(sink.messages) == 1


def test_an_untrusted_or_misnamed_certificate_is_refused(pki, starttls_server, tls_server):
    sink, port = starttls_server
    with pytest.raises(ssl.SSLCertVerificationError):  # the system CAs do not know the test CA
        SmtpMailer("localhost", port, "csirt@x.jp").send(MAIL)
    with pytest.raises(ssl.SSLCertVerificationError):  # the certificate is not for 127.0.0.1
        SmtpMailer("127.0.0.1", port, "csirt@x.jp", context=_client_context(pki)).send(MAIL)
    tls_sink, tls_port = tls_server
    with pytest.raises(ssl.SSLCertVerificationError):
        SmtpMailer("localhost", tls_port, "csirt@x.jp", tls="tls").send(MAIL)
    assert sink.messages == []
    assert tls_sink.messages == []


def test_no_clear_text_fallback_when_the_server_lacks_starttls(pki):
    from aiosmtpd.controller import Controller

    sink, port = Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(smtplib.SMTPNotSupportedError):
            SmtpMailer("localhost", port, "csirt@x.jp", context=_client_context(pki)).send(MAIL)
    finally:
        controller.stop()
    assert sink.messages == []


def test_settings_choose_the_tls_mode(tmp_path):
    from config import Config, ConfigError

    def mailer(env: dict[str, str]) -> SmtpMailer:
        built = mailer_from_settings(Config.from_env(env, instance_path=tmp_path))
        assert isinstance(built, SmtpMailer)
        return built

    base = {"CSIRT_MAIL_BACKEND": "smtp", "CSIRT_SMTP_HOST": "mail", "CSIRT_SMTP_PORT": "465"}
    assert mailer(base).tls == "starttls"
    assert mailer({**base, "CSIRT_SMTP_TLS": "tls"}).tls == "tls"
    with pytest.raises(ConfigError, match="CSIRT_SMTP_TLS"):
        mailer({**base, "CSIRT_SMTP_TLS": "maybe"})


def test_the_console_mailer_logs_only_that_a_mail_was_sent():
    out = io.StringIO()
    LogMailer(stream=out).send(MAIL)
    line = out.getvalue()
    assert line == "csirt mail: sent kind=reminder recipients=1\n"
    for secret in ("officer", "city.example.jp", "期限", "CSIRT-2015-001"):
        assert secret not in line
