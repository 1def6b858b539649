"""Pure triage engine: facts in; score, priority, JNSA damage and legal obligations out.

Rules, weights, coefficients and deadlines come from ``playbooks/`` (vocabulary.yaml,
triage.yaml, legal.yaml). Nothing here imports Flask or a database session.
"""

from csirt.triage.damage import Coefficient, DamageEstimate, DatasetDamage
from csirt.triage.engine import (
    DueObligation,
    Factor,
    ResponseTargets,
    TriageResult,
    evaluate,
)
from csirt.triage.facts import (
    EXPOSURES,
    ORG_KINDS,
    DatasetFacts,
    Facts,
    FactsError,
    exposure_rank,
    parse_facts,
)
from csirt.triage.rules import Basis, PriorityRule, Rules, load_rules
from csirt.triage.vocabulary import Item, Vocabulary, load_vocabulary
from csirt.yamlfile import PlaybookError

__all__ = [
    "EXPOSURES",
    "ORG_KINDS",
    "Basis",
    "Coefficient",
    "DamageEstimate",
    "DatasetDamage",
    "DatasetFacts",
    "DueObligation",
    "Factor",
    "Facts",
    "FactsError",
    "Item",
    "PlaybookError",
    "PriorityRule",
    "ResponseTargets",
    "Rules",
    "TriageResult",
    "Vocabulary",
    "evaluate",
    "exposure_rank",
    "load_rules",
    "load_vocabulary",
    "parse_facts",
]
