"""A case's activity: the changes of the case from the audit log, in plain words (ja/en).

Only the actions listed here are shown (an allow-list): changes, not reads, and nothing about
sealed reports or the reporter's identity. No details of an audit row are shown, only who, when
and what kind of change, so no tip text and no sealed data can reach the page. The global audit
log keeps the full detail for auditors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.actions import AuditAction as A
from csirt.audit.models import AuditEvent
from csirt.cases.models import Case
from csirt.lang import LocalText as T

KINDS: dict[str, T] = {
    "case": T(ja="事案", en="Case"),
    "task": T(ja="タスク", en="Tasks"),
    "timeline": T(ja="時系列", en="Timeline"),
    "record": T(ja="記録", en="Records"),
    "triage": T(ja="トリアージ", en="Triage"),
    "team": T(ja="体制", en="Team"),
    "document": T(ja="文書", en="Documents"),
}

ACTIVITY: dict[A, tuple[str, T]] = {
    A.CASE_CREATE: ("case", T(ja="事案を作成しました", en="created the case")),
    A.CASE_UPDATE: ("case", T(ja="事案の内容を変更しました", en="changed the case")),
    A.CASE_PRIORITY: ("case", T(ja="優先度を変更しました", en="changed the priority")),
    A.CASE_PHASE: ("case", T(ja="対応段階を変更しました", en="changed the phase")),
    A.CASE_CLOSE: ("case", T(ja="事案を終結しました", en="closed the case")),
    A.CASE_CHECKLIST: ("case", T(ja="終結チェックリストを更新しました", en="ticked the checklist")),
    A.CASE_TAGS: ("case", T(ja="タグを変更しました", en="changed the tags")),
    A.CASE_LINK: ("case", T(ja="関連事案を結び付けました", en="linked a related case")),
    A.CASE_UNLINK: ("case", T(ja="関連事案の結び付けを外しました", en="unlinked a related case")),
    A.CASE_PLAYBOOK: ("case", T(ja="対応手順を適用しました", en="applied a playbook")),
    A.CASE_ACKNOWLEDGE: ("case", T(ja="事案の受領を確認しました", en="acknowledged the case")),
    A.ALERT_MERGE: ("case", T(ja="アラートを事案に統合しました", en="merged an alert")),
    A.ALERT_OPEN_CASE: ("case", T(ja="アラートから起票しました", en="opened it from an alert")),
    A.CASE_PAGE: ("team", T(ja="当番の責任者を呼び出しました", en="paged the on-call lead")),
    A.CASE_PAGE_ESCALATE: ("team", T(ja="呼び出しを上位者へ回しました", en="escalated the page")),
    A.CASE_MEMBER_ADD: ("team", T(ja="担当者を追加しました", en="added a member")),
    A.TASK_CREATE: ("task", T(ja="タスクを追加しました", en="added a task")),
    A.TASK_UPDATE: ("task", T(ja="タスクを更新しました", en="updated a task")),
    A.TASK_COMMENT: ("task", T(ja="タスクにコメントしました", en="commented on a task")),
    A.TASK_EDIT: ("task", T(ja="タスクを訂正しました", en="corrected a task")),
    A.TASK_DELETE: ("task", T(ja="タスクを削除しました", en="deleted a task")),
    A.TASK_RESTORE: ("task", T(ja="削除されたタスクを復元しました", en="restored a task")),
    A.TIMELINE_ADD: ("timeline", T(ja="時系列に出来事を追加しました", en="added an event")),
    A.TIMELINE_IMPORT: ("timeline", T(ja="時系列を取り込みました", en="imported events")),
    A.TIMELINE_EXPORT: ("timeline", T(ja="時系列を書き出しました", en="exported the timeline")),
    A.TIMELINE_EDIT: ("timeline", T(ja="時系列の出来事を訂正しました", en="corrected an event")),
    A.TIMELINE_DELETE: ("timeline", T(ja="時系列の出来事を削除しました", en="deleted an event")),
    A.TIMELINE_RESTORE: (
        "timeline",
        T(ja="削除された出来事を復元しました", en="restored an event"),
    ),
    A.DATASET_CREATE: ("record", T(ja="漏えい等の対象データを追加しました", en="added a data set")),
    A.DATASET_UPDATE: ("record", T(ja="対象データを変更しました", en="changed a data set")),
    A.DATASET_DELETE: ("record", T(ja="対象データを削除しました", en="deleted a data set")),
    A.DATASET_RESTORE: (
        "record",
        T(ja="削除された対象データを復元しました", en="restored a data set"),
    ),
    A.EVIDENCE_ADD: ("record", T(ja="証拠を登録しました", en="added evidence")),
    A.EVIDENCE_CUSTODY: ("record", T(ja="証拠の保管記録を追加しました", en="recorded custody")),
    A.EVIDENCE_DOWNLOAD: ("record", T(ja="証拠をダウンロードしました", en="downloaded evidence")),
    A.TAKEDOWN_CREATE: ("record", T(ja="削除依頼を登録しました", en="added a takedown request")),
    A.TAKEDOWN_UPDATE: ("record", T(ja="削除依頼を更新しました", en="updated a takedown request")),
    A.NOTE_CREATE: ("record", T(ja="メモを追加しました", en="added a note")),
    A.NOTE_UPDATE: ("record", T(ja="メモを変更しました", en="changed a note")),
    A.NOTE_DELETE: ("record", T(ja="メモを削除しました", en="deleted a note")),
    A.NOTE_RESTORE: ("record", T(ja="削除されたメモを復元しました", en="restored a note")),
    A.LIAISON_CREATE: ("record", T(ja="連絡記録を追加しました", en="added a liaison entry")),
    A.LIAISON_UPDATE: ("record", T(ja="連絡記録を訂正しました", en="corrected a liaison entry")),
    A.LIAISON_DELETE: ("record", T(ja="連絡記録を削除しました", en="deleted a liaison entry")),
    A.LIAISON_RESTORE: (
        "record",
        T(ja="削除された連絡記録を復元しました", en="restored a liaison entry"),
    ),
    A.INQUIRY_CREATE: ("record", T(ja="問い合わせを記録しました", en="recorded an inquiry")),
    A.INQUIRY_UPDATE: ("record", T(ja="問い合わせを更新しました", en="updated an inquiry")),
    A.TRIAGE_RUN: ("triage", T(ja="トリアージを再評価しました", en="re-ran the triage")),
    A.TRIAGE_PRIORITY_OVERRIDE: (
        "triage",
        T(ja="責任者が優先度を指定しました", en="a lead set the priority"),
    ),
    A.TRIAGE_PRIORITY_OVERRIDE_CLEARED: (
        "triage",
        T(ja="優先度の指定を解除しました", en="cleared the lead's priority"),
    ),
    A.TRIAGE_OBLIGATION_DONE: (
        "triage",
        T(ja="報告・通知義務を完了にしました", en="marked an obligation done"),
    ),
    A.TRIAGE_CONTRACTOR_NOTICE: (
        "triage",
        T(ja="委託元への通知を記録しました", en="recorded the notice to the principal"),
    ),
    A.DOCUMENT_CREATE: ("document", T(ja="文書の下書きを作成しました", en="drafted a document")),
    A.DOCUMENT_EDIT: ("document", T(ja="文書を編集しました", en="edited a document")),
    A.DOCUMENT_CONTEXT_EDIT: (
        "document",
        T(ja="文書の記載事項を編集しました", en="edited a document's details"),
    ),
    A.DOCUMENT_COMMENT: ("document", T(ja="文書にコメントしました", en="commented on a document")),
    A.DOCUMENT_APPROVE: ("document", T(ja="文書を承認しました", en="approved a document")),
    A.DOCUMENT_APPROVAL_REQUEST: (
        "document",
        T(ja="文書の承認を依頼しました", en="asked for a document's approval"),
    ),
    A.DOCUMENT_APPROVAL_REFUSE: (
        "document",
        T(ja="文書の承認を差し戻しました", en="refused a document's approval"),
    ),
    A.DOCUMENT_WITHDRAW: (
        "document",
        T(ja="使われていない下書きを取り下げました", en="withdrew an unused draft"),
    ),
    A.DOCUMENT_EXPORT: ("document", T(ja="文書を出力しました", en="exported a document")),
    A.DOCUMENT_EXPORT_REFUSED: (
        "document",
        T(ja="公開前チェックで出力が止められました", en="an export was refused by the check"),
    ),
    A.MEASURE_SAVE: ("document", T(ja="再発防止策を保存しました", en="saved a measure")),
}


@dataclass(frozen=True)
class Activity:
    """One change of a case in plain words."""

    seq: int
    at: datetime
    actor: str
    action: str
    kind: str
    text: T


@dataclass(frozen=True)
class ActivityPage:
    items: list[Activity]
    next_seq: int | None


def actions_of(kind: str | None) -> list[str]:
    """The audit actions shown for ``kind`` (every kind when None)."""
    return [action.value for action, (k, _text) in ACTIVITY.items() if kind in (None, k)]


def case_activity(
    session: Session,
    case: Case,
    *,
    kind: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> ActivityPage:
    """The case's changes, newest first, keyset-paginated on the audit sequence number."""
    query = select(AuditEvent.seq, AuditEvent.at, AuditEvent.actor, AuditEvent.action).where(
        AuditEvent.case_id == case.id, AuditEvent.action.in_(actions_of(kind))
    )
    if before is not None:
        query = query.where(AuditEvent.seq < before)
    rows = session.execute(query.order_by(AuditEvent.seq.desc()).limit(limit + 1)).all()
    items = []
    for seq, at, actor, action in rows[:limit]:
        kind_of, text = ACTIVITY[A(action)]
        items.append(Activity(seq, at, actor, action, kind_of, text))
    next_seq = items[-1].seq if len(rows) > limit else None
    return ActivityPage(items, next_seq)
