"""The texts of notifications (pure), in Japanese or English; content-free for sensitive cases.

A case is sensitive unless its TLP is CLEAR or GREEN. For a sensitive case a message names only
the case reference, the kind of request, a due time and a link: never the title, the summary,
a task's title or anything a reporter wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from csirt.lang import as_lang

NON_SENSITIVE_TLP = frozenset({"clear", "green"})


class Kind:
    PAGE = "page"
    ESCALATION = "escalation"
    ASSIGNMENT = "assignment"
    TASK_DUE = "task_due"
    DEADLINE_DUE = "deadline_due"
    DIGEST = "digest"
    REPORT_NEW = "report_new"
    REPORT_REPLY = "report_reply"
    REPORT_DUE = "report_due"
    TASK_ASSIGNED = "task_assigned"
    MENTION = "mention"
    APPROVAL_REQUEST = "approval_request"
    APPROVED = "approved"
    APPROVAL_REFUSED = "approval_refused"
    ALERT_NEW = "alert_new"


KINDS = (
    Kind.PAGE,
    Kind.ESCALATION,
    Kind.ASSIGNMENT,
    Kind.TASK_DUE,
    Kind.DEADLINE_DUE,
    Kind.DIGEST,
    Kind.REPORT_NEW,
    Kind.REPORT_REPLY,
    Kind.REPORT_DUE,
    Kind.TASK_ASSIGNED,
    Kind.MENTION,
    Kind.APPROVAL_REQUEST,
    Kind.APPROVED,
    Kind.APPROVAL_REFUSED,
    Kind.ALERT_NEW,
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
    Kind.TASK_ASSIGNED: {
        "ja": (
            "事案 {ref} のタスクの担当になりました",
            "事案 {ref} のタスクの担当者に指定されました。コンソールで確認してください。",
        ),
        "en": (
            "A task on case {ref} was assigned to you",
            "You were made an assignee of a task on case {ref}. Please look at it in the console.",
        ),
    },
    Kind.MENTION: {
        "ja": (
            "事案 {ref} であなた宛ての書き込みがあります",
            "事案 {ref} のコメントまたはメモで、あなたの名前が挙げられました。",
        ),
        "en": (
            "You were mentioned on case {ref}",
            "A comment or note on case {ref} mentions you.",
        ),
    },
    Kind.APPROVAL_REQUEST: {
        "ja": (
            "事案 {ref} の文書が承認を待っています",
            "事案 {ref} の文書について、あなたが承認者に指名されました。確認して承認してください。",
        ),
        "en": (
            "A document on case {ref} awaits your approval",
            "You were named to approve a document on case {ref}. Please review it.",
        ),
    },
    Kind.APPROVED: {
        "ja": (
            "事案 {ref} の文書が承認されました",
            "あなたが作成・編集した事案 {ref} の文書が承認されました。",
        ),
        "en": (
            "A document on case {ref} was approved",
            "A document you wrote on case {ref} was approved.",
        ),
    },
    Kind.APPROVAL_REFUSED: {
        "ja": (
            "事案 {ref} の文書が差し戻されました",
            "あなたが作成・編集した事案 {ref} の文書を、責任者が承認せずに差し戻しました。"
            "理由はコンソールの通知で確認してください。",
        ),
        "en": (
            "A document on case {ref} was sent back",
            "A lead sent back a document you wrote on case {ref} without approving it. "
            "The reason is in your notifications in the console.",
        ),
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
    language = as_lang(lang)
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
    language = as_lang(lang)
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


# --- reports at the intake: the number of the report, never a word of what it says ----------

_REPORT_TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    Kind.REPORT_NEW: {
        "ja": (
            "【通報窓口】新しい通報 #{id} を受け付けました",
            (
                "通報窓口に新しい通報（#{id}）が届きました。"
                "コンソールの受付一覧で開き、期限までに通報者へ返信してください。"
            ),
        ),
        "en": (
            "[intake] New report #{id}",
            (
                "A new report (#{id}) has arrived at the intake. Open it in the console inbox "
                "and answer the reporter in time."
            ),
        ),
    },
    Kind.REPORT_REPLY: {
        "ja": (
            "【通報窓口】通報 #{id} に通報者から返信がありました",
            "通報 #{id} に、通報者から新しいメッセージが届きました。コンソールで確認してください。",
        ),
        "en": (
            "[intake] The reporter of report #{id} wrote again",
            "The reporter of report #{id} sent a new message. Read it in the console.",
        ),
    },
    Kind.REPORT_DUE: {
        "ja": (
            "【通報窓口】通報 #{id} の{what}の期限",
            "通報 #{id} について、通報者への{what}の期限は {due} です。",
        ),
        "en": (
            "[intake] Report #{id}: {what} due",
            "On report #{id}, the {what} to the reporter is due {due}.",
        ),
    },
}
# What is due to the reporter, per date of ``csirt.intake.service.answer_dates``.
REPORT_DUE_WHAT = {
    "ja": {
        "ack_due": "受付の連絡",
        "answer_due": "調査を行うかどうかの通知（受付から20日以内）",
        "feedback_due": "対応状況の連絡（3か月以内）",
    },
    "en": {
        "ack_due": "acknowledgement",
        "answer_due": "notice whether it will be investigated (within 20 days)",
        "feedback_due": "feedback (within 3 months)",
    },
}
_REPORT_CLOSING = {
    "ja": "内容はコンソールで確認してください（このメールには通報の内容を記載していません）。",
    "en": "See the console for details (this message deliberately carries no report content).",
}
_CASE_REPLY = {
    "ja": (
        "事案 {ref} に関連する通報に返信がありました",
        (
            "事案 {ref} に関連付けられた通報に、通報者から新しいメッセージが届きました。"
            "内容は通報窓口の担当者が確認します。"
        ),
    ),
    "en": (
        "A report linked to case {ref} has a reply",
        (
            "The reporter of a report linked to case {ref} sent a new message. "
            "The intake officers read it."
        ),
    ),
}


def report_text(
    kind: str, submission_id: int, link: str, lang: str | None, *, what: str = "", due: str = ""
) -> Text:
    """Subject and body of a notification about a report: its number, a date and a link only."""
    language = as_lang(lang)
    subject, first = _REPORT_TEXTS[kind][language]
    values = {
        "id": submission_id,
        "what": REPORT_DUE_WHAT[language].get(what, what),
        "due": due,
    }
    lines = [first.format(**values), "", link, "", _REPORT_CLOSING[language]]
    return Text(subject.format(**values), "\n".join(lines))


def case_report_reply_text(case: CaseRef, link: str, lang: str | None) -> Text:
    """To a case's lead: a reporter answered on a linked report (reference only)."""
    language = as_lang(lang)
    subject, first = _CASE_REPLY[language]
    lines = [first.format(ref=case.reference), "", link, "", _CLOSING[language]]
    return Text(subject.format(ref=case.reference), "\n".join(lines))


# --- machine alerts: the alert's number and severity, never its title or observables --------

_ALERT_TEXT = {
    "ja": (
        "【アラート】新しいアラート #{id}（重大度: {severity}）",
        "新しいアラート（#{id}、重大度: {severity}）が届きました。"
        "コンソールのアラート一覧で確認し、事案への統合・起票または無視を判断してください。",
    ),
    "en": (
        "[alert] New alert #{id} (severity: {severity})",
        "A new alert (#{id}, severity: {severity}) has arrived. Look at it in the console's "
        "alert queue: merge it into a case, open a case, or ignore it.",
    ),
}
_ALERT_CLOSING = {
    "ja": "内容はコンソールで確認してください（このメールにはアラートの内容を記載していません）。",
    "en": "See the console for details (this message deliberately carries no alert content).",
}


_SEVERITY = {"ja": {"low": "低", "medium": "中", "high": "高", "critical": "緊急"}, "en": {}}


def alert_text(alert_id: int, severity: str, link: str, lang: str | None) -> Text:
    """A new alert: its number, its severity and a link only."""
    language = as_lang(lang)
    subject, first = _ALERT_TEXT[language]
    values = {"id": alert_id, "severity": _SEVERITY[language].get(severity, severity)}
    lines = [first.format(**values), "", link, "", _ALERT_CLOSING[language]]
    return Text(subject.format(**values), "\n".join(lines))
