"""The observables API through the test client: the outside check, sightings with need-to-know,
STIX / MISP export read back by their own libraries, import round trips, bad input."""

from __future__ import annotations

import json

import stix2
from pymisp import MISPEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.auth import service as auth_service
from tests.factories import FACTORY

IP = "203.0.113.5"


def _token(db_session: Session, user, scopes=("read", "write")) -> dict[str, str]:
    _row, plain = auth_service.create_token(
        db_session, user, name="t", actor=FACTORY, scopes=scopes
    )
    db_session.commit()
    return {"Authorization": f"Bearer {plain}"}


def _actions(db_session: Session, case_id: int) -> list[str]:
    return list(db_session.scalars(select(AuditEvent.action).where(AuditEvent.case_id == case_id)))


def test_outside_check(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    first = cases.create(actor=lead, members=[lead], title="一件目", commit=True)
    second = cases.create(actor=lead, members=[lead], title="二件目", commit=True)
    headers = _token(db_session, lead)
    body = {"type": "ip", "value": IP, "tlp": "amber", "ioc": True}
    made = client.post(f"/api/v1/cases/{first.id}/observables", json=body, headers=headers)
    assert made.status_code == 201, made.json
    assert made.json["value"] == IP
    assert made.json["value_defanged"] == "203[.]0[.]113[.]5"
    other = client.post(f"/api/v1/cases/{second.id}/observables", json=body, headers=headers)
    assert other.status_code == 201
    listed = client.get(f"/api/v1/cases/{first.id}/observables", headers=headers)
    assert listed.status_code == 200
    seen = listed.json["items"][0]["sightings"]
    assert [c["case_id"] for c in seen["cases"]] == [second.id]
    assert seen["hidden"] == 0  # a lead sees the count of hidden matches
    exported = client.get(f"/api/v1/cases/{first.id}/export/stix", headers=headers)
    assert exported.status_code == 200
    bundle = stix2.parse(exported.get_data(as_text=True))
    indicators = [o for o in bundle.objects if o.type == "indicator"]
    assert [o.pattern for o in indicators] == [f"[ipv4-addr:value = '{IP}']"]
    assert any(o.type == "report" for o in bundle.objects)
    assert any(o.type == "observed-data" for o in bundle.objects)
    misp = client.get(f"/api/v1/cases/{first.id}/export/misp", headers=headers)
    assert misp.status_code == 200
    event = MISPEvent()
    event.load(misp.get_data(as_text=True))
    assert IP in [a.value for a in event.attributes]
    assert "observable.export" in _actions(db_session, first.id)


def test_sightings_respect_need_to_know(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    responder = users.create(roles=["responder"]).user
    mine = cases.create(actor=lead, members=[responder], commit=True)
    visible = cases.create(actor=lead, members=[responder], title="見える事案", commit=True)
    hidden = cases.create(actor=lead, members=[lead], title="見えない事案", commit=True)
    lead_headers = _token(db_session, lead)
    for case in (mine, visible, hidden):
        client.post(
            f"/api/v1/cases/{case.id}/observables",
            json={"type": "domain", "value": "evil[.]example"},
            headers=lead_headers,
        )
    headers = _token(db_session, responder)
    listed = client.get(f"/api/v1/cases/{mine.id}/observables", headers=headers)
    seen = listed.json["items"][0]["sightings"]
    assert [c["case_id"] for c in seen["cases"]] == [visible.id]
    assert seen["hidden"] is None  # only leads learn of matches they may not see
    assert "見えない事案" not in listed.get_data(as_text=True)
    looked = client.get(
        "/api/v1/observables/sightings?type=domain&value=EVIL.example", headers=headers
    )
    assert looked.status_code == 200
    assert looked.json["value"] == "evil.example"
    assert sorted(c["case_id"] for c in looked.json["sightings"]["cases"]) == [mine.id, visible.id]
    as_lead = client.get(f"/api/v1/cases/{mine.id}/observables", headers=lead_headers)
    assert as_lead.json["items"][0]["sightings"]["visible"] == 2
    # The responder is not on the hidden case: 404, the same as a missing case.
    assert client.get(f"/api/v1/cases/{hidden.id}/observables", headers=headers).status_code == 404


def test_bulk_paste_1000_merge_and_history(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead], commit=True)
    headers = _token(db_session, lead)
    items = [{"type": "ip", "value": f"198.51.{i // 250}.{i % 250}"} for i in range(1000)]
    made = client.post(
        f"/api/v1/cases/{case.id}/observables/bulk", json={"items": items}, headers=headers
    )
    assert made.status_code == 200, made.json
    assert (made.json["created"], made.json["merged"]) == (1000, 0)
    again = client.post(
        f"/api/v1/cases/{case.id}/observables/bulk",
        json={"items": [{"type": "ip", "value": "198.51.0.1", "tags": ["vpn"]}]},
        headers=headers,
    )
    assert (again.json["created"], again.json["merged"]) == (0, 1)
    row_id = again.json["items"][0]["id"]
    url = f"/api/v1/cases/{case.id}/observables/{row_id}"
    patched = client.patch(url, json={"ioc": True, "reason": "C2 と確認"}, headers=headers)
    assert patched.status_code == 200, patched.json
    assert patched.json["ioc"] is True
    assert patched.json["tags"] == ["vpn"]
    history = client.get(url + "/history", headers=headers).json["items"]
    assert [v["change"] for v in history] == ["edit", "edit"]
    assert history[0]["reason"] == "C2 と確認"
    gone = client.delete(url, json={"reason": "誤登録"}, headers=headers)
    assert gone.status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    back = client.post(url + "/restore", json={"reason": "戻す"}, headers=headers)
    assert back.status_code == 200
    assert back.json["id"] == row_id
    page = client.get(f"/api/v1/cases/{case.id}/observables?limit=200", headers=headers).json
    assert len(page["items"]) == 200
    assert page["next_cursor"]


def test_bad_input_is_a_problem(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead], commit=True)
    headers = _token(db_session, lead)
    url = f"/api/v1/cases/{case.id}/observables"
    for body, field in (
        ({"type": "ip", "value": "203.0.113.256"}, "value"),
        ({"type": "hash", "value": "abc", "hash_algorithm": "md5"}, "value"),
        ({"type": "bogus", "value": "x"}, "type"),
        ({"type": "ip", "value": IP, "tlp": "purple"}, "tlp"),
        ({"type": "ip", "value": IP, "ioc": "yes"}, "ioc"),
        ({"type": "ip"}, "value"),
    ):
        refused = client.post(url, json=body, headers=headers)
        assert refused.status_code == 422, (body, refused.json)
        assert field in refused.json["errors"], refused.json
    bulk = client.post(
        url + "/bulk",
        json={"items": [{"type": "ip", "value": IP}, {"type": "url", "value": "nope"}]},
        headers=headers,
    )
    assert bulk.status_code == 422
    assert "items.1.value" in bulk.json["errors"]
    assert client.get(url, headers=headers).json["items"] == []  # nothing half-written
    for path in ("import/stix", "import/misp"):
        bad = client.post(f"/api/v1/cases/{case.id}/{path}", json={"x": 1}, headers=headers)
        assert bad.status_code == 422, bad.json
        text = client.post(f"/api/v1/cases/{case.id}/{path}", data="nope", headers=headers)
        assert text.status_code == 422
    lookup = client.get("/api/v1/observables/sightings?type=ip&value=nope", headers=headers)
    assert lookup.status_code == 422
    techniques = client.put(
        f"/api/v1/cases/{case.id}/techniques", json={"techniques": ["T9999"]}, headers=headers
    )
    assert techniques.status_code == 422


def test_read_token_cannot_write(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead], commit=True)
    headers = _token(db_session, lead, scopes=("read",))
    url = f"/api/v1/cases/{case.id}/observables"
    assert client.get(url, headers=headers).status_code == 200
    assert client.post(url, json={"type": "ip", "value": IP}, headers=headers).status_code == 403


def test_import_round_trip_and_red(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    source = cases.create(actor=lead, members=[lead], commit=True)
    headers = _token(db_session, lead)
    url = f"/api/v1/cases/{source.id}/observables/bulk"
    items = [
        {"type": "url", "value": "hxxps://Bad.Example[.]com/x", "ioc": True, "tlp": "green"},
        {"type": "hash", "value": "d41d8cd98f00b204e9800998ecf8427e", "pap": "green"},
        {"type": "email", "value": "phish@example[.]jp"},
        {"type": "registry", "value": "HKCU\\Software\\Run\\x"},
        {"type": "ip", "value": "192.0.2.99", "tlp": "red"},
    ]
    assert client.post(url, json={"items": items}, headers=headers).status_code == 200
    put = client.put(
        f"/api/v1/cases/{source.id}/techniques",
        json={"techniques": ["T1567", "t1078.004"]},
        headers=headers,
    )
    assert put.status_code == 200, put.json
    assert [t["id"] for t in put.json["items"]] == ["T1078.004", "T1567"]
    for fmt in ("stix", "misp"):
        exported = client.get(f"/api/v1/cases/{source.id}/export/{fmt}", headers=headers)
        text = exported.get_data(as_text=True)
        assert "192.0.2.99" not in text  # TLP:RED stays in unless asked for
        with_red = client.get(
            f"/api/v1/cases/{source.id}/export/{fmt}?include_red=true", headers=headers
        )
        assert "192.0.2.99" in with_red.get_data(as_text=True)
        target = cases.create(actor=lead, members=[lead], commit=True)
        imported = client.post(
            f"/api/v1/cases/{target.id}/import/{fmt}",
            data=text,
            content_type="application/json",
            headers=headers,
        )
        assert imported.status_code == 200, imported.json
        assert imported.json["created"] == 4, imported.json
        rows = client.get(f"/api/v1/cases/{target.id}/observables", headers=headers).json
        values = {(r["type"], r["value"]): r for r in rows["items"]}
        assert values[("url", "https://bad.example.com/x")]["ioc"] is True
        assert values[("url", "https://bad.example.com/x")]["tlp"] == "green"
        assert values[("hash", "d41d8cd98f00b204e9800998ecf8427e")]["pap"] == "green"
        assert ("registry", "HKEY_CURRENT_USER\\Software\\Run\\x") in values
        techniques = client.get(f"/api/v1/cases/{target.id}/techniques", headers=headers).json
        assert {t["id"] for t in techniques["items"]} == {"T1567", "T1078.004"}
        # Importing the same file again merges everything into what is there.
        again = client.post(
            f"/api/v1/cases/{target.id}/import/{fmt}",
            data=text,
            content_type="application/json",
            headers=headers,
        )
        assert again.json["created"] == 0
        assert "observable.import" in _actions(db_session, target.id)
    event = json.loads(client.get(f"/api/v1/cases/{source.id}/export/misp", headers=headers).text)
    assert any("T1567" in tag["name"] for tag in event["Tag"])


def test_event_techniques_and_search(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead], commit=True)
    headers = _token(db_session, lead)
    made = client.post(
        f"/api/v1/cases/{case.id}/timeline",
        json={"occurred_at": "2026-11-02", "title": "クラウドへの持ち出し"},
        headers=headers,
    )
    event_id = made.json["id"]
    put = client.put(
        f"/api/v1/cases/{case.id}/timeline/{event_id}/techniques",
        json={"techniques": ["T1567.002"]},
        headers=headers,
    )
    assert put.status_code == 200, put.json
    assert put.json["items"][0]["event_ids"] == [event_id]
    assert put.json["version"] == "18.1"
    found = client.get("/api/v1/attack/techniques?q=exfiltration over web", headers=headers)
    assert "T1567" in [t["id"] for t in found.json["items"]]
    from csirt.cases.models import Case
    from csirt.observables.techniques import technique_clause

    hits = db_session.scalars(select(Case.id).where(technique_clause(["T1567"]))).all()
    assert hits == [case.id]  # T1567 finds its sub-technique on an event


def test_red_case_title_only_when_asked(client, db_session: Session, users, cases):
    lead = users.create(roles=["lead"]).user
    case = cases.create(
        actor=lead,
        members=[lead],
        title="秘匿すべき件名",
        tlp="red",
        involved=["人事課 佐藤"],  # the people named in a case never leave
        commit=True,
    )
    headers = _token(db_session, lead)
    client.post(
        f"/api/v1/cases/{case.id}/observables",
        json={"type": "ip", "value": IP},
        headers=headers,
    )

    def text(response) -> str:  # stix2 writes non-ASCII as \u escapes
        return json.dumps(json.loads(response.get_data(as_text=True)), ensure_ascii=False)

    for fmt in ("stix", "misp"):
        plain = text(client.get(f"/api/v1/cases/{case.id}/export/{fmt}", headers=headers))
        assert "秘匿すべき件名" not in plain
        assert IP in plain  # the observable itself is amber
        url = f"/api/v1/cases/{case.id}/export/{fmt}?include_red=true"
        with_red = text(client.get(url, headers=headers))
        assert "秘匿すべき件名" in with_red
        assert "佐藤" not in with_red


def test_a_case_with_nothing_to_share_exports_a_valid_bundle(
    client, db_session: Session, users, cases
):
    # Found by the watched-actions test: a Report may not refer to a marking definition only.
    lead = users.create(roles=["lead"]).user
    empty = cases.create(actor=lead, members=[lead], title="まだ何もない", commit=True)
    exported = client.get(f"/api/v1/cases/{empty.id}/export/stix", headers=_token(db_session, lead))
    assert exported.status_code == 200, exported.text
    bundle = stix2.parse(exported.get_data(as_text=True))
    (report,) = [o for o in bundle.objects if o.type == "report"]
    (author,) = [o for o in bundle.objects if o.type == "identity"]
    assert report.object_refs == [author.id]
    assert report.created_by_ref == author.id
