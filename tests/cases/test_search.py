"""Case search over timeline events, data sets, tags and ``involved`` (issue 18 item 7).

Through the services that own the records (the session hook keeps the index), the case list
in the console, the ``csirt search reindex`` command; on SQLite and, with
``CSIRT_TEST_BACKEND=postgres``, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from csirt.cases import search
from csirt.cases.listing import CaseFilters, list_cases
from csirt.cases.models import Case, CaseSearchDoc, CaseSearchTerm
from csirt.cases.tagging import set_tags
from csirt.cases.timeline import EventInput, add_event, add_events
from csirt.records import service as records
from csirt.records.validation import DatasetInput

WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def found(session: Session, user: Any, q: str) -> set[int]:
    page = list_cases(session, user, filters=CaseFilters(q=q), limit=100)
    return {c.id for c in page.items}


def dataset(name: str, holder: str = "") -> DatasetInput:
    return DatasetInput(name, holder, ("name",), 10, False, "internal", None, None, False, "")


def test_every_kind_of_text_is_found_and_named(db_session: Session, make_case, lead):
    case = make_case(title="端末の紛失", summary="", involved=["会計室", "suzuki"])
    other = make_case(title="別件")
    add_event(
        db_session,
        case,
        lead,
        EventInput(WHEN, "minute", "ＶＰＮ機器へ不審なログイン", description="攻撃者は深夜に接続"),
    )
    records.add_dataset(db_session, case, lead, dataset("国民健康保険台帳", "保険年金課"))
    set_tags(db_session, case, ["ランサムウェア"], lead)
    db_session.flush()

    expectations = {
        "vpn機器": "timeline",  # NFKC and case-folded: ＶＰＮ matches vpn
        "深夜に接続": "timeline",
        "健康保険": "dataset",
        "保険年金": "dataset",
        "ランサム": "tag",
        "会計室": "involved",
        "SUZUKI": "involved",
        "紛失": "title",
    }
    for query, kind in expectations.items():
        page = list_cases(db_session, lead, filters=CaseFilters(q=query), limit=100)
        assert [c.id for c in page.items if c.id in (case.id, other.id)] == [case.id], query
        assert page.hits[case.id] == [kind], query
    # Several words: each must be in the case (any text), in any order.
    assert case.id in found(db_session, lead, "接続 健康")
    assert case.id not in found(db_session, lead, "接続 存在しない")
    # Every bigram of 紛失会計 is in the case, but no single text holds the word: no hit.
    assert case.id not in found(db_session, lead, "紛失会計")
    # One character: the prefix range of the index.
    assert case.id in found(db_session, lead, "台")
    assert other.id not in found(db_session, lead, "台")
    # LIKE wildcards are searched for, not interpreted.
    assert case.id not in found(db_session, lead, "%_")


def test_the_index_follows_edits_and_deletions(db_session: Session, make_case, lead):
    case = make_case(title="庁内LANの障害")
    event = add_event(
        db_session, case, lead, EventInput(WHEN, "minute", "ファイアウォール設定変更")
    )
    data = records.add_dataset(db_session, case, lead, dataset("児童手当受給者一覧"))
    db_session.flush()
    assert case.id in found(db_session, lead, "ファイアウォール")

    event.title = "ルーター再起動"
    db_session.flush()
    assert case.id not in found(db_session, lead, "ファイアウォール")
    assert case.id in found(db_session, lead, "ルーター")

    records.delete_dataset(db_session, case, lead, data.id, "誤登録")
    assert case.id not in found(db_session, lead, "児童手当")
    records.restore_dataset(db_session, case, lead, data.id)
    db_session.flush()
    assert case.id in found(db_session, lead, "児童手当")

    set_tags(db_session, case, ["標的型"], lead)
    db_session.flush()
    assert case.id in found(db_session, lead, "標的")
    set_tags(db_session, case, [], lead)
    db_session.flush()
    assert case.id not in found(db_session, lead, "標的")

    case.involved = ["情報政策課"]
    db_session.flush()
    assert case.id in found(db_session, lead, "情報政策")

    # A CSV import writes with Core INSERTs: the timeline service reindexes explicitly.
    add_events(db_session, case, lead, [EventInput(WHEN, "minute", "バックアップから復旧")])
    assert case.id in found(db_session, lead, "バックアップ")
    # The texts kept by the hook are exactly what a rebuild from scratch writes; the hook may
    # leave bigrams no text holds any more (the LIKE check rejects them), never miss one.
    docs, terms = _index_rows(db_session, case.id)
    db_session.execute(delete(CaseSearchDoc).where(CaseSearchDoc.case_id == case.id))
    db_session.execute(delete(CaseSearchTerm).where(CaseSearchTerm.case_id == case.id))
    search.reindex(db_session, [case.id])
    rebuilt_docs, rebuilt_terms = _index_rows(db_session, case.id)
    assert rebuilt_docs == docs
    assert rebuilt_terms <= terms


def _index_rows(session: Session, case_id: int) -> tuple[set[tuple[str, int, str]], set[str]]:
    docs = session.execute(
        select(CaseSearchDoc.kind, CaseSearchDoc.source_id, CaseSearchDoc.text).where(
            CaseSearchDoc.case_id == case_id
        )
    )
    terms = session.scalars(select(CaseSearchTerm.term).where(CaseSearchTerm.case_id == case_id))
    return {tuple(row) for row in docs}, set(terms)  # type: ignore[misc]


def test_need_to_know_and_the_console_list(client, login_as, db_session: Session, cases, users):
    owner = users.create(roles=["lead"]).user
    hidden = cases.create(title="非公開の事案", actor=owner)
    add_event(db_session, hidden, owner, EventInput(WHEN, "minute", "内部通報による発覚"))
    responder = login_as("responder")
    mine = cases.create(title="公開サイト改ざん", actor=owner, members=[responder])
    add_event(db_session, mine, owner, EventInput(WHEN, "minute", "内部通報の受理"))
    db_session.commit()

    page = client.get(
        "/console/cases/", query_string={"q": "内部通報"}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200
    assert mine.reference in page.text
    assert hidden.reference not in page.text
    assert "Found in: Timeline" in page.text
    assert found(db_session, responder, "内部通報") == {mine.id}
    # A one-character query and an empty one are no error either.
    assert client.get("/console/cases/", query_string={"q": "内"}).status_code == 200
    assert client.get("/console/cases/", query_string={"q": "  "}).status_code == 200


def test_reindex_command_rebuilds_everything(runner, db_session: Session, make_case, lead):
    case = make_case(title="メール誤送信", summary="宛先を誤った")
    add_event(db_session, case, lead, EventInput(WHEN, "minute", "受信者へ削除依頼"))
    db_session.commit()
    expected = _index_rows(db_session, case.id)
    db_session.execute(delete(CaseSearchDoc))
    db_session.execute(delete(CaseSearchTerm))
    db_session.commit()
    assert case.id not in found(db_session, lead, "削除依頼")

    result = runner.invoke(args=["search", "reindex", "--batch", "2"])
    assert result.exit_code == 0, result.output
    assert "cases reindexed" in result.output
    assert _index_rows(db_session, case.id) == expected
    assert case.id in found(db_session, lead, "削除依頼")
    assert runner.invoke(args=["search", "reindex", "--batch", "0"]).exit_code == 2


def test_terms_and_words():
    assert search.terms_of(["", "a"]) == {"a "}
    assert search.query_terms(" ") == (set(), None)
    assert search.query_words(" Ａ  b a ") == ["a", "b"]
    assert len(search.query_words(" ".join(str(n) for n in range(20)))) == search.MAX_WORDS


def test_bulk_seeded_cases_are_indexed(db_session: Session, lead):
    """The benchmark's bulk cases (Core INSERTs) get their texts and bigrams too."""
    from csirt.demo import bulk_seed

    bulk_seed(db_session, cases=3, events_per_case=2)
    newest = db_session.scalars(select(Case.id).order_by(Case.id.desc()).limit(3)).all()
    assert set(newest) <= found(db_session, lead, "事象 2")
    page = list_cases(db_session, lead, filters=CaseFilters(q="事象 2"), limit=3)
    assert page.hits[newest[0]] == ["timeline"]


def test_common_bigrams_take_the_seek_path(db_session: Session, make_case, lead, monkeypatch):
    """When every bigram of a word is common (here: RARE lowered to 0), each case is checked by
    primary-key seeks, newest first; the answers are the same."""
    case = make_case(title="庁舎の停電", involved=["総務課"])
    add_event(db_session, case, lead, EventInput(WHEN, "minute", "非常用電源へ切替"))
    db_session.flush()
    monkeypatch.setattr(search, "RARE", 0)
    assert case.id in found(db_session, lead, "非常用電源")
    assert case.id in found(db_session, lead, "停電 総務")
    assert case.id not in found(db_session, lead, "停電総務")
    assert case.id not in found(db_session, lead, "非常用電池")


def test_observables_and_attack_techniques(db_session: Session, make_case, lead, app):
    """Observables (value, description, tags) and ATT&CK techniques (id and name) are found."""
    from csirt.catalog.current import current_catalog
    from csirt.observables import service as observables
    from csirt.observables.techniques import set_techniques

    case = make_case(title="不審な通信")
    item = observables.ObservableIn(
        "domain", "evil-cdn[.]example", description="C2 サーバー", tags=("初期侵入",)
    )
    observables.add_many(db_session, case, lead, [item], source="console")
    set_techniques(db_session, case, lead, current_catalog(app).attack, ["T1566.001"])
    db_session.flush()

    for query, kind in (
        ("evil-cdn.example", "observable"),
        ("C2 サーバー", "observable"),
        ("初期侵入", "observable"),
        ("t1566.001", "attack"),
        ("Spearphishing Attachment", "attack"),
    ):
        page = list_cases(db_session, lead, filters=CaseFilters(q=query), limit=100)
        assert case.id in {c.id for c in page.items}, query
        assert kind in page.hits[case.id], query
    set_techniques(db_session, case, lead, current_catalog(app).attack, [])
    db_session.flush()
    assert case.id not in found(db_session, lead, "t1566")


def test_a_long_query_is_searched_by_a_sample_of_its_bigrams(db_session: Session, make_case):
    long_title = "個人情報を含む電子ファイルを誤って外部の事業者へ電子メールで送信した事案"
    case = make_case(title=long_title)
    lead = case.created_by
    assert found(db_session, lead, long_title) >= {case.id}
    assert case.id not in found(db_session, lead, long_title.replace("外部", "内部"))
