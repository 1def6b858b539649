"""The texts of notifications (pure), in Japanese or English; content-free for sensitive cases.

A case is sensitive unless its TLP is CLEAR or GREEN. For a sensitive case a message names only
the case reference, the kind of request, a due time and a link: never the title, the summary,
a task's title or anything a reporter wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

NON_SENSITIVE_TLP = frozenset({"clear", "green"})


class Kind:
    PAGE = "page"
    ESCALATION = "escalation"
    ASSIGNMENT = "assignment"
    TASK_DUE = "task_due"
    DEADLINE_DUE = "deadline_due"
    DIGEST = "digest"


KINDS = (
    Kind.PAGE,
    Kind.ESCALATION,
    Kind.ASSIGNMENT,
    Kind.TASK_DUE,
    Kind.DEADLINE_DUE,
    Kind.DIGEST,
)

# (subject, first line) per kind and language; {ref} is the case reference.
_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    Kind.PAGE: {
        "ja": (
            "【至急】P1 事案 {ref} の初動対応",
            "P1 事案 {ref} が発生しました。オンコール担当として確認・応答してください。",
        ),
        "en": (
            "[urgent] P1 case {ref}: first response",
            "P1 case {ref} needs you as the on-call person. Please acknowledge.",
        ),
    },
    Kind.ESCALATION: {
        "ja": (
            "【至急・エスカレーション】P1 事案 {ref}",
            (
                "P1 事案 {ref} の呼出しに応答がありませんでした。"
                "あなたに引き継がれました。応答してください。"
            ),
        ),
        "en": (
            "[urgent, escalated] P1 case {ref}",
            (
                "Nobody acknowledged P1 case {ref} in time; it has been passed to you. "
                "Please acknowledge."
            ),
        ),
    },
    Kind.ASSIGNMENT: {
        "ja": (
            "事案 {ref} の担当になりました",
            "事案 {ref} の {role} に指名されました。確認して応答してください。",
        ),
        "en": (
            "You were assigned to case {ref}",
            "You were assigned to case {ref} as {role}. Please acknowledge.",
        ),
    },
    Kind.TASK_DUE: {
        "ja": ("事案 {ref} のタスク期限", "事案 {ref} のあなたのタスクの期限は {due} です。"),
        "en": ("Task due on case {ref}", "A task of yours on case {ref} is due {due}."),
    },
    Kind.DEADLINE_DUE: {
        "ja": ("事案 {ref} の法定期限", "事案 {ref} の報告・通知の期限は {due} です。"),
        "en": ("Legal deadline on case {ref}", "A report or notice on case {ref} is due {due}."),
    },
}
_CLOSING = {
    "ja": "内容はコンソールで確認してください（このメールには事案の内容を記載していません）。",
    "en": "See the console for details (this message deliberately carries no case content).",
}
_TITLE_LINE = {"ja": "件名: {title}", "en": "Title: {title}"}
ROLE_NAMES = {
    "ja": {
        "lead": "対応責任者",
        "investigator": "調査担当",
        "privacy_officer": "個人情報保護担当",
        "pr": "広報担当",
        "legal": "法務担当",
    },
    "en": {
        "lead": "lead",
        "investigator": "investigator",
        "privacy_officer": "privacy officer",
        "pr": "public relations",
        "legal": "legal",
    },
}


@dataclass(frozen=True)
class CaseRef:
    """What a message may know about a case."""

    id: int
    reference: str
    tlp: str
    title: str

    @property
    def sensitive(self) -> bool:
        return self.tlp not in NON_SENSITIVE_TLP


@dataclass(frozen=True)
class Text:
    subject: str
    body: str


def _lang(lang: str | None) -> str:
    return lang if lang in ("ja", "en") else "ja"


def case_text(
    kind: str,
    case: CaseRef,
    link: str,
    lang: str | None,
    *,
    role: str | None = None,
    due: str = "",
) -> Text:
    """Subject and body of a notification about a case (content-free when sensitive)."""
    language = _lang(lang)
    subject, first = _TEXTS[kind][language]
    role_name = ROLE_NAMES[language].get(role or "", role or "")
    values = {"ref": case.reference, "role": role_name, "due": due}
    lines = [first.format(**values)]
    if not case.sensitive:
        lines.append(_TITLE_LINE[language].format(title=case.title))
    lines += ["", link, "", _CLOSING[language]]
    return Text(subject.format(**values), "\n".join(lines))


def digest_text(
    lang: str | None, *, date_label: str, lines: list[str], unread: int, link: str
) -> Text:
    """The daily digest: references and due times only."""
    language = _lang(lang)
    if language == "ja":
        subject = f"[csirt] {date_label} の業務ダイジェスト"
        head = [f"未読の通知: {unread} 件", "期限が近い・過ぎた項目:"]
        empty = "（なし）"
    else:
        subject = f"[csirt] Your digest for {date_label}"
        head = [f"Unread notifications: {unread}", "Due soon or overdue:"]
        empty = "(none)"
    body = head + ([f"- {line}" for line in lines] or [empty]) + ["", link, "", _CLOSING[language]]
    return Text(subject, "\n".join(body))


def format_due(moment: datetime, tz_name: str) -> str:
    """A due time in the configured zone, e.g. ``2026-01-02 09:00 (Asia/Tokyo)``."""
    from zoneinfo import ZoneInfo

    return f"{moment.astimezone(ZoneInfo(tz_name)).strftime('%Y-%m-%d %H:%M')} ({tz_name})"
