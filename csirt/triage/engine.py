"""The triage engine: facts in, score, priority, factors, JNSA damage and obligations out."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from csirt.lang import Lang, LocalText
from csirt.triage.damage import (
    DamageEstimate,
    best_identifiability,
    estimate_damage,
    labels,
)
from csirt.triage.deadlines import due_at
from csirt.triage.facts import DatasetFacts, Facts
from csirt.triage.rules import Basis, DueSpec, PriorityRule, Rules
from csirt.triage.vocabulary import Item, Vocabulary


@dataclass(frozen=True)
class Factor:
    """One contribution to the score, with its reason."""

    key: str
    points: int
    why: LocalText

    def reason(self, lang: Lang) -> str:
        """The reason in ``lang``."""
        return self.why.get(lang)


@dataclass(frozen=True)
class DueObligation:
    """A duty the engine found, with its due date (the case tracks it as a
    ``triage.models.Obligation`` row until done)."""

    regime: str
    kind: str
    article: str
    requirement: LocalText
    due_at: dt.datetime
    why: LocalText
    checked: dt.date
    status: str = "pending"
    # The organisation's earlier internal target, if any (due_at stays the legal deadline).
    target_at: dt.datetime | None = None
    # legal | guidance | internal | window: what kind of date due_at is (rules.DEADLINE_KINDS).
    deadline: str = "legal"
    source: str = ""

    def basis(self, lang: Lang) -> str:
        """``article: requirement`` in ``lang``."""
        return f"{self.article}: {self.requirement.get(lang)}"


@dataclass(frozen=True)
class ResponseTargets:
    acknowledge_within_hours: int
    contain_within_hours: int


@dataclass(frozen=True)
class TriageResult:
    """The explained outcome of triage."""

    score: int
    priority: str
    priority_label: LocalText
    response_targets: ResponseTargets
    factors: tuple[Factor, ...]
    damage: DamageEstimate
    obligations: tuple[DueObligation, ...]
    reportable: bool
    reasons: tuple[LocalText, ...]
    notes: tuple[LocalText, ...]

    def obligation(self, kind: str) -> DueObligation | None:
        """The obligation of ``kind``, if any."""
        return next((o for o in self.obligations if o.kind == kind), None)

    def to_json(self, lang: Lang = "ja") -> dict[str, Any]:
        """The API shape of issue 5 item 7, texts in ``lang``."""
        damage = self.damage
        return {
            "score": self.score,
            "priority": self.priority,
            "priority_label": self.priority_label.get(lang),
            "response_targets": {
                "acknowledge_within_hours": self.response_targets.acknowledge_within_hours,
                "contain_within_hours": self.response_targets.contain_within_hours,
            },
            "factors": [
                {"key": f.key, "points": f.points, "reason": f.reason(lang)} for f in self.factors
            ],
            "damage_estimate": {
                "per_person_jpy": damage.per_person_jpy,
                "total_jpy": damage.total_jpy,
                "persons": damage.persons,
                "formula": damage.formula(lang),
                "coefficients": {
                    c.key: {"value": c.value, "explanation": c.explanation(lang)}
                    for c in damage.coefficients
                },
                "datasets": [
                    {
                        "items": list(d.items),
                        "persons": d.persons,
                        "per_person_jpy": d.per_person_jpy,
                        "subtotal_jpy": d.subtotal_jpy,
                    }
                    for d in damage.datasets
                ],
            },
            "obligations": [
                {
                    "regime": o.regime,
                    "kind": o.kind,
                    "basis": o.basis(lang),
                    "article": o.article,
                    "due_at": o.due_at.isoformat(),
                    "status": o.status,
                    "reason": o.why.get(lang),
                    "checked": o.checked.isoformat(),
                    "target_at": o.target_at.isoformat() if o.target_at else None,
                    "deadline": o.deadline,
                    "source": o.source,
                }
                for o in self.obligations
            ],
            "reportable": self.reportable,
            "reasons": [r.get(lang) for r in self.reasons],
            "notes": [n.get(lang) for n in self.notes],
        }


# --- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Exposed:
    """What the engine derives once from the facts, in a canonical (order-free) form."""

    plain: tuple[DatasetFacts, ...]  # not highly encrypted, sorted
    encrypted: tuple[DatasetFacts, ...]
    items: tuple[Item, ...]  # union over plain data sets, vocabulary order
    persons: int  # over plain data sets
    encrypted_persons: int
    sensitive: tuple[Item, ...]
    financial: tuple[Item, ...]


def _canonical(datasets: Iterable[DatasetFacts]) -> tuple[DatasetFacts, ...]:
    return tuple(
        sorted(
            (
                DatasetFacts(
                    items=tuple(sorted(set(d.items))),
                    persons=d.persons,
                    persons_estimated=d.persons_estimated,
                    encrypted=d.encrypted,
                    exposure=d.exposure,
                )
                for d in datasets
            ),
            key=lambda d: (d.items, d.persons, d.persons_estimated, d.encrypted, d.exposure or ""),
        )
    )


def _derive(facts: Facts, vocabulary: Vocabulary) -> _Exposed:
    datasets = _canonical(facts.datasets)
    plain = tuple(d for d in datasets if not d.encrypted)
    encrypted = tuple(d for d in datasets if d.encrypted)
    keys = {key for d in plain for key in d.items}
    unknown = sorted(keys - set(vocabulary))
    if unknown:
        raise ValueError(f"unknown vocabulary items: {', '.join(unknown)}")
    items = tuple(vocabulary[k] for k in vocabulary if k in keys)
    return _Exposed(
        plain=plain,
        encrypted=encrypted,
        items=items,
        persons=sum(d.persons for d in plain),
        encrypted_persons=sum(d.persons for d in encrypted),
        sensitive=tuple(i for i in items if i.sensitive),
        financial=tuple(i for i in items if i.financial),
    )


def evaluate(facts: Facts, rules: Rules, tz: ZoneInfo) -> TriageResult:
    """Score the facts, pick the priority, estimate the damage and list the obligations."""
    if facts.aware_at.tzinfo is None:
        raise ValueError("aware_at must be time-zone aware")
    if facts.contractor_notice_at is not None and facts.contractor_notice_at.tzinfo is None:
        raise ValueError("contractor_notice_at must be time-zone aware")
    exposed = _derive(facts, rules.vocabulary)
    reportable, reasons = _appi_reportable(facts, exposed, rules)
    mynumber = _mynumber_reportable(facts, exposed, rules)
    appi_applies = rules.regimes["appi"].jurisdiction in facts.jurisdictions
    factors = _factors(facts, exposed, rules, (reportable or bool(mynumber)) and appi_applies)
    score = min(rules.scoring.max_score, sum(f.points for f in factors))
    priority = rules.priority_for(score)
    damage = estimate_damage(facts, exposed.plain, exposed.persons, rules)
    obligations = _obligations(
        facts, exposed, rules, tz, reportable, reasons, priority, mynumber_reasons=mynumber
    )
    return TriageResult(
        score=score,
        priority=priority.id,
        priority_label=priority.label,
        response_targets=ResponseTargets(
            priority.acknowledge_within_hours, priority.contain_within_hours
        ),
        factors=factors,
        damage=damage,
        obligations=obligations,
        reportable=reportable and appi_applies,
        reasons=tuple(reasons) if appi_applies else (),
        notes=_notes(facts, exposed, rules),
    )


def _appi_reportable(facts: Facts, exposed: _Exposed, rules: Rules) -> tuple[bool, list[LocalText]]:
    """Whether the APPI reporting duty applies (報告対象事態) and why."""
    rule = rules.appi_reportable
    if facts.effective_exposure == "internal" and not rule.internal_exposure_counts:
        return False, []
    reasons: list[LocalText] = []
    if exposed.sensitive:
        reasons.append(
            LocalText(
                f"要配慮個人情報を含む（{labels(exposed.sensitive, 'ja')}）",
                f"includes sensitive personal data ({labels(exposed.sensitive, 'en')})",
            )
        )
    if exposed.financial:
        reasons.append(
            LocalText(
                f"財産的被害のおそれ（{labels(exposed.financial, 'ja')}）",
                f"risk of financial damage ({labels(exposed.financial, 'en')})",
            )
        )
    if facts.wrongful_intent:
        # The exemption for highly encrypted data covers every type (規則7条1号, 43条1号:
        # "以下この条…において同じ"). Reporting anyway is only this organisation's own policy.
        # Under "exempt" a data set that is not highly encrypted must be known (so that adding
        # a highly encrypted data set never makes a case less reportable).
        if exposed.plain:
            reasons.append(LocalText("不正の目的によるおそれ", "wrongful intent suspected"))
        elif rule.encryption == "report_if_wrongful_intent":
            reasons.append(
                LocalText(
                    "不正の目的によるおそれ（高度な暗号化の措置を講じたデータ以外の漏えいは"
                    "未確認だが、鍵が漏えいしたおそれがあるため当組織の方針により報告対象と"
                    "する。法令上は報告対象外）",
                    "wrongful intent suspected (no data known other than highly encrypted "
                    "data; reported under this organisation's own policy because the key may "
                    "be compromised; the law exempts it)",
                )
            )
    if facts.org_kind == "local_government":
        ordinance_keys = (
            facts.ordinance_sensitive_items
            if facts.ordinance_sensitive_items is not None
            else rule.ordinance_sensitive_items
        )
        ordinance = tuple(i for i in exposed.items if i.key in ordinance_keys)
        if ordinance:
            reasons.append(
                LocalText(
                    f"条例要配慮個人情報を含む（{labels(ordinance, 'ja')}）"
                    "（個人情報保護法施行規則43条5号）",
                    f"includes personal data the ordinance makes sensitive "
                    f"({labels(ordinance, 'en')}) (APPI Rules Art. 43(5))",
                )
            )
    threshold = rule.persons_more_than[facts.org_kind]
    if exposed.persons > threshold:
        reasons.append(
            LocalText(
                f"本人の数 {exposed.persons:,}人が{threshold:,}人を超える",
                f"{exposed.persons:,} persons, more than {threshold:,}",
            )
        )
    return bool(reasons), reasons


def _mynumber_reportable(facts: Facts, exposed: _Exposed, rules: Rules) -> list[LocalText]:
    """Why a leak of specific personal information must be reported (番号法29条の4), if so."""
    rule = rules.mynumber_reportable
    if rule is None:
        return []
    if (
        facts.effective_exposure == "internal"
        and not rules.appi_reportable.internal_exposure_counts
    ):
        return []
    # Highly encrypted data sets are excluded (番号法報告規則2条1号 "以下同じ").
    sets = [d for d in exposed.plain if rule.item in d.items]
    if not sets:
        return []
    reasons: list[LocalText] = []
    persons = sum(d.persons for d in sets)
    if persons > rule.persons_more_than:
        reasons.append(
            LocalText(
                f"個人番号を含む本人の数 {persons:,}人が{rule.persons_more_than:,}人を超える"
                "（番号法報告規則2条4号）",
                f"{persons:,} persons' My Number, more than {rule.persons_more_than:,} "
                "(My Number reporting rule Art. 2(4))",
            )
        )
    if rule.wrongful_intent and facts.wrongful_intent:
        reasons.append(
            LocalText(
                "不正の目的によるおそれがある特定個人情報の漏えい等（同規則2条2号）",
                "specific personal information, wrongful intent suspected (Art. 2(2))",
            )
        )
    exposures = {facts.exposure, *(d.exposure for d in sets if d.exposure is not None)}
    if exposures & rule.exposures:
        reasons.append(
            LocalText(
                "特定個人情報が不特定多数の者に閲覧され、又は閲覧されるおそれ（同規則2条3号）",
                "specific personal information viewable by an unspecified number of people "
                "(Art. 2(3))",
            )
        )
    return reasons


def _round(value: float) -> int:
    """Round half up; monotone, unlike nothing else needed here."""
    return math.floor(value + 0.5)


def _factors(facts: Facts, exposed: _Exposed, rules: Rules, reportable: bool) -> tuple[Factor, ...]:
    scoring = rules.scoring
    factors: list[Factor] = []

    weighted = exposed.persons + scoring.persons.encrypted_weight * exposed.encrypted_persons
    persons_points = min(
        scoring.persons.max_points,
        _round(scoring.persons.points_per_tenfold * math.log10(1 + weighted)),
    )
    if persons_points > 0:
        estimated = any(d.persons_estimated for d in exposed.plain + exposed.encrypted)
        ja = f"影響を受ける本人 {exposed.persons:,}人"
        en = f"{exposed.persons:,} persons affected"
        if exposed.encrypted_persons:
            weight = f"{scoring.persons.encrypted_weight:g}"
            ja += f"（暗号化済み {exposed.encrypted_persons:,}人は×{weight}）"
            en += f" (encrypted: {exposed.encrypted_persons:,}, weighted ×{weight})"
        if estimated:
            ja += "（推定を含む）"
            en += " (estimated)"
        ja += (
            f"：{scoring.persons.points_per_tenfold:g}×log10(1+人数)、"
            f"上限{scoring.persons.max_points}点"
        )
        en += (
            f": {scoring.persons.points_per_tenfold:g} x log10(1 + persons), "
            f"at most {scoring.persons.max_points}"
        )
        factors.append(Factor("persons", persons_points, LocalText(ja, en)))

    if exposed.sensitive and scoring.sensitive_items:
        factors.append(
            Factor(
                "sensitive_items",
                scoring.sensitive_items,
                LocalText(
                    f"要配慮個人情報：{labels(exposed.sensitive, 'ja')}",
                    f"sensitive personal data: {labels(exposed.sensitive, 'en')}",
                ),
            )
        )
    if exposed.financial and scoring.financial_items:
        factors.append(
            Factor(
                "financial_items",
                scoring.financial_items,
                LocalText(
                    f"財産的被害のおそれがある項目：{labels(exposed.financial, 'ja')}",
                    f"items that risk financial damage: {labels(exposed.financial, 'en')}",
                ),
            )
        )

    x = max((i.jnsa_x for i in exposed.items), default=1)
    y = max((i.jnsa_y for i in exposed.items), default=1)
    sensitivity_points = scoring.per_x_level * (x - 1) + scoring.per_y_level * (y - 1)
    if sensitivity_points > 0:
        factors.append(
            Factor(
                "jnsa_sensitivity",
                sensitivity_points,
                LocalText(
                    f"JNSA機微度 x（精神的苦痛）={x}、y（経済的損失）={y}",
                    f"JNSA sensitivity x (mental distress) = {x}, y (economic loss) = {y}",
                ),
            )
        )

    if exposed.plain:
        level = best_identifiability(exposed.plain, rules)
        points = scoring.identifiability[level.id]
        if points > 0:
            factors.append(
                Factor(
                    "identifiability",
                    points,
                    LocalText(
                        f"本人特定容易度 {level.value}：{level.label.ja}",
                        f"identifiability {level.value}: {level.label.en}",
                    ),
                )
            )

    exposure = facts.effective_exposure
    exposure_points = scoring.exposure[exposure]
    if exposure_points > 0:
        factors.append(
            Factor(
                "exposure",
                exposure_points,
                LocalText(
                    f"流出の範囲：{rules.vocabulary.exposure_label(exposure, 'ja')}",
                    f"exposure: {rules.vocabulary.exposure_label(exposure, 'en')}",
                ),
            )
        )

    flags = (
        ("insider", facts.insider, scoring.insider, "内部者の関与", "insider involved"),
        (
            "wrongful_intent",
            facts.wrongful_intent,
            scoring.wrongful_intent,
            "不正の目的によるおそれ",
            "wrongful intent suspected",
        ),
        ("ongoing", facts.ongoing, scoring.ongoing, "被害が継続中", "still ongoing"),
        (
            "reportable",
            reportable,
            scoring.reportable,
            "個人情報保護委員会への報告義務あり（法定期限が進行中）",
            "reportable to the PPC (a legal clock is running)",
        ),
    )
    for key, present, points, ja, en in flags:
        if present and points > 0:
            factors.append(Factor(key, points, LocalText(ja, en)))
    return tuple(factors)


# --- obligations -----------------------------------------------------------------------------


def _obligations(
    facts: Facts,
    exposed: _Exposed,
    rules: Rules,
    tz: ZoneInfo,
    reportable: bool,
    reportable_reasons: list[LocalText],
    priority: PriorityRule,
    *,
    mynumber_reasons: list[LocalText] | None = None,
) -> tuple[DueObligation, ...]:
    high_risk = _gdpr_high_risk(exposed, rules, priority)
    mynumber = mynumber_reasons or []
    conditions: dict[str, bool] = {
        "always": True,
        "appi_reportable": reportable,
        "whistleblower_report": facts.whistleblower_report,
        "personal_data": bool(facts.datasets),
        "gdpr_high_risk": high_risk is not None,
        "wrongful_intent": facts.wrongful_intent,
        "mynumber_reportable": bool(mynumber),
    }
    aware_at = facts.effective_aware_at
    received = facts.reported_at if facts.reported_at is not None else aware_at
    reasons: dict[str, LocalText] = {
        "always": LocalText("常に", "always"),
        "appi_reportable": LocalText(
            "報告対象事態：" + "、".join(r.ja for r in reportable_reasons),
            "reportable: " + "; ".join(r.en for r in reportable_reasons),
        ),
        "whistleblower_report": LocalText(
            f"公益通報を受けた（{received.astimezone(tz):%Y-%m-%d}）",
            f"whistleblower report received ({received.astimezone(tz):%Y-%m-%d})",
        ),
        "personal_data": LocalText("EU法域の個人データ侵害", "personal data breach under EU law"),
        "gdpr_high_risk": high_risk or LocalText("", ""),
        "wrongful_intent": LocalText("不正の目的によるおそれ", "wrongful intent suspected"),
        "mynumber_reportable": LocalText(
            "番号法の報告対象事態：" + "、".join(r.ja for r in mynumber),
            "reportable under the My Number Act: " + "; ".join(r.en for r in mynumber),
        ),
    }
    computed: dict[str, dt.datetime] = {}

    def origin_of(spec: DueSpec) -> dt.datetime:
        if spec.origin == "aware_at":
            return aware_at
        if spec.origin == "reported_at":
            return received
        fallback = computed[spec.reference or ""]
        if spec.origin == "acknowledged_at" and facts.acknowledged_at is not None:
            # From the acknowledgement (Art. 9(1)(f)); a late one does not push the date out.
            return min(facts.acknowledged_at, fallback)
        return fallback

    result: list[DueObligation] = []
    for rule in rules.obligations:
        spec: DueSpec = rule.due
        basis: Mapping[str, Basis] = rule.basis
        for variant in rule.variants:
            if conditions[variant.when]:
                spec = variant.due or spec
                basis = variant.basis or basis
                break
        # Every rule's date is computed so that later rules can count from it.
        computed[rule.kind] = due_at(spec, origin_of(spec), tz)
        regime = rules.regimes[rule.regime]
        holding = [when for when in rule.when if conditions[when]]
        if regime.jurisdiction not in facts.jurisdictions or not holding:
            continue
        target = due_at(rule.target, origin_of(rule.target), tz) if rule.target else None
        chosen = basis[facts.org_kind]
        result.append(
            DueObligation(
                regime=rule.regime,
                kind=rule.kind,
                article=chosen.article,
                requirement=chosen.requirement,
                due_at=computed[rule.kind],
                why=LocalText(
                    " / ".join(reasons[when].ja for when in holding),
                    " / ".join(reasons[when].en for when in holding),
                ),
                checked=rule.checked,
                target_at=target if target is not None and target < computed[rule.kind] else None,
                deadline=rule.deadline,
                source=rule.source,
            )
        )
    return tuple(result)


def _gdpr_high_risk(exposed: _Exposed, rules: Rules, priority: PriorityRule) -> LocalText | None:
    """Why the breach is high risk for GDPR Art. 34, or None (highly encrypted data excluded)."""
    if not exposed.plain:
        return None
    high_risk = rules.gdpr_high_risk
    ja: list[str] = []
    en: list[str] = []
    if priority.id in high_risk.priorities:
        ja.append(f"優先度 {priority.id}")
        en.append(f"priority {priority.id}")
    if high_risk.sensitive_items and exposed.sensitive:
        ja.append(f"要配慮個人情報（{labels(exposed.sensitive, 'ja')}）")
        en.append(f"sensitive data ({labels(exposed.sensitive, 'en')})")
    if not ja:
        return None
    return LocalText("高リスク：" + "、".join(ja), "high risk: " + "; ".join(en))


def _notes(facts: Facts, exposed: _Exposed, rules: Rules) -> tuple[LocalText, ...]:
    notes: list[LocalText] = []
    if facts.effective_exposure == "internal":
        if rules.appi_reportable.internal_exposure_counts:
            notes.append(
                LocalText(
                    "流出が組織内にとどまる場合も「おそれ」として義務を計算しています。"
                    "漏えいがないと確認できたら義務を取り下げてください。",
                    "Exposure is internal: obligations are still computed for the possibility "
                    "of a leak; dismiss them once it is established that nothing leaked.",
                )
            )
        else:
            notes.append(
                LocalText(
                    "流出が組織内にとどまるため、個人情報保護法の報告義務は計算していません。",
                    "Exposure is internal: APPI obligations are not computed (legal.yaml).",
                )
            )
    if exposed.encrypted:
        if rules.appi_reportable.encryption == "report_if_wrongful_intent":
            notes.append(
                LocalText(
                    "高度な暗号化が施されたデータセットは報告対象・損害額の計算から除いています"
                    "（個人情報保護法施行規則7条1号・43条1号）。ただし不正の目的によるおそれが"
                    "ある場合は、鍵が漏えいしたおそれがあるため、当組織の方針により報告対象と"
                    "します（法令上の義務ではありません）。",
                    "Highly encrypted data sets are excluded from reportability and the damage "
                    "estimate (APPI Rules Art. 7(1), 43(1)). Where wrongful intent is suspected "
                    "they are reported anyway under this organisation's own policy (the key may "
                    "be compromised); the law does not require it.",
                )
            )
        else:
            notes.append(
                LocalText(
                    "高度な暗号化が施されたデータセットは、法令どおり（個人情報保護法施行規則"
                    "7条1号・43条1号。不正の目的によるおそれがある場合を含む）報告対象・"
                    "損害額の計算から除いています。",
                    "Highly encrypted data sets are excluded from reportability and the damage "
                    "estimate, as the law provides (APPI Rules Art. 7(1), 43(1)), also where "
                    "wrongful intent is suspected.",
                )
            )
    if facts.wrongful_intent and not exposed.plain and rules.appi_reportable.encryption == "exempt":
        notes.append(
            LocalText(
                "不正の目的によるおそれがありますが、高度な暗号化がされていない個人データの"
                "漏えい等が登録されていないため、報告対象事態とはしていません。",
                "Wrongful intent is suspected, but no data set without high-grade encryption "
                "is recorded, so the case is not (yet) reportable.",
            )
        )
    if facts.contractor_notice_at is not None and facts.contractor_notice_at < facts.aware_at:
        notes.append(
            LocalText(
                "委託先からの通知の時点で事態を知ったものとして期限を計算しています"
                "（個人情報保護法26条1項ただし書、同法施行規則9条）。",
                "Deadlines count from the contractor's notice, the latest moment the "
                "organisation knew (APPI Art. 26(1) proviso, Rules Art. 9).",
            )
        )
    if any(d.persons_estimated for d in facts.datasets):
        notes.append(LocalText("人数は推定を含みます。", "Person counts include estimates."))
    if facts.whistleblower_report and facts.reported_at is None:
        notes.append(
            LocalText(
                "通報の受付日時が不明なため、認知日時から期限を計算しています。",
                "The report's arrival time is unknown: deadlines count from awareness.",
            )
        )
    return tuple(notes)
