"""Pure: observable types, refanging, normalisation per type, type guessing and defanging.

A value is stored refanged and normalised (``hxxp://Example[.]COM/a`` -> ``http://example.com/a``)
so that the same indicator typed two ways is one value; HTML shows it defanged again so that
nobody clicks it. Every refusal is an :class:`ObservableValueError` with a short ``code`` that
the console translates and an English message that the API returns.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import string
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import idna

TYPES: Final = (
    "ip",
    "domain",
    "url",
    "hash",
    "email",
    "filename",
    "registry",
    "user-agent",
    "other",
)
HASH_LENGTHS: Final = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
HASH_ALGORITHMS: Final = tuple(HASH_LENGTHS)
MAX_VALUE: Final = 2048

_HIVES: Final = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_HEX = frozenset(string.hexdigits)
_FILE_EXTENSIONS: Final = frozenset(
    [
        "exe",
        "dll",
        "sys",
        "scr",
        "bat",
        "cmd",
        "ps1",
        "psm1",
        "vbs",
        "vbe",
        "js",
        "jse",
        "hta",
        "wsf",
        "lnk",
        "msi",
        "msp",
        "jar",
        "apk",
        "elf",
        "bin",
        "so",
        "dylib",
        "sh",
        "py",
        "pl",
        "docx",
        "docm",
        "doc",
        "xlsx",
        "xlsm",
        "xls",
        "pptx",
        "pptm",
        "ppt",
        "pdf",
        "rtf",
        "one",
        "zip",
        "rar",
        "7z",
        "gz",
        "tgz",
        "iso",
        "img",
        "vhd",
        "vhdx",
        "cab",
        "txt",
        "csv",
        "log",
        "dat",
        "tmp",
    ]
)
_REFANG: Final = (
    (re.compile(r"^hxxp", re.IGNORECASE), "http"),
    (re.compile(r"^fxp", re.IGNORECASE), "ftp"),
    (re.compile(r"\[\s*(?:\.|dot)\s*\]|\(\s*(?:\.|dot)\s*\)|\{\s*(?:\.|dot)\s*\}", re.I), "."),
    (re.compile(r"\[\s*(?:@|at)\s*\]|\(\s*(?:@|at)\s*\)", re.I), "@"),
    (re.compile(r"\[\s*:\s*\]"), ":"),
    (re.compile(r"\[\s*://\s*\]"), "://"),
    (re.compile(r"\[/\]"), "/"),
)


class ObservableValueError(ValueError):
    """A value that is not a valid observable of its type: ``code`` names the rule broken."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def refang(value: str) -> str:
    """``hxxp://example[.]com`` -> ``http://example.com`` (and ``[at]``, ``(.)``, ``[:]``)."""
    text = value.strip()
    for pattern, replacement in _REFANG:
        text = pattern.sub(replacement, text)
    return text


def _check_text(value: str) -> str:
    if not value:
        raise ObservableValueError("required", "a value is required")
    if len(value) > MAX_VALUE:
        raise ObservableValueError("too-long", f"at most {MAX_VALUE} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ObservableValueError("control", "control characters are not allowed")
    return value


def normalise_domain(value: str) -> str:
    """A host name in lower-case ASCII (IDNA A-labels), without a trailing dot."""
    host = value.strip().rstrip(".")
    if not host or "." not in host:
        raise ObservableValueError("domain", "not a domain name (e.g. example.com)")
    try:
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        # IDNA 2008 refuses "_" (DNS records such as _dmarc use it): fall back to plain ASCII.
        if not host.isascii():
            raise ObservableValueError("domain", "not a domain name (e.g. example.com)") from None
        ascii_host = host.lower()
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ObservableValueError("domain", "not a domain name (e.g. example.com)")
    if labels[-1].isdigit():
        raise ObservableValueError("domain", "not a domain name (e.g. example.com)")
    return ascii_host


def normalise_ip(value: str) -> str:
    """A canonical IPv4 or IPv6 address (IPv6 compressed, lower-case)."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ObservableValueError("ip", "not an IPv4 or IPv6 address") from None


def _host(host: str) -> str:
    if host.startswith("["):
        return "[" + normalise_ip(host) + "]"
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        return normalise_domain(host)


def normalise_url(value: str) -> str:
    """A URL with its scheme and host in lower case (IDNA host, canonical IP)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        raise ObservableValueError("url", "not a URL (e.g. https://example.com/path)") from None
    if not parts.scheme.isalpha() or not parts.hostname:
        raise ObservableValueError("url", "not a URL (e.g. https://example.com/path)")
    raw_host = parts.netloc.rpartition("@")[2]
    if raw_host.startswith("["):
        raw_host = raw_host[: raw_host.index("]") + 1] if "]" in raw_host else raw_host
    else:
        raw_host = raw_host.split(":", 1)[0]
    try:
        host = _host(raw_host)
    except ObservableValueError:
        raise ObservableValueError("url", "not a URL (e.g. https://example.com/path)") from None
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = (userinfo + "@" if userinfo else "") + host + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, parts.fragment))


def normalise_hash(value: str, algorithm: str | None) -> tuple[str, str]:
    """(lower-case hex, algorithm); the algorithm is read from the length when not given."""
    text = value.strip().lower()
    if not text or not set(text) <= _HEX:
        raise ObservableValueError("hash", "a hash is hexadecimal (MD5, SHA-1, SHA-256, SHA-512)")
    if algorithm:
        if algorithm not in HASH_LENGTHS:
            raise ObservableValueError("hash-algorithm", "md5, sha1, sha256 or sha512")
        if len(text) != HASH_LENGTHS[algorithm]:
            raise ObservableValueError(
                "hash-length", f"a {algorithm} hash has {HASH_LENGTHS[algorithm]} hex digits"
            )
        return text, algorithm
    for name, length in HASH_LENGTHS.items():
        if len(text) == length:
            return text, name
    raise ObservableValueError(
        "hash-length", "a hash has 32 (MD5), 40 (SHA-1), 64 (SHA-256) or 128 (SHA-512) hex digits"
    )


def normalise_email(value: str) -> str:
    """``Local@Example.COM`` -> ``Local@example.com`` (the local part is kept as given)."""
    local, at, domain = value.strip().rpartition("@")
    if not at or not local or len(local) > 64 or any(ch.isspace() for ch in local):
        raise ObservableValueError("email", "not an e-mail address (e.g. name@example.com)")
    try:
        return f"{local}@{normalise_domain(domain)}"
    except ObservableValueError:
        raise ObservableValueError(
            "email", "not an e-mail address (e.g. name@example.com)"
        ) from None


def normalise_registry(value: str) -> str:
    """A registry path with its hive written out (``HKLM`` -> ``HKEY_LOCAL_MACHINE``)."""
    text = value.strip().replace("/", "\\")
    hive, sep, rest = text.partition("\\")
    full = _HIVES.get(hive.upper(), hive.upper())
    if full not in _HIVES.values():
        raise ObservableValueError(
            "registry", "a registry path starts with a hive (e.g. HKLM\\...)"
        )
    return full + sep + rest


def normalise_value(kind: str, value: str, algorithm: str | None = None) -> tuple[str, str | None]:
    """(stored value, hash algorithm) of ``value`` as an observable of type ``kind``."""
    if kind not in TYPES:
        raise ObservableValueError("type", "one of " + ", ".join(TYPES))
    text = _check_text(refang(value) if kind in ("ip", "domain", "url", "email") else value.strip())
    if kind == "hash":
        return normalise_hash(text, algorithm)
    if kind == "ip":
        return normalise_ip(text), None
    if kind == "domain":
        return normalise_domain(text), None
    if kind == "url":
        return normalise_url(text), None
    if kind == "email":
        return normalise_email(text), None
    if kind == "registry":
        return normalise_registry(text), None
    if kind == "user-agent":
        return " ".join(text.split()), None
    return text, None


def normalise(kind: str, value: str) -> str:
    """The stored form of ``value`` as an observable of type ``kind``; ObservableValueError."""
    return normalise_value(kind, value)[0]


def value_key(kind: str, value: str) -> str:
    """The indexed key of a normalised value: SHA-256 of ``type`` and value (fixed length, so
    that a long URL fits an index and a sightings lookup is one index seek)."""
    return hashlib.sha256(f"{kind}\x00{value}".encode()).hexdigest()


def guess_type(value: str) -> str:
    """The most likely type of a pasted value (refanged first)."""
    text = refang(value)
    if not text:
        return "other"
    if set(text.lower()) <= _HEX and len(text) in HASH_LENGTHS.values():
        return "hash"
    checks: tuple[tuple[str, bool], ...] = (
        ("url", "://" in text),
        ("email", "@" in text and " " not in text),
        ("registry", text.upper().startswith(("HK", "HKEY_")) and "\\" in text),
    )
    for kind, likely in checks:
        if likely and _valid(kind, text):
            return kind
    if _valid("ip", text):
        return "ip"
    if " " not in text and "." in text:
        extension = text.rsplit(".", 1)[1].lower()
        if extension in _FILE_EXTENSIONS or "\\" in text or "/" in text:
            return "filename"
        if _valid("domain", text):
            return "domain"
    if text.startswith("Mozilla/") or "AppleWebKit" in text:
        return "user-agent"
    return "other"


def _valid(kind: str, text: str) -> bool:
    try:
        normalise_value(kind, text)
    except ObservableValueError:
        return False
    return True


def defang(kind: str, value: str) -> str:
    """The value as HTML shows it: ``http://a.example`` -> ``hxxp://a[.]example``."""
    if kind == "url":
        scheme, sep, rest = value.partition("://")
        scheme = re.sub(r"^http", "hxxp", scheme, flags=re.IGNORECASE)
        scheme = re.sub(r"^ftp", "fxp", scheme, flags=re.IGNORECASE)
        host, slash, path = rest.partition("/")
        return scheme + sep + host.replace(".", "[.]") + slash + path
    if kind in ("domain", "ip"):
        return value.replace(".", "[.]")
    if kind == "email":
        local, _at, domain = value.rpartition("@")
        return local + "[@]" + domain.replace(".", "[.]")
    return value
