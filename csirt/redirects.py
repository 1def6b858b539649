"""The one check for every redirect target taken from a request (``next`` and the like).

A target is accepted only as a path on this host: parsed with :func:`urllib.parse.urlsplit`,
no scheme, no host, starting with a single ``/``, no backslash and no control characters
(browsers drop tabs and line breaks inside URLs, so ``/\\t/evil.example/`` would become
``//evil.example/``, another host). Anything else yields the caller's fallback.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

MAX_TARGET_LENGTH = 2000


def is_local_path(target: object, *, prefix: str = "/") -> bool:
    """Tell whether ``target`` is a same-host path starting with ``prefix``."""
    if not isinstance(target, str) or not target or len(target) > MAX_TARGET_LENGTH:
        return False
    if "\\" in target or any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in target):
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return False
    return parts.path.startswith(prefix) and not parts.path.startswith("//")


def local_target(target: object, fallback: str, *, prefix: str = "/") -> str:
    """``target`` if it is a same-host path starting with ``prefix``, else ``fallback``."""
    return target if is_local_path(target, prefix=prefix) else fallback  # type: ignore[return-value]
