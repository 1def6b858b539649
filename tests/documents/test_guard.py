from __future__ import annotations

import pytest

from csirt.demo_story import founding_facts
from csirt.documents.builders import KINDS, default_sections
from csirt.documents.guard import (
    FindingKind,
    ForbiddenTerms,
    PublicTextRefusedError,
    check_public_text,
    crockford,
    forbidden_for_case,
    is_my_number,
)
from csirt.vault.receipts import new_receipt

FACTS = founding_facts()
CONTACT = FACTS.organisation.contact
RECEIPT = "7KQ2-M9XD-4TZB-PW3H-Q8RN"
FORBIDDEN = forbidden_for_case(
    reporter_identity=["山田太郎", "taro.yamada@example.net"],
    sealed_terms=["鈴木花子", "090-1234-5678", "大阪府堺市北区新金岡町"],
    receipts=[RECEIPT],
    public_phone=CONTACT.phone,
    public_email=CONTACT.email,
)

# (text slipped into a section, what the guard must call it)
CASES = [
    ("通報者は山田太郎氏である。", FindingKind.REPORTER_IDENTITY),
    ("連絡先 taro.yamada@example.net まで", FindingKind.REPORTER_IDENTITY),
    ("関係者の鈴木花子から聞き取った。", FindingKind.SEALED_DATA),
    ("住所は大阪府堺市北区新金岡町である。", FindingKind.SEALED_DATA),
    ("連絡は090-1234-5678へ", FindingKind.SEALED_DATA),
    (f"受付番号 {RECEIPT}", FindingKind.RECEIPT),
    ("電話 06-6123-4567 まで", FindingKind.PHONE),
    ("call +1 415 555 0100 today", FindingKind.PHONE),
    ("メール someone@example.org へ", FindingKind.EMAIL),
    ("個人番号 1234 5678 9018 を確認", FindingKind.MY_NUMBER),
]


def _sections_with(kind: str, key: str, text: str) -> dict[str, str]:
    sections = default_sections(kind, FACTS)
    sections[key] = f"{sections[key]}\n{text}"
    return sections


@pytest.mark.parametrize("kind", KINDS)
def test_demo_default_sections_are_clean(kind: str) -> None:
    # The organisation's own public phone and e-mail are in the contact sections: allowed.
    sections = default_sections(kind, FACTS)
    assert check_public_text(sections, FORBIDDEN) == []


@pytest.mark.parametrize(("text", "kind"), CASES)
@pytest.mark.parametrize("doc_kind", KINDS)
def test_each_forbidden_kind_is_caught_in_every_section(
    doc_kind: str, text: str, kind: FindingKind
) -> None:
    for key in default_sections(doc_kind, FACTS):
        findings = check_public_text(_sections_with(doc_kind, key, text), FORBIDDEN)
        assert [(f.section, f.kind) for f in findings] == [(key, kind)], key


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("通報者は山　田 太　郎氏", FindingKind.REPORTER_IDENTITY),
        ("ＴＡＲＯ．ＹＡＭＡＤＡ＠ＥＸＡＭＰＬＥ．ＮＥＴ", FindingKind.REPORTER_IDENTITY),
        ("電話０９０－１２３４－５６７８", FindingKind.SEALED_DATA),
        ("電話 ０９０ １２３４ ５６７８", FindingKind.SEALED_DATA),
        ("電話（09012345678）", FindingKind.SEALED_DATA),
        ("電話０６（６１２３）４５６７", FindingKind.PHONE),
        ("電話 ０６−６１２３−４５６７", FindingKind.PHONE),
        ("番号１２３４５６７８９０１８", FindingKind.MY_NUMBER),
        ("ｓｏｍｅｏｎｅ＠ｅｘａｍｐｌｅ．ｏｒｇ", FindingKind.EMAIL),
        ("受付 7kq2-m9xd-4tzb-pw3h-q8rn", FindingKind.RECEIPT),
        ("受付 ７ＫＱ２－Ｍ９ＸＤ－４ＴＺＢ－ＰＷ３Ｈ－Ｑ８ＲＮ", FindingKind.RECEIPT),
        ("receipt 7KQ2-M9XD-4TZB-PWEH-Q8RN-ABCD", FindingKind.RECEIPT),
    ],
)
def test_width_case_and_space_variants_are_caught(text: str, kind: FindingKind) -> None:
    findings = check_public_text({"overview": text}, FORBIDDEN)
    assert [f.kind for f in findings] == [kind]


def test_organisation_contact_is_allowed_in_any_form() -> None:
    text = (
        f"問い合わせ：{CONTACT.phone}、０７２－０００－００００、+81 72 000 0000、"
        f"{CONTACT.email.upper()}"
    )
    assert check_public_text({"contact": text}, FORBIDDEN) == []
    # Without the allowance the same contact is reported.
    bare = ForbiddenTerms()
    kinds = [f.kind for f in check_public_text({"contact": text}, bare)]
    assert kinds == [FindingKind.PHONE] * 3 + [FindingKind.EMAIL]


@pytest.mark.parametrize(
    "text",
    [
        "2015年6月24日 20:00 に通報",
        "約680,000人、約1,000名、11名",
        "2015-06-24 から 2015-09-24 まで",
        "事案番号 SAKAI-2015-001",
        "123456789012 は検査用数字が合わない",
        "平成23年11月27日執行の大阪府知事選挙",
        "ABCD-EFGH-JKMN-PQRS-TVWX",  # no digits: a word list, not a random code
    ],
)
def test_ordinary_numbers_and_codes_pass(text: str) -> None:
    assert check_public_text({"overview": text}, ForbiddenTerms()) == []


def test_excerpt_is_masked_and_names_the_section() -> None:
    findings = check_public_text(
        {"lead": "a", "cause": "本件は通報者山田太郎によるもので、受付番号は" + RECEIPT + "。"},
        FORBIDDEN,
    )
    assert [(f.section, f.kind) for f in findings] == [
        ("cause", FindingKind.REPORTER_IDENTITY),
        ("cause", FindingKind.RECEIPT),
    ]
    for finding in findings:
        assert "山田" not in finding.excerpt
        assert "太郎" not in finding.excerpt
        assert "M9XD" not in finding.excerpt.upper()
        assert "■" in finding.excerpt
    assert findings[0].excerpt.startswith("本件は通報者")


def test_short_terms_are_ignored_but_long_ones_are_not() -> None:
    terms = ForbiddenTerms(sealed_terms=("山", "", " "))
    assert check_public_text({"s": "山田さん"}, terms) == []


def test_sealed_number_matched_whatever_the_separators() -> None:
    terms = ForbiddenTerms(sealed_terms=("03 1234 5678",))
    found = check_public_text({"s": "自宅(03)1234-5678"}, terms)
    assert [f.kind for f in found] == [FindingKind.SEALED_DATA]


def test_my_number_check_digit() -> None:
    assert is_my_number("123456789018")
    assert not is_my_number("123456789012")
    assert not is_my_number("12345678901")
    assert not is_my_number("12345678901a")
    # A remainder of 0 or 1 gives check digit 0; P1 (weight 2) = 6 gives remainder 1.
    assert is_my_number("000000000000")
    assert is_my_number("000000000060")
    assert not is_my_number("000000000061")
    # P1 = 1: remainder 2, check digit 9.
    assert is_my_number("000000000019")


def test_my_number_all_check_digits() -> None:
    body = "31415926535"
    valid = [d for d in "0123456789" if is_my_number(body + d)]
    assert len(valid) == 1


def test_crockford_normalisation() -> None:
    assert crockford("7kq2-m9xd") == "7KQ2M9XD"
    assert crockford("ILO0") == "1100"
    assert crockford("ｏｌ－ｉ") == "011"


def test_refusal_error_names_sections_and_kinds() -> None:
    findings = check_public_text({"contact": "someone@example.org"}, FORBIDDEN)
    error = PublicTextRefusedError(findings)
    assert error.findings == findings
    assert "contact: email" in str(error)
    assert "someone" not in str(error)


def test_every_issued_receipt_is_refused_however_it_is_spaced() -> None:
    # Receipts not known to the case: the guard finds them by shape and check symbol alone.
    for _ in range(1_500):
        compact = new_receipt().replace("-", "")
        for size in (2, 3, 4, 6):
            spaced = " ".join(compact[i : i + size] for i in range(0, 24, size)).lower()
            findings = check_public_text({"overview": f"受付番号は {spaced} です。"}, FORBIDDEN)
            assert [f.kind for f in findings] == [FindingKind.RECEIPT], spaced
