"""The observables tab through the test client (console forms, no JavaScript): add, refuse bad
values, paste with a preview, correct, techniques, export and import files."""

from __future__ import annotations

import io

import stix2
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.catalog.current import current_catalog
from csirt.observables.models import Observable
from tests.conftest import csrf_from


def _rows(db_session: Session, case_id: int) -> list[Observable]:
    db_session.expire_all()
    return list(db_session.scalars(select(Observable).where(Observable.case_id == case_id)))


def test_tab_add_paste_preview_and_save(client, db_session: Session, login_as, cases):
    lead = login_as("lead")
    case = cases.create(actor=lead, members=[lead], commit=True)
    url = f"/console/cases/{case.id}/observables"
    page = client.get(url)
    assert page.status_code == 200
    token = csrf_from(page.text)
    bad = client.post(url, data={"csrf_token": token, "type": "ip", "value": "999.1.1.1"})
    assert bad.status_code == 422
    assert "IPv4" in bad.text
    added = client.post(
        url,
        data={"csrf_token": token, "type": "url", "value": "hxxp://evil[.]example/a"},
    )
    assert added.status_code == 302
    shown = client.get(url).text
    assert "hxxp://evil[.]example/a" in shown  # displayed defanged
    assert "http://evil.example/a" not in shown
    text = "\n".join(["203.0.113.7", "bad[.]example", "not a hash zz", "# a comment", ""])
    preview = client.post(
        url + "/paste",
        data={"csrf_token": token, "paste-text": text, "paste-tlp": "green", "paste-ioc": "y"},
    )
    assert preview.status_code == 200
    assert "203[.]0[.]113[.]7" in preview.text
    assert _rows(db_session, case.id)[0].type == "url"  # nothing saved by the preview
    saved = client.post(
        url + "/paste/save",
        data={
            "csrf_token": token,
            "paste-tlp": "green",
            "paste-pap": "amber",
            "paste-ioc": "y",
            "line": ["203.0.113.7", "bad[.]example", "not a hash zz"],
            "line_type": ["ip", "domain", "other"],
            "include": ["0", "1"],
        },
    )
    assert saved.status_code == 302, saved.text
    rows = {(r.type, r.value): r for r in _rows(db_session, case.id)}
    assert set(rows) == {("url", "http://evil.example/a"), ("ip", "203.0.113.7"),
                         ("domain", "bad.example")}  # fmt: skip
    assert rows[("ip", "203.0.113.7")].ioc is True
    assert rows[("ip", "203.0.113.7")].tlp == "green"
    refused = client.post(
        url + "/paste/save",
        data={"csrf_token": token, "line": ["zz"], "line_type": ["hash"], "include": ["0"]},
    )
    assert refused.status_code == 422  # the preview again, with the line's error


def test_correct_delete_and_techniques(client, app, db_session: Session, login_as, cases):
    lead = login_as("lead")
    malware = current_catalog(app).playbooks["malware"]
    case = cases.create(actor=lead, members=[lead], commit=True, playbooks=[malware])
    url = f"/console/cases/{case.id}/observables"
    page = client.get(url)
    token = csrf_from(page.text)
    assert "T1486" in page.text  # suggested by the malware playbook
    client.post(url, data={"csrf_token": token, "type": "domain", "value": "a.example"})
    row = _rows(db_session, case.id)[0]
    edit_url = f"{url}/{row.id}/edit"
    form = client.get(edit_url)
    assert form.status_code == 200
    edited = client.post(
        edit_url,
        data={"csrf_token": token, "type": "domain", "value": "b.example", "tlp": "red",
              "pap": "amber", "reason": "綴りの訂正"},
    )  # fmt: skip
    assert edited.status_code == 302, edited.text
    assert "綴りの訂正" in client.get(edit_url).text
    bad = client.post(url + "/techniques", data={"csrf_token": token, "techniques": "T1486 T0000"})
    assert bad.status_code == 422
    good = client.post(url + "/techniques", data={"csrf_token": token, "techniques": "t1486"})
    assert good.status_code == 302
    assert "Data Encrypted for Impact" in client.get(url).text
    deleted = client.post(f"{url}/{row.id}/delete", data={"csrf_token": token, "reason": "誤り"})
    assert deleted.status_code == 302
    assert _rows(db_session, case.id) == []


def test_export_and_import_files(client, db_session: Session, login_as, cases):
    lead = login_as("lead")
    case = cases.create(actor=lead, members=[lead], commit=True)
    url = f"/console/cases/{case.id}/observables"
    token = csrf_from(client.get(url).text)
    client.post(url, data={"csrf_token": token, "type": "ip", "value": "192.0.2.1", "tlp": "red",
                           "pap": "amber"})  # fmt: skip
    client.post(url, data={"csrf_token": token, "type": "ip", "value": "192.0.2.2", "tlp": "amber",
                           "pap": "amber"})  # fmt: skip
    plain = client.get(url + "/export/stix")
    assert plain.status_code == 200
    assert "attachment" in plain.headers["Content-Disposition"]
    assert "192.0.2.1" not in plain.text
    assert "192.0.2.2" in plain.text
    stix2.parse(plain.text)
    red = client.get(url + "/export/misp?include_red=1")
    assert "192.0.2.1" in red.text
    assert client.get(url + "/export/csv").status_code == 404
    other = cases.create(actor=lead, members=[lead], commit=True)
    other_url = f"/console/cases/{other.id}/observables"
    done = client.post(
        other_url + "/import",
        data={"csrf_token": token, "format": "misp", "file": (io.BytesIO(red.data), "e.json")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 302, done.text
    assert {r.value for r in _rows(db_session, other.id)} == {"192.0.2.1", "192.0.2.2"}
    broken = client.post(
        other_url + "/import",
        data={"csrf_token": token, "format": "stix", "file": (io.BytesIO(b"{]"), "x.json")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422


def test_responder_outside_the_case_gets_404(client, db_session: Session, login_as, cases, users):
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead], commit=True)
    login_as("responder")
    assert client.get(f"/console/cases/{case.id}/observables").status_code == 404
