"""Layout fragments that depend only on who may do what: rendered once per kind of reader.

The base layout's main navigation (~15 links, each with a ``url_for`` and a permission check)
and the keyboard-shortcuts dialog were rendered again on every page. Their HTML depends only on
the reader's permissions (a function of their roles), the language, the app's endpoints and
its root, so it is kept per app for each such combination: a reader with other roles has
another permission set and so another entry, at once.
"""

from __future__ import annotations

from flask import current_app, render_template, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

# Fragments that read nothing but permissions, language, endpoints and static URLs.
FRAGMENTS = frozenset({"_main_nav.html", "_shortcuts.html"})
MAX_ENTRIES = 256  # fragments x permission sets x languages: a handful in practice


def reader_fragment(name: str) -> Markup:
    """The HTML of the template ``name`` for the signed-in reader, rendered once per app,
    permission set, language and application root."""
    if name not in FRAGMENTS:
        raise ValueError(f"{name} is not a per-reader fragment")
    key = (name, current_user.permissions, str(get_locale()), request.script_root)
    cache: dict[object, Markup] = current_app.extensions.setdefault("csirt_fragments", {})
    html = cache.get(key)
    if html is None:
        html = Markup(render_template(name))  # noqa: S704 (autoescaped template output)
        if len(cache) < MAX_ENTRIES:
            cache[key] = html
    return html
