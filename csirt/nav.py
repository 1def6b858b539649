"""Fragments rendered once and kept: the layout's per-reader parts, and empty forms' fields.

The base layout's main navigation (~15 links, each with a ``url_for`` and a permission check)
and the keyboard-shortcuts dialog were rendered again on every page. Their HTML depends only on
the reader's permissions (a function of their roles), the language, the app's endpoints and
its root, so it is kept per app for each such combination: a reader with other roles has
another permission set and so another entry, at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, render_template, request
from flask_login import current_user
from markupsafe import Markup

from csirt.cases.sections import case_sections
from csirt.i18n import request_locale

# Fragments that read nothing but permissions, language, endpoints and static URLs.
FRAGMENTS = frozenset({"_main_nav.html", "_shortcuts.html"})
MAX_ENTRIES = 256  # fragments x permission sets x languages: a handful in practice
MAX_FORM_ENTRIES = 1024  # forms x shown values (phase, priority, playbooks left) x languages


def reader_fragment(name: str) -> Markup:
    """The HTML of the template ``name`` for the signed-in reader, rendered once per app,
    permission set, language and application root."""
    if name not in FRAGMENTS:
        raise ValueError(f"{name} is not a per-reader fragment")
    key = (name, current_user.permissions, str(request_locale()), request.script_root)
    cache: dict[object, Markup] = current_app.extensions.setdefault("csirt_fragments", {})
    html = cache.get(key)
    if html is None:
        html = Markup(render_template(name))  # noqa: S704 (autoescaped template output)
        if len(cache) < MAX_ENTRIES:
            cache[key] = html
    return html


class FormSlot:
    """A form a page shows: the one given back with its errors (rendered as it is), or a fresh
    ``form_class(**data)``, built only when the page's :func:`form_fragment` is rendered for the
    first time. A fresh one never reads the request's form data (on a page shown again after
    another form's POST it would carry that POST's values into the kept fields)."""

    def __init__(
        self,
        given: Any,
        form_class: Callable[..., Any],
        setup: Callable[[Any], None] | None = None,
        **data: Any,
    ) -> None:
        self.given = given
        self._form: Any = given
        self._class, self._setup, self._data = form_class, setup, data

    @property
    def form(self) -> Any:
        """The form object (built on first use)."""
        if self._form is None:
            self._form = self._class(formdata=None, **self._data)
            if self._setup is not None:
                self._setup(self._form)
        return self._form


def form_fragment(slot: FormSlot, *key: object, caller: Callable[[], str]) -> Markup:
    """The HTML of a ``{% call form_fragment(slot, name, values...) %}`` block: the fields of
    an empty form, rendered once per app, ``key`` and language (WTForms' objects and widgets
    were a third of the case page's work). The key names everything the fields show besides
    the language (the selected value, the choices); the CSRF token stays outside the block. A
    form given back with errors is rendered every time."""
    if slot.given is not None:
        return Markup(caller())  # noqa: S704 (autoescaped template output)
    full = (key, str(request_locale()))
    cache: dict[object, Markup] = current_app.extensions.setdefault("csirt_form_fragments", {})
    html = cache.get(full)
    if html is None:
        html = Markup(caller())  # noqa: S704 (autoescaped template output)
        if len(cache) < MAX_FORM_ENTRIES:
            cache[full] = html
    return html


_SENTINEL = str(10**15 + 7)  # a case id no real case has, to find where the id goes in a URL


def case_tabs(case_id: int) -> list[tuple[str, str, str]]:
    """``sections.case_sections(case_id)``: (endpoint, label, url) of each tab of a case page,
    with the labels and the URLs around the case id made once per app, language and root
    (13 ``url_for`` and lazy labels on every case page before)."""
    key = ("case_tabs", str(request_locale()), request.script_root)
    cache: dict[object, list[tuple[str, str, str, str]]] = current_app.extensions.setdefault(
        "csirt_case_tabs", {}
    )
    parts = cache.get(key)
    if parts is None:
        parts = []
        for endpoint, label, url in case_sections(int(_SENTINEL)):
            before, found, after = url.partition(_SENTINEL)
            if not found or _SENTINEL in after:  # the id is not simply in the path
                return case_sections(case_id)
            parts.append((endpoint, label, before, after))
        if len(cache) < MAX_ENTRIES:
            cache[key] = parts
    case = str(case_id)
    return [(endpoint, label, f"{before}{case}{after}") for endpoint, label, before, after in parts]
