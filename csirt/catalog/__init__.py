"""The catalog read from ``playbooks/``: pure loaders and validators, and :class:`Catalog`.

``csirt.catalog.current`` binds one catalog to an app (``current_catalog()``).
"""

from csirt.catalog.catalog import Catalog, load_catalog
from csirt.catalog.playbooks import (
    CASE_ROLE_LABELS,
    CASE_ROLES,
    CHECKLIST_KINDS,
    PHASES,
    SKILLS,
    ChecklistItem,
    EvidenceItem,
    Playbook,
    RoleNeed,
    TaskTemplate,
    format_offset,
    load_playbook,
    load_playbooks,
    parse_offset,
)
from csirt.catalog.questionnaire import (
    FIELD_TYPES,
    Choice,
    ChoiceField,
    DateField,
    Field,
    FileField,
    NumberField,
    QuestionField,
    Questionnaire,
    TextField,
    YesNoField,
    load_questionnaire,
)
from csirt.lang import LANGUAGES as LANGS
from csirt.lang import LocalText

__all__ = [
    "CASE_ROLES",
    "CASE_ROLE_LABELS",
    "CHECKLIST_KINDS",
    "FIELD_TYPES",
    "LANGS",
    "PHASES",
    "SKILLS",
    "Catalog",
    "ChecklistItem",
    "Choice",
    "ChoiceField",
    "DateField",
    "EvidenceItem",
    "Field",
    "FileField",
    "LocalText",
    "NumberField",
    "Playbook",
    "QuestionField",
    "Questionnaire",
    "RoleNeed",
    "TaskTemplate",
    "TextField",
    "YesNoField",
    "format_offset",
    "load_catalog",
    "load_playbook",
    "load_playbooks",
    "load_questionnaire",
    "parse_offset",
]
