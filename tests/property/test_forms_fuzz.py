"""The console and intake forms, found by crawling real pages and posted with random values.

Each form keeps its valid CSRF token; every other field gets its own value, an option of its
select, awkward text, or nothing, and sometimes an extra field or a random file. The app must not
answer 5xx nor raise, and a refused post (4xx) must leave every table's row count unchanged.
"""

from __future__ import annotations

import io
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import login
from tests.property.conftest import RowCounts, Targets, changed, count_example
from tests.property.strategies import AWKWARD_TEXT, text

EXAMPLES_PER_FORM = 10
MAX_FORMS = 60
# Forms that would end the fuzzing session or change the fuzzing user's own sign-in.
SKIPPED_ACTIONS = (
    "/console/logout",
    "/console/login",
    "/console/reauth",
    "/console/account/",
    "/console/admin/security",
    "/console/admin/users",
    "/language",
)


@dataclass
class Field:
    """One named control of a form."""

    name: str
    kind: str
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    """A POST form found on a page."""

    page: str
    action: str
    multipart: bool
    fields: list[Field] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"POST {self.action}"


class FormParser(HTMLParser):
    """Collect the POST forms of a page and the console links it shows."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"].split("#")[0])
        if tag == "form" and a.get("method", "get").lower() == "post":
            action = urljoin(self.page, a.get("action") or self.page)
            multipart = a.get("enctype", "") == "multipart/form-data"
            self._form = Form(self.page, action, multipart)
            self.forms.append(self._form)
        if self._form is None or not a.get("name"):
            return
        if tag == "input":
            self._form.fields.append(Field(a["name"], a.get("type", "text"), a.get("value", "")))
        elif tag == "textarea":
            self._form.fields.append(Field(a["name"], "textarea"))
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def crawl(client: FlaskClient, targets: Targets) -> list[Form]:
    """Return the POST forms of the console pages around the seeded rows (one form per action)."""
    case = f"/console/cases/{targets.case_id}"
    queue = [
        "/console/",
        "/console/cases/new",
        case,
        f"/console/documents/{targets.document_id}",
        "/console/teams/",
        f"/console/teams/{targets.team_id}",
        "/console/measures/new",
        "/console/intake/",
        "/console/audit/",
        "/console/notifications/",
        "/report/",
    ]
    seen: set[str] = set()
    forms: dict[str, Form] = {}
    while queue and len(seen) < 80:
        page = queue.pop(0)
        if page in seen:
            continue
        seen.add(page)
        response = client.get(page)
        if response.status_code != 200 or "text/html" not in response.content_type:
            response.close()
            continue
        parser = FormParser(page)
        parser.feed(response.get_data(as_text=True))
        for form in parser.forms:
            path = urlsplit(form.action).path
            if not path.startswith(SKIPPED_ACTIONS) and path not in forms:
                forms[path] = form
        # Follow the case's own tabs and the document/team pages one level down.
        for link in parser.links:
            path = urlsplit(link).path
            wanted = path.startswith((case + "/", "/console/documents/", "/console/teams/"))
            download = path.endswith((".docx", ".csv", ".ics", ".pdf")) or "/content" in path
            if wanted and not download:
                queue.append(link)
    return list(forms.values())[:MAX_FORMS]


def _value(field_: Field) -> st.SearchStrategy[str | None]:
    choices: list[st.SearchStrategy[str | None]] = [st.just(field_.value), AWKWARD_TEXT, st.none()]
    if field_.options:
        choices.append(st.sampled_from(field_.options))
    if field_.kind in {"checkbox", "radio"}:
        choices = [st.just(field_.value or "y"), st.none(), AWKWARD_TEXT]
    if field_.kind in {"number", "date", "datetime-local"}:
        choices.append(st.integers(-(2**40), 2**40).map(str))
    return st.one_of(choices)


@st.composite
def submissions(draw: st.DrawFn, form: Form, csrf: str) -> dict[str, Any]:
    """Draw the data of one post of a form (the CSRF token stays valid)."""
    data: dict[str, Any] = {}
    for field_ in form.fields:
        if field_.name.endswith("csrf_token"):  # prefixed forms (t1-, td-) carry their own
            data[field_.name] = field_.value or csrf
            continue
        if field_.kind == "file":
            if draw(st.booleans()):
                name = draw(st.sampled_from(["a.txt", "a.png", "a.docx", "", "../../etc/passwd"]))
                data[field_.name] = (io.BytesIO(draw(st.binary(max_size=300))), name)
            continue
        value = draw(_value(field_))
        if value is not None:
            data[field_.name] = value
    if draw(st.integers(0, 4)) == 0:
        data[draw(text(min_size=1, max_size=10))] = draw(AWKWARD_TEXT)
    data.setdefault("csrf_token", csrf)
    return data


def _post(
    client: FlaskClient, counts: Callable[[], RowCounts], form: Form, data: dict[str, Any]
) -> int:
    before = counts()
    try:
        response = client.post(
            form.action,
            data=data,
            content_type="multipart/form-data" if form.multipart else None,
        )
    except Exception:  # any exception escaping the app is the finding
        pytest.fail(f"unhandled exception for {form.label} {data!r}:\n{traceback.format_exc()}")
    status = response.status_code
    text = response.get_data(as_text=True)[:600] if status >= 500 else ""
    response.close()
    assert status < 500, (form.label, data, status, text)
    if 400 <= status < 500:
        assert changed(before, counts()) == {}, (form.label, data, status, "rows written")
    return status


def fuzz_form(client: FlaskClient, counts: Callable[[], RowCounts], form: Form, csrf: str) -> None:
    """Post EXAMPLES_PER_FORM generated submissions of one form."""

    @settings(
        max_examples=EXAMPLES_PER_FORM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=submissions(form, csrf))
    def fuzz(data: dict[str, Any]) -> None:
        status = _post(client, counts, form, data)
        count_example(f"forms, answered {status // 100}xx")

    fuzz()


@pytest.mark.slow
def test_every_form_refuses_random_input_cleanly(
    client: FlaskClient, targets: Targets, counts: Callable[[], RowCounts]
) -> None:
    response = login(client, targets.username, targets.password, targets.totp_seed)
    assert response.status_code == 302, response.text
    forms = crawl(client, targets)
    assert len(forms) >= 20, [f.action for f in forms]
    fuzzed: list[str] = []
    for form in forms:
        page = client.get(form.page)
        csrf = _csrf(page.get_data(as_text=True))
        page.close()
        if csrf is None:
            continue
        fuzz_form(client, counts, form, csrf)
        fuzzed.append(form.action)
    assert len(fuzzed) >= 20


def _csrf(html: str) -> str | None:
    from tests.conftest import CSRF_RE

    match = CSRF_RE.search(html)
    return (match.group(1) or match.group(2)) if match else None
