"""Indicators in free text (a mail's body): IP addresses, URLs, domains, e-mail addresses and
file hashes, defanged forms (``hxxp://``, ``example[.]com``, ``1.2.3[.]4``, ``user[@]host``)
included. Pure: no Flask, no database."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

MAX_FOUND = 200

_REFANG = (
    (re.compile(r"\[\s*\.\s*\]|\(\s*\.\s*\)|\{\s*\.\s*\}|\[dot\]", re.I), "."),
    (re.compile(r"\[\s*@\s*\]|\(\s*@\s*\)|\[at\]", re.I), "@"),
    (re.compile(r"\[\s*:\s*\]"), ":"),
    (re.compile(r"\bhxxp(s?)\b", re.I), r"http\1"),
    (re.compile(r"\bfxp\b", re.I), "ftp"),
)

_URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`]+", re.I)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}\b")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_DOMAIN = re.compile(r"\b(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b")
_HASH = re.compile(r"\b(?:[A-Fa-f0-9]{128}|[A-Fa-f0-9]{64}|[A-Fa-f0-9]{40}|[A-Fa-f0-9]{32})\b")
_HASH_ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256", 128: "sha512"}
# Words that look like domains in ordinary mail text (file names, not hosts).
_NOT_TLDS = frozenset(
    {
        "exe",
        "dll",
        "txt",
        "pdf",
        "doc",
        "docx",
        "xls",
        "xlsx",
        "zip",
        "png",
        "jpg",
        "gif",
        "js",
        "py",
        "sh",
        "bat",
        "ps1",
        "msi",
        "html",
        "htm",
        "php",
        "eml",
        "log",
        "csv",
        "json",
        "xml",
    }
)


def refang(text: str) -> str:
    """``text`` with the usual defanging undone."""
    for pattern, replacement in _REFANG:
        text = pattern.sub(replacement, text)
    return text


def _add(
    found: list[dict[str, Any]], seen: set[tuple[str, str]], kind: str, value: str, **extra: Any
) -> None:
    key = (kind, value)
    if key in seen or len(found) >= MAX_FOUND:
        return
    seen.add(key)
    found.append({"type": kind, "value": value, **extra})


def extract(text: str) -> list[dict[str, Any]]:
    """Observables found in ``text``, in order of appearance, each once (at most 200)."""
    clean = refang(text)
    found: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    hosts_in_urls: set[str] = set()
    for match in _URL.finditer(clean):
        url = match.group(0).rstrip(".,;:!?)]}>")
        _add(found, seen, "url", url)
        host = url.split("://", 1)[1].split("/", 1)[0].split("@")[-1].split(":")[0].lower()
        hosts_in_urls.add(host)
    rest = _URL.sub(" ", clean)
    emails = [m.group(0) for m in _EMAIL.finditer(rest)]
    for email in emails:
        _add(found, seen, "email", email.lower())
    rest = _EMAIL.sub(" ", rest)
    for match in _IPV4.finditer(rest):
        try:
            _add(found, seen, "ip", str(ipaddress.IPv4Address(match.group(0))))
        except ValueError:
            continue
    for match in _IPV6.finditer(rest):
        candidate = match.group(0)
        if candidate.count(":") < 2:
            continue
        try:
            _add(found, seen, "ip", str(ipaddress.IPv6Address(candidate)))
        except ValueError:
            continue
    for match in _HASH.finditer(rest):
        value = match.group(0).lower()
        _add(found, seen, "hash", value, hash_algorithm=_HASH_ALGORITHMS[len(value)])
    for match in _DOMAIN.finditer(_IPV4.sub(" ", rest)):
        domain = match.group(0).lower().rstrip(".")
        if domain.rsplit(".", 1)[-1] in _NOT_TLDS or domain in hosts_in_urls:
            continue
        _add(found, seen, "domain", domain)
    return found
