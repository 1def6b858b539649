"""The console speaks one language at a time (issue 18, item 6).

Every role of the demo (playbooks/demo/sakai-2015.yaml through csirt.demo) signs in to a real
server in Chromium with JavaScript off and crawls every console page reachable from the
dashboard by links and GET forms, once in Japanese and once in English (the demo gets one row
on each register the demo leaves empty: an observable, an alert, a webhook, an inventory file,
so that their detail and correction pages are crawled too):

- in Japanese, visible text (and labels in ``title``, ``aria-label``, ``placeholder``, ``alt``,
  button values) may hold no ASCII word outside a short allowlist (product names, ids, URLs,
  addresses) — no English, no code keys such as ``ppc_preliminary`` or ``(creator)``;
- in English, no Japanese outside user data.

User data is computed from the database, not marked in templates: what people typed lives in
the text columns of the tables, whichever page shows it, so pages other engineers add are
covered without touching their templates (marking every template that shows a name or a title
would mean hunks in dozens of files others are editing, and a new page would pass unmarked).
Identifier-like values (``P1``, ``amber``, ``privacy_officer``: enumeration keys) are not user
data, nor is what the system writes into rows (audit details, search terms, triage runs,
obligations, notifications, custody notes, automatic timeline entries, playbook task text): a
catalog label or a system note that stays in one language is still caught. The offending page
and text are in the assertion message; every role's findings are also written to
test-output/e2e/language-crawl/<role>-<lang>.json.

A second pass with JavaScript on measures table cells: none may be squeezed narrower than two
characters while holding more than one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import JSON, String, Text, select
from werkzeug.serving import make_server

from csirt import create_app, demo
from csirt.auth.models import User
from csirt.db import get_db
from csirt.migrate import upgrade
from tests.conftest import make_config
from tests.e2e.conftest import OUTPUT, QuietHandler

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROLES = ("admin", "intake_officer", "custodian", "responder", "lead", "pr", "committee", "auditor")
# Demo logins are role keys ("lead", "pr"): shown as user data they would hide a role key that
# leaks as a code word, so the crawl renames them to ordinary staff logins first.
STAFF_LOGINS = {
    "admin": "yamada",
    "intake_officer": "sato",
    "custodian": "suzuki",
    "responder": "takahashi",
    "lead": "tanaka",
    "pr": "ito",
    "committee": "watanabe",
    "auditor": "nakamura",
}
MAX_PAGES = 120  # per role and language
PER_SHAPE = 2  # pages of one shape (same path with ids replaced, same query keys)

# ASCII words a Japanese page may show, each for a reason:
ALLOWED_ASCII = {
    "csirt",  # the product's name (header, footer, page titles)
    "CSIRT",  # the team's name in Japanese usage (CSIRT責任者, case references CSIRT-2026-0001)
    "PPC",  # 個人情報保護委員会 is referred to as PPC in its own forms
    "TLP",  # Traffic Light Protocol: the standard's own name, not translated in Japan
    "ATT",  # MITRE ATT&CK (split at "&" by the word regex)
    "CK",
    "MITRE",
    "JNSA",  # the damage model's author (JNSA 情報セキュリティインシデントに関する調査報告書)
    "TOTP",  # the authenticator standard named on the account page
    "API",  # API トークン is the Japanese term
    "JST",  # the time zone shown with every time
    "UTC",
    "IP",  # IPアドレス
    "URL",
    "CSV",  # file formats named on export buttons
    "JSON",
    "PDF",
    "ID",
    "SMTP",
    "OK",
    # Terms Japanese public bodies write in Latin letters themselves:
    "CISO",  # 最高情報セキュリティ責任者, written CISO in the government's guidelines
    "SNS",
    "FAX",
    "USB",  # USBメモリ
    "HTML",
    "PNG",
    "Web",
    "QR",  # QRコード
    "JPCERT",  # JPCERT/CC, the coordination centre's own name
    "CC",
    "Markdown",  # the note format's name
    "Word",  # Microsoft Word, named on the export buttons
    "iCalendar",  # the calendar format's name (RFC 5545)
    "ics",
    "UTF",  # UTF-8
    "BOM",
    "Webhook",  # written so in Japanese UIs (GitHub, Slack)
    "IOC",  # 侵害指標 is commonly written IOC in Japanese CSIRT documents
    "HMAC",
    "STIX",  # the OASIS exchange format's name
    "MISP",  # the threat-sharing platform's name
    "Enterprise",  # ATT&CK Enterprise, the matrix's own name
    # Products and services named as they are written:
    "Google",
    "Bing",
    "Yahoo",
    "JAPAN",
    "FreeOTP",
    "Aegis",
    "Authenticator",
}
# Patterns whose whole match is allowed: priorities, TLP colours as the standard writes them,
# case references, e-mail addresses, URLs, ISO dates, file names.
ALLOWED_PATTERNS = [
    re.compile(r"\bP[1-4]\b"),
    re.compile(r"\b(?:TLP|PAP):(?:CLEAR|WHITE|GREEN|AMBER\+STRICT|AMBER|RED)\b"),
    re.compile(r"\bPAP\b"),  # Permissible Actions Protocol: named like TLP
    re.compile(r"\bCSIRT-\d{4}-\d+\b"),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"https?://\S+"),
    # an observable's URL or host defanged as threat-intelligence texts write it
    re.compile(r"\bhxxps?://\S+"),
    re.compile(r"\b[\w-]+(?:\[\.\][\w-]+)+(?:/\S*)?"),
    re.compile(r"(?<![\w/])/[a-z][\w/-]*/"),  # a path of this site (/measures/)
    # a source cited without its scheme (iuris.jp/jpn/a/68339)
    re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.(?:jp|com|org|net|gov)\b(?:/[\w./-]*)?"),
    # hash algorithms by their standards' names (SHA-256, MD5), not translated: like TLP
    re.compile(r"\bSHA-\d+(?!\d)"),
    re.compile(r"\bMD5\b"),
    re.compile(r"\b[0-9a-f]{32,128}\b"),  # a hash (evidence, an observable: MD5 to SHA-512)
    re.compile(r"\b[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3,}\b"),  # a recovery key or a receipt
    re.compile(r"\blog10\b"),  # the formula of the score
    re.compile(r"\be-Gov\b"),  # the government's law portal
    re.compile(r"\bISO 8601\b"),
    re.compile(r"(?:\b[\w.-]+)?\.(?:docx|csv|json|pdf|txt)\b"),  # a file name or its extension
]
ASCII_WORD = re.compile(r"[A-Za-z]{2,}")
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff01-\uff60\u3001-\u303f]")
IDENTIFIER = re.compile(r"^[a-z0-9_.:/+-]*$")

SKIP = re.compile(
    r"/logout|/export|/download|/raw|/original|\.docx|\.csv|\.json|\.pdf|\.zip|\.ics|/api/|/static/"
    r"|format="
)
TEXT_ATTRS = ("title", "aria-label", "placeholder", "alt")


# --- the server with the demo data ------------------------------------------------------------


@dataclass
class Demo:
    url: str
    passwords: dict[str, tuple[str, str]]  # role -> (login, password)
    user_text: list[str]  # values people typed, longest first
    haystack: str = ""

    def __post_init__(self) -> None:
        self.haystack = "\x00".join(self.user_text)


# Text the system writes into rows (not typed by anyone): pages must render it in the reader's
# language, so it is never user data. Whole tables, and rows picked by a condition.
SYSTEM_TABLES = {
    "audit_events",  # the log's details: keys and values written by code
    "case_search_terms",  # bigrams and words derived from user text (fragments would hide leaks)
    "case_search_docs",
    "triage_runs",
    "obligations",  # copied from playbooks/regimes (basis_ja/basis_en)
    "notifications",
    "custody_entries",  # "uploaded via console; sha256 ..."
    "sent_reminders",
    "settings",
}
# Rows (picked by a condition) whose columns named here the system wrote; the rest of the row,
# like the reason a person gave for a priority change, is user data.
SYSTEM_CELLS = {
    "timeline_events": ("automatic", {"title", "source", "actor"}),  # "Priority P3 → P1"
    "tasks": ("playbook_id IS NOT NULL", {"title", "description"}),  # copied from the catalog
}


def _user_text(app: Flask) -> list[str]:
    """Every free-text value people typed: text columns of every table (JSON string leaves
    too), except the system's own text above; identifier-like values (enumeration keys) are
    not user data either."""
    from sqlalchemy import text

    from csirt.db import Base

    values: set[str] = set()

    def leaves(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from leaves(item)
        elif isinstance(value, list):
            for item in value:
                yield from leaves(item)

    session = get_db(app).sessionmaker()
    try:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns or table.name in SYSTEM_TABLES:
                continue
            queries = [select(*columns)]
            if table.name in SYSTEM_CELLS:
                condition, written = SYSTEM_CELLS[table.name]
                queries = [
                    select(*columns).where(text(f"NOT ({condition})")),
                    select(*[c for c in columns if c.name not in written]).where(text(condition)),
                ]
            rows = [row for query in queries for row in session.execute(query)]
            for row in rows:
                for value in row:
                    for leaf in leaves(value):
                        leaf = leaf.strip()
                        if (not leaf.isascii() or len(leaf) >= 3) and not IDENTIFIER.match(leaf):
                            values.add(leaf)
        values.update(session.scalars(select(User.username)))
        # The deployment's name (CSIRT_ORG_NAME) is the operator's text, like a team's name.
        values.add(app.config["CSIRT"].org_name)
        values.update(v for v in TIP.values() if isinstance(v, str) and not v.isascii())
    finally:
        session.close()
    return sorted(values, key=len, reverse=True)


# A tip through the intake service (sealed: its text is nowhere in the database in clear, so
# what the tipster typed is added to the user data by hand).
TIP = {
    "what_happened": "選挙人名簿らしきファイルがレンタルサーバーに置かれている",
    "where_seen": "https://example.invalid/list.csv",
    "when_seen": "2015-06-24",
    "data_items": ["name", "address"],
    "persons_estimate": 680000,
    "reporter_is_insider": True,
    "involved": "選挙管理委員会事務局",
    "whistleblower": True,
}


def send_a_tip(app: Flask) -> None:
    from csirt.intake import reporter
    from csirt.intake import web as intake_web

    session = get_db(app).sessionmaker()
    try:
        reporter.submit(session, intake_web.settings(session, app), dict(TIP), "ja")
        session.commit()
    finally:
        session.close()


def draft_a_press_release(app: Flask) -> None:
    """A draft press release on the demo case through the documents service (its pages)."""
    from csirt.cases.models import Case
    from csirt.catalog.current import current_catalog
    from csirt.documents import service as documents

    config = app.config["CSIRT"]
    env = documents.Environment(
        config.org_name, config.timezone, config.instance_path, current_catalog(app).vocabulary
    )
    session = get_db(app).sessionmaker()
    try:
        lead = session.scalar(select(User).where(User.username == STAFF_LOGINS["lead"]))
        case = session.scalar(select(Case).where(Case.title == demo.DEMO_CASE_TITLE))
        access = documents.get_case_for_documents(session, lead, case.id)
        documents.create_document(session, lead, access, "press_release", "ja", env)
        session.commit()
    finally:
        session.close()


def work_the_case(session: Any, instance: Path) -> None:
    """A day's work on the demo case through the services, so that the pages show what the
    system writes itself: automatic timeline entries of a phase and a priority change, a note,
    an uploaded file with its chain of custody."""
    import io

    from csirt.cases.lifecycle import change_phase, change_priority
    from csirt.cases.models import Case
    from csirt.records.blobs import store_for
    from csirt.records.service import add_evidence, add_note
    from csirt.records.validation import EvidenceInput

    case = session.scalar(select(Case).where(Case.title == demo.DEMO_CASE_TITLE))
    lead = session.scalar(select(User).where(User.username == STAFF_LOGINS["lead"]))
    change_phase(session, case, "analyse", lead)
    change_priority(session, case, "P2", lead, reason="triage")
    change_priority(session, case, "P1", lead, reason="名簿の公開を確認")
    add_note(session, case, lead, "北区の名簿の件数を確認中。")
    add_evidence(
        session,
        store_for(session, instance),
        case,
        lead,
        EvidenceInput("file", "検索キャッシュの保存", "検索結果の画面", None, None),
        io.BytesIO(b"%PDF-1.4\n% cache capture\n"),
        "cache.pdf",
    )
    session.commit()


def fill_the_registers(session: Any, app: Flask) -> None:
    """One row on each page that lists what a monitoring feed, an admin or a register holder
    adds (observables with a hash, an alert, a webhook, an inventory file), through their
    services: the crawl then reaches their detail and correction pages too."""
    from csirt.alerts import service as alerts
    from csirt.cases.models import Case
    from csirt.inventory.service import FileInput, create_file
    from csirt.observables.service import ObservableIn, add_many
    from csirt.webhooks.service import EVENTS, WebhookInput, create_webhook

    case = session.scalar(select(Case).where(Case.title == demo.DEMO_CASE_TITLE))
    lead = session.scalar(select(User).where(User.username == STAFF_LOGINS["lead"]))
    admin = session.scalar(select(User).where(User.username == STAFF_LOGINS["admin"]))
    md5 = "44d88612fea8a8f36de82e1278abb02f"
    observables = [ObservableIn("hash", md5), ObservableIn("url", "hxxp://meibo.example[.]com/a")]
    add_many(session, case, lead, observables, source="console")
    alert = alerts.AlertInput(
        source="siem",
        source_ref="crawl-1",
        type="intrusion",
        title="管理画面への不審なログイン",
        severity="high",
        observables=[{"type": "hash", "value": md5}],
    )
    alerts.raise_alert(session, alert, None)
    hook = WebhookInput("連絡用チャット", "https://chat.example.jp/hook", EVENTS, "amber", "s" * 32)
    create_webhook(session, hook, admin, secret_key=app.config["CSIRT"].secret_key)
    register = FileInput(
        "選挙人名簿", "選挙管理委員会事務局", "選挙の執行", ("氏名", "住所"), 680000, False, None,
        ("選挙システム",), "不可", "永年", "",
    )  # fmt: skip
    create_file(session, admin, register)
    session.commit()


@contextmanager
def staff_logins() -> Iterator[None]:
    """The demo seeded with ordinary staff logins instead of role keys (see STAFF_LOGINS)."""
    from csirt.auth.permissions import Role
    from csirt.teams import demo as teams_demo

    users, teams = dict(demo.DEMO_USERS), teams_demo.DEMO_TEAMS
    old_names = {username: STAFF_LOGINS[role.value] for role, (username, *_) in users.items()}
    for role, (username, display, department) in users.items():
        demo.DEMO_USERS[role] = (old_names[username], display, department)
    teams_demo.DEMO_TEAMS = tuple(
        (slug, name, first, tuple((old_names.get(u, u), skills) for u, skills in members))
        for slug, name, first, members in teams
    )
    try:
        yield
    finally:
        demo.DEMO_USERS.update(users)
        teams_demo.DEMO_TEAMS = teams
        assert Role.ADMIN in demo.DEMO_USERS


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("language")
    url = f"sqlite:///{folder / 'demo.sqlite3'}"
    upgrade(url)
    app = create_app(
        make_config(url, folder / "instance", org_name="堺市 情報セキュリティ対策チーム"),
        interface="all",
    )
    session = get_db(app).sessionmaker()
    with staff_logins():
        logins = demo.seed(session, app.extensions["csirt.hashing"], app.config["CSIRT"])
    session.commit()
    work_the_case(session, app.config["CSIRT"].instance_path)
    fill_the_registers(session, app)
    session.close()
    passwords = {login.role.value: (login.username, login.password) for login in logins}
    send_a_tip(app)
    draft_a_press_release(app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    import threading

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Demo(f"http://127.0.0.1:{server.server_port}", passwords, _user_text(app))
    server.shutdown()


# --- reading a page ---------------------------------------------------------------------------


@dataclass
class PageText:
    texts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    get_forms: list[str] = field(default_factory=list)
    lang: str = ""


class _Reader(HTMLParser):
    """Visible text, label attributes, links and GET forms of one page (the server's HTML)."""

    # Not read: code, what people type into text areas, and (below) elements whose ``lang``
    # says they are in another language on purpose (the language switch's "English"/"日本語").
    SILENT: ClassVar = frozenset({"script", "style", "code", "pre", "textarea", "kbd", "samp"})
    VOID: ClassVar = frozenset(
        {"br", "img", "input", "meta", "link", "hr", "wbr", "source", "col", "area"}
    )

    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = base
        self.out = PageText()
        self.silent = 0
        self.stack: list[str] = []
        self.form: tuple[str, list[tuple[str, str]]] | None = None
        self.select: str | None = None
        self.select_value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.out.lang = a.get("lang", "")
        if tag not in self.VOID:
            foreign = tag != "html" and bool(a.get("lang")) and a.get("lang") != self.out.lang
            self.stack.append(tag + ("!" if foreign else ""))
            if tag in self.SILENT or foreign:
                self.silent += 1
        if not self.silent:
            for name in TEXT_ATTRS:
                if a.get(name):
                    self.out.texts.append(a[name])
            if tag == "input" and a.get("type") in ("submit", "button", "reset"):
                self.out.texts.append(a.get("value", ""))
        if tag == "a" and a.get("href"):
            self.out.links.append(urljoin(self.base, a["href"]))
        if tag == "form":
            method = a.get("method", "get").lower()
            self.form = (urljoin(self.base, a.get("action") or self.base), [])
            if method != "get":
                self.form = None
        if self.form is not None:
            name = a.get("name")
            if tag == "input" and name:
                kind = a.get("type", "text")
                if kind in ("checkbox", "radio"):
                    if "checked" in a:
                        self.form[1].append((name, a.get("value", "on")))
                elif kind not in ("submit", "button", "file"):
                    self.form[1].append((name, a.get("value", "")))
            if tag == "select" and name:
                self.select, self.select_value = name, None
            if (
                tag == "option"
                and self.select is not None
                and (self.select_value is None or "selected" in a)
            ):
                self.select_value = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.form is not None and self.select is not None:
            self.form[1].append((self.select, self.select_value or ""))
            self.select = None
        if tag == "form" and self.form is not None:
            action, values = self.form
            parts = urlsplit(action)
            self.out.get_forms.append(urlunsplit(parts._replace(query=urlencode(values))))
            self.form = None
        if tag in self.VOID:
            return
        while self.stack:
            top = self.stack.pop()
            if top in self.SILENT or top.endswith("!"):
                self.silent -= 1
            if top.rstrip("!") == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.silent and data.strip():
            self.out.texts.append(data.strip())


def read_page(html: str, base: str) -> PageText:
    reader = _Reader(base)
    reader.feed(html)
    return reader.out


# --- the rules --------------------------------------------------------------------------------


def _without_user_text(text: str, site: Demo) -> str:
    """``text`` with what people typed taken out (whole values; truncated ones as a whole)."""
    bare = text.rstrip("…").rstrip(".").strip()
    if bare in site.user_text or (len(bare) >= 8 and bare in site.haystack):
        return ""
    for value in site.user_text:
        if value in text:
            text = text.replace(value, " ")
    return text


def ascii_offences(text: str, site: Demo) -> list[str]:
    """ASCII words a Japanese page should not show."""
    text = _without_user_text(text, site)
    for pattern in ALLOWED_PATTERNS:
        text = pattern.sub(" ", text)
    return [w for w in ASCII_WORD.findall(text) if w not in ALLOWED_ASCII]


def japanese_offences(text: str, site: Demo) -> list[str]:
    """Japanese an English page shows outside user data."""
    text = _without_user_text(text, site)
    return [text] if JAPANESE.search(text) else []


# --- the crawl --------------------------------------------------------------------------------


def _shape(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({k for k, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def _sign_in(page: Any, site: Demo, role: str) -> None:
    login, password = site.passwords[role]
    page.goto(f"{site.url}/console/login")
    page.fill("input[name=username]", login)
    page.fill("input[name=password]", password)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/(\?.*)?$"))


@dataclass
class Crawl:
    visited: list[str] = field(default_factory=list)
    findings: dict[str, list[str]] = field(default_factory=dict)  # page -> offending texts
    errors: list[str] = field(default_factory=list)


def crawl(browser: Any, site: Demo, role: str, lang: str) -> Crawl:
    context = browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-GB", java_script_enabled=False
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    result = Crawl()
    origin = urlsplit(site.url).netloc
    try:
        _sign_in(page, site, role)
        queue = [f"{site.url}/console/"]
        seen: set[str] = set()
        shapes: dict[str, int] = {}
        while queue and len(result.visited) < MAX_PAGES:
            url = queue.pop(0).split("#")[0]
            if url in seen:
                continue
            seen.add(url)
            parts = urlsplit(url)
            if parts.netloc != origin or not parts.path.startswith("/console"):
                continue
            if SKIP.search(url):
                continue
            shape = _shape(url)
            if shapes.get(shape, 0) >= PER_SHAPE:
                continue
            shapes[shape] = shapes.get(shape, 0) + 1
            try:
                response = page.goto(url)
            except PlaywrightError as exc:  # a download (calendar feed, file): not a page
                if "Download is starting" in str(exc):
                    continue
                raise
            status = response.status if response is not None else 0
            if status >= 500:
                result.errors.append(f"{status} {url}")
            if status >= 400 or "text/html" not in (response.headers.get("content-type", "")):
                continue
            result.visited.append(url)
            content = read_page(page.content(), page.url)
            if content.lang != lang:
                result.errors.append(f"{url}: <html lang={content.lang!r}>, expected {lang}")
            check = ascii_offences if lang == "ja" else japanese_offences
            bad = [f"{text!r}: {words}" for text in content.texts if (words := check(text, site))]
            if bad:
                result.findings[url.removeprefix(site.url)] = bad
            queue.extend(content.links + content.get_forms)
    finally:
        context.close()
    return result


_CRAWLS: dict[tuple[str, str], Crawl] = {}


def crawled(browser: Any, site: Demo, role: str, lang: str) -> Crawl:
    if (role, lang) not in _CRAWLS:
        _CRAWLS[(role, lang)] = crawl(browser, site, role, lang)
        report = OUTPUT / "language-crawl"
        report.mkdir(parents=True, exist_ok=True)
        (report / f"{role}-{lang}.json").write_text(
            json.dumps(_CRAWLS[(role, lang)].__dict__, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
    return _CRAWLS[(role, lang)]


def _describe(role: str, lang: str, findings: dict[str, list[str]]) -> str:
    lines = [f"{role} in {lang}: {len(findings)} page(s) speak the other language"]
    for page_url, texts in findings.items():
        lines.append(f"  {page_url}")
        lines += [f"    {text}" for text in texts[:12]]
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_console_page_speaks_one_language(
    browser: Any, demo_site: Demo, role: str, lang: str
) -> None:
    result = crawled(browser, demo_site, role, lang)
    assert not result.errors, "\n".join(result.errors)
    assert len(result.visited) >= 3, result.visited
    assert not result.findings, _describe(role, lang, result.findings)


# --- squeezed columns (JavaScript on, to measure) ---------------------------------------------

SQUEEZED = """() => {
  const out = [];
  for (const cell of document.querySelectorAll('th, td')) {
    const text = cell.innerText.trim();
    if (text.length < 2 || cell.offsetParent === null) continue;
    const em = parseFloat(getComputedStyle(cell).fontSize);
    const width = cell.getBoundingClientRect().width;
    if (width < 2 * em) out.push(`${Math.round(width)}px: ${text.slice(0, 40)}`);
  }
  return out;
}"""


@pytest.mark.parametrize("role", ["lead", "admin", "auditor", "intake_officer"])
def test_no_table_column_is_squeezed(
    browser: Any, demo_site: Demo, role: str, shots_folder: Path
) -> None:
    pages = crawled(browser, demo_site, role, "ja").visited
    context = browser.new_context(locale="ja-JP", viewport={"width": 1024, "height": 900})
    page = context.new_page()
    squeezed: dict[str, list[str]] = {}
    try:
        _sign_in(page, demo_site, role)
        for url in pages:
            page.goto(url)
            cells = page.evaluate(SQUEEZED)
            if cells:
                squeezed[url.removeprefix(demo_site.url)] = cells
                name = re.sub(r"\W+", "-", url.removeprefix(demo_site.url)).strip("-")
                page.screenshot(path=str(shots_folder / f"{role}-{name}.png"), full_page=True)
    finally:
        context.close()
    assert not squeezed, "\n".join(f"{p}: {c[:6]}" for p, c in squeezed.items())


@pytest.fixture
def shots_folder() -> Path:
    folder = OUTPUT / "language-crawl" / "squeezed"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
