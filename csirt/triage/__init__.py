"""Pure triage engine: facts in; score, priority, JNSA damage and legal obligations out.

Rules, weights, coefficients and deadlines come from ``playbooks/`` (vocabulary.yaml,
triage.yaml, legal.yaml). Nothing here imports Flask or a database session.
"""

from csirt.triage.damage import Coefficient, DamageEstimate, DatasetDamage
from csirt.triage.engine import (
    Factor,
    Obligation,
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
from csirt.triage.rules import Basis, Priority, Rules, load_rules
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
    "Factor",
    "Facts",
    "FactsError",
    "Item",
    "Obligation",
    "PlaybookError",
    "Priority",
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
