"""Signals and the review report in words (in the current locale: ja or en) and as files."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale, format_datetime, gettext

from csirt import csvsafe
from csirt.audit_review.models import SignalKind
from csirt.audit_review.service import ReviewReport


def _(message: str, **values: Any) -> str:
    return str(gettext(message, **values))


WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _category(facts: dict[str, Any]) -> str:
    return _("sealed items") if facts.get("category") == "sealed" else _("cases")


def _when(value: Any, tz: ZoneInfo) -> str:
    if not isinstance(value, str):
        return ""
    return str(format_datetime(datetime.fromisoformat(value).astimezone(tz), "short"))


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def explain(kind: str, subject: str, facts: dict[str, Any], tz: ZoneInfo) -> str:
    """One or two sentences saying what was seen and why it stands out."""
    if kind == SignalKind.PEER_VOLUME:
        return _(
            "%(user)s viewed %(count)s different %(what)s within %(minutes)s minutes "
            "(%(first)s to %(last)s). The other %(peers)s users who viewed %(what)s that day "
            "viewed at most a median of %(median)s in any such window; the signal fires above "
            "%(factor)s times the median and at %(minimum)s or more.",
            user=subject,
            count=facts["count"],
            what=_category(facts),
            minutes=facts["window_minutes"],
            first=_when(facts.get("first"), tz),
            last=_when(facts.get("last"), tz),
            peers=facts["peers"],
            median=_number(facts["peer_median"]),
            factor=_number(facts["factor"]),
            minimum=facts["minimum"],
        )
    if kind == SignalKind.BASELINE_VOLUME:
        return _(
            "%(user)s viewed %(what)s %(count)s times that day; over the previous %(days)s days "
            "they averaged %(usual)s a day. The signal fires above %(factor)s times their own "
            "average and at %(minimum)s or more.",
            user=subject,
            what=_category(facts),
            count=facts["count"],
            days=facts["baseline_days"],
            usual=_number(facts["usual"]),
            factor=_number(facts["factor"]),
            minimum=facts["minimum"],
        )
    if kind == SignalKind.OFF_HOURS:
        days = facts.get("work_days") or []
        day_names = "–".join(WEEKDAYS_EN[d] for d in (days[0], days[-1])) if days else ""
        return _(
            "%(user)s viewed or exported records %(count)s times outside working hours "
            "(%(start)s–%(end)s, %(days)s, %(zone)s), from %(first)s to %(last)s. The signal "
            "fires at %(minimum)s or more.",
            user=subject,
            count=facts["count"],
            start=facts["work_start"],
            end=facts["work_end"],
            days=day_names,
            zone=facts["timezone"],
            first=_when(facts.get("first"), tz),
            last=_when(facts.get("last"), tz),
            minimum=facts["minimum"],
        )
    if kind == SignalKind.BULK_EXPORT:
        return _(
            "%(user)s exported %(count)s times within %(minutes)s minutes (%(first)s to "
            "%(last)s). The signal fires at %(minimum)s exports or more in such a window.",
            user=subject,
            count=facts["count"],
            minutes=facts["window_minutes"],
            first=_when(facts.get("first"), tz),
            last=_when(facts.get("last"), tz),
            minimum=facts["minimum"],
        )
    return _("Unknown signal %(kind)s for %(user)s.", kind=kind, user=subject)


def kind_label(kind: str) -> str:
    """A short name of the kind of signal."""
    labels = {
        SignalKind.PEER_VOLUME.value: _("Far more views than peers"),
        SignalKind.BASELINE_VOLUME.value: _("Far more views than usual"),
        SignalKind.OFF_HOURS.value: _("Access outside working hours"),
        SignalKind.BULK_EXPORT.value: _("Bulk exports"),
    }
    return labels.get(kind, kind)


# --- files -------------------------------------------------------------------------------------


def _cell(value: object) -> str:
    """Text for a spreadsheet cell (the writer neutralises a leading formula character)."""
    return "" if value is None else str(value)


def _local(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def report_csv(report: ReviewReport, lang: str) -> str:
    """The report as CSV: one section per table, separated by a blank line."""
    tz = ZoneInfo(report.timezone)
    out = io.StringIO()
    writer = csvsafe.writer(out)
    with force_locale(lang):
        writer.writerow([_("Audit review"), f"{report.year} H{report.half}", report.timezone])
        writer.writerow([])
        writer.writerow([_("Views and exports per user")])
        writer.writerow([_("User"), *report.actions, _("Total")])
        for user in report.users:
            counts = [user.counts.get(action, 0) for action in report.actions]
            writer.writerow([_cell(user.user), *counts, user.total])
        for title, lines in (
            (_("Identity requests and decisions"), report.identity_events),
            (_("Exports"), report.exports),
        ):
            writer.writerow([])
            writer.writerow([title])
            writer.writerow(
                [_("No."), _("When"), _("Who"), _("Action"), _("Object"), _("Case"), _("Reason")]
            )
            for line in lines:
                writer.writerow(
                    [
                        line.seq,
                        _local(line.at, tz),
                        _cell(line.actor),
                        line.action,
                        _cell(f"{line.object_type} {line.object_id}".strip()),
                        line.case_id or "",
                        _cell(line.reason),
                    ]
                )
        writer.writerow([])
        writer.writerow([_("Signals of misuse")])
        writer.writerow([_("No."), _("Kind"), _("Explanation"), _("Status"), _("Review note")])
        for signal in report.signals:
            writer.writerow(
                [
                    signal.id,
                    kind_label(signal.kind),
                    _cell(explain(signal.kind, signal.subject, signal.facts, tz)),
                    _("closed") if signal.status == "closed" else _("open"),
                    _cell(signal.close_note),
                ]
            )
    return out.getvalue()


def report_docx(report: ReviewReport, lang: str, org_name: str) -> bytes:
    """The report as a Word document (A4, the house styles, Japanese fonts for ja)."""
    from csirt.documents import blocks

    tz = ZoneInfo(report.timezone)
    with force_locale(lang):
        document = blocks.new_document(None, lang)
        half = _("January to June") if report.half == 1 else _("July to December")
        document.add_heading(
            _("Audit review %(year)s, %(half)s", year=report.year, half=half), level=1
        )
        document.add_paragraph(org_name)
        document.add_paragraph(
            _(
                "Period: %(start)s to %(end)s (%(zone)s). Source: the hash-chained audit log.",
                start=_local(report.start, tz),
                end=_local(report.end, tz),
                zone=report.timezone,
            )
        )
        document.add_heading(_("Views and exports per user"), level=2)
        if report.users:
            width = 16.0 / (len(report.actions) + 2)
            blocks.table(
                document,
                [_("User"), *report.actions, _("Total")],
                [
                    [u.user, *(str(u.counts.get(a, 0)) for a in report.actions), str(u.total)]
                    for u in report.users
                ],
                [width] * (len(report.actions) + 2),
            )
        else:
            document.add_paragraph(_("None in this period."))
        for title, lines in (
            (_("Identity requests and decisions"), report.identity_events),
            (_("Exports"), report.exports),
        ):
            document.add_heading(title, level=2)
            if not lines:
                document.add_paragraph(_("None in this period."))
                continue
            blocks.table(
                document,
                [_("When"), _("Who"), _("Action"), _("Object"), _("Reason")],
                [
                    [
                        _local(line.at, tz),
                        line.actor,
                        line.action,
                        f"{line.object_type} {line.object_id}".strip(),
                        line.reason,
                    ]
                    for line in lines
                ],
                [3.0, 2.5, 3.0, 3.0, 4.5],
            )
        document.add_heading(_("Signals of misuse"), level=2)
        if not report.signals:
            document.add_paragraph(_("None in this period."))
        for signal in report.signals:
            status = _("closed") if signal.status == "closed" else _("open")
            document.add_paragraph(f"{kind_label(signal.kind)} ({status})", style="List Bullet")
            document.add_paragraph(explain(signal.kind, signal.subject, signal.facts, tz))
            if signal.close_note:
                document.add_paragraph(_("Review note: %(note)s", note=signal.close_note))
        buffer = io.BytesIO()
        document.save(buffer)
    return buffer.getvalue()
