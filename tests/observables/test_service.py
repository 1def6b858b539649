"""Observables through the service: normalisation per type, merging of duplicates with
history, all-or-nothing validation (the contract the alerts package relies on)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from csirt.audit.models import AuditEvent
from csirt.cases import history
from csirt.cases.models import RecordVersion
from csirt.observables import service
from csirt.observables.errors import ObservableNotFoundError, ObservableValidationError
from csirt.observables.models import Observable
from csirt.observables.normalise import (
    ObservableValueError,
    defang,
    guess_type,
    normalise,
    normalise_value,
)
from csirt.observables.service import ObservableIn, add_many


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("ip", " 203.0.113.5 ", "203.0.113.5"),
        ("ip", "203[.]0[.]113[.]5", "203.0.113.5"),
        ("ip", "2001:DB8:0:0::1", "2001:db8::1"),
        ("ip", "[2001:db8::1]", "2001:db8::1"),
        ("domain", "Example[.]COM.", "example.com"),
        ("domain", "例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("domain", "_dmarc.example.com", "_dmarc.example.com"),
        ("url", "hxxps://Evil.Example[.]com/Path?q=A", "https://evil.example.com/Path?q=A"),
        ("url", "HTTP://[2001:DB8::1]:8080/x", "http://[2001:db8::1]:8080/x"),
        ("hash", "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        ("email", "Taro.Yamada@Example[.]JP", "Taro.Yamada@example.jp"),
        ("registry", "hklm\\Software\\Run", "HKEY_LOCAL_MACHINE\\Software\\Run"),
        ("user-agent", "Mozilla/5.0   (X11)", "Mozilla/5.0 (X11)"),
        ("filename", " invoice.pdf.exe ", "invoice.pdf.exe"),
    ],
)
def test_normalise_per_type(kind: str, raw: str, stored: str) -> None:
    assert normalise(kind, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw", "code"),
    [
        ("ip", "203.0.113.256", "ip"),
        ("ip", "010.0.0.1", "ip"),
        ("domain", "localhost", "domain"),
        ("domain", "exa mple.com", "domain"),
        ("url", "example.com/path", "url"),
        ("hash", "xyz", "hash"),
        ("hash", "abc123", "hash-length"),
        ("email", "no-at.example.com", "email"),
        ("registry", "Software\\Run", "registry"),
        ("other", "", "required"),
        ("other", "a\x00b", "control"),
        ("nonsense", "x", "type"),
    ],
)
def test_normalise_refuses(kind: str, raw: str, code: str) -> None:
    with pytest.raises(ObservableValueError) as caught:
        normalise(kind, raw)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


def test_hash_algorithm_checked_against_length() -> None:
    sha256 = "a" * 64
    assert normalise_value("hash", sha256) == (sha256, "sha256")
    with pytest.raises(ObservableValueError) as caught:
        normalise_value("hash", sha256, "sha1")
    assert caught.value.code == "hash-length"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("203.0.113.5", "ip"),
        ("hxxp://bad[.]example/x", "url"),
        ("bad[.]example", "domain"),
        ("a@b.example", "email"),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "hash"),
        ("payload.exe", "filename"),
        ("HKCU\\Software\\x", "registry"),
        ("something else", "other"),
    ],
)
def test_guess_type(raw: str, kind: str) -> None:
    assert guess_type(raw) == kind


def test_defang_for_display() -> None:
    assert defang("url", "http://a.example.com/x.y") == "hxxp://a[.]example[.]com/x.y"
    assert defang("ip", "203.0.113.5") == "203[.]0[.]113[.]5"
    assert defang("email", "a.b@c.example") == "a.b[@]c[.]example"
    assert defang("hash", "abc") == "abc"


def test_add_many_merges_duplicates_with_history(db_session: Session, cases, users) -> None:
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead])
    seen = datetime(2026, 12, 1, tzinfo=UTC)
    first = add_many(
        db_session,
        case,
        lead,
        [
            ObservableIn("ip", "203.0.113.5", tlp="green", tags=("c2",)),
            ObservableIn("domain", "evil[.]example"),
            ObservableIn("ip", "203[.]0.113.5", ioc=True),  # the same value in one batch
        ],
        source="api",
    )
    assert len(first.created) == 2
    assert not first.merged
    assert first.observables[0] is first.observables[2]
    row = first.observables[0]
    assert row.ioc is True
    assert row.source == "api"
    again = add_many(
        db_session,
        case,
        lead,
        [ObservableIn("ip", "203.0.113.5", tlp="red", tags=("vpn",), last_seen=seen)],
        source="misp",
    )
    assert again.merged == [row]
    assert not again.created
    assert row.tlp == "red"  # the stricter TLP wins
    assert row.tags == ["c2", "vpn"]
    assert row.last_seen == seen
    versions = db_session.scalars(
        select(RecordVersion).where(RecordVersion.kind == "observable")
    ).all()
    assert [v.data["tlp"] for v in versions] == ["amber"]  # (the batch merged green + amber)
    assert db_session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.case_id == case.id, AuditEvent.action == "observable.add")
        .order_by(AuditEvent.seq.desc())
    ) == {"created": 0, "merged": 1, "source": "misp"}


def test_add_many_is_all_or_nothing(db_session: Session, cases, users) -> None:
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead])
    with pytest.raises(ObservableValidationError) as caught:
        add_many(
            db_session,
            case,
            lead,
            [ObservableIn("ip", "203.0.113.5"), ObservableIn("hash", "xyz", tlp="purple")],
            source="api",
        )
    assert set(caught.value.errors) == {"items.1.value", "items.1.tlp"}
    assert db_session.scalars(select(Observable).where(Observable.case_id == case.id)).all() == []


def test_edit_delete_restore(db_session: Session, cases, users) -> None:
    lead = users.create(roles=["lead"]).user
    case = cases.create(actor=lead, members=[lead])
    row = add_many(db_session, case, lead, [ObservableIn("domain", "a.example")], source="x")
    obs = row.observables[0]
    base = service.as_input(obs)
    service.edit_observable(
        db_session, case, lead, obs, ObservableIn(**{**base.__dict__, "ioc": True}), "confirmed"
    )
    obs_id = obs.id
    history.delete(db_session, service.OBSERVABLE, case, lead, obs, "typo")
    assert db_session.get(Observable, obs_id) is None
    restored = history.restore(db_session, service.OBSERVABLE, case, lead, obs_id, "back")
    assert restored.id == obs_id
    assert restored.ioc is True
    versions = history.record_history(db_session, service.OBSERVABLE, case, obs_id)
    assert [v.change for v in versions] == ["restore", "delete", "edit"]
    # Deleted again, then the same value added anew: the old one cannot come back.
    history.delete(db_session, service.OBSERVABLE, case, lead, restored, "again")
    add_many(db_session, case, lead, [ObservableIn("domain", "A.example")], source="x")
    with pytest.raises(ObservableNotFoundError):
        history.restore(db_session, service.OBSERVABLE, case, lead, obs_id, "back")
