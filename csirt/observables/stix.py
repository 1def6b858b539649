"""STIX 2.1 export and import of a case's observables and techniques (the ``stix2`` library).

Export: a Report (the case) referring to an Indicator with a STIX pattern and an Observed Data
(with its cyber-observable) per observable, and an Attack Pattern per ATT&CK technique with its
``mitre-attack`` external reference; TLP markings on every object. Import reads Indicators
(simple comparisons of their patterns), cyber-observables and Attack Patterns.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, Final

import stix2
from stix2.exceptions import STIXError

from csirt.observables.errors import ExchangeFormatError
from csirt.observables.exchange import ExportContent
from csirt.observables.models import Observable
from csirt.observables.service import MAX_TAGS, PAP_LEVELS, TYPES, ObservableIn

MARKINGS: Final = {
    "clear": stix2.TLP_WHITE,
    "green": stix2.TLP_GREEN,
    "amber": stix2.TLP_AMBER,
    "amber+strict": stix2.TLP_AMBER,
    "red": stix2.TLP_RED,
}
TLP_OF_MARKING: Final = {
    stix2.TLP_WHITE.id: "clear",
    stix2.TLP_GREEN.id: "green",
    stix2.TLP_AMBER.id: "amber",
    stix2.TLP_RED.id: "red",
}
HASH_NAMES: Final = {"md5": "MD5", "sha1": "SHA-1", "sha256": "SHA-256", "sha512": "SHA-512"}
ALGORITHM_OF: Final = {v: k for k, v in HASH_NAMES.items()}
UA_PATH: Final = "network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'"

# (STIX object path in a pattern) -> observable type; hashes are matched separately.
PATHS: Final = {
    "ipv4-addr:value": "ip",
    "ipv6-addr:value": "ip",
    "domain-name:value": "domain",
    "url:value": "url",
    "email-addr:value": "email",
    "file:name": "filename",
    "windows-registry-key:key": "registry",
    UA_PATH: "user-agent",
}
SCO_TYPES: Final = (
    "ipv4-addr",
    "ipv6-addr",
    "domain-name",
    "url",
    "email-addr",
    "file",
    "windows-registry-key",
)
_COMPARISON = re.compile(r"([a-z0-9-]+:[A-Za-z0-9_.'\-]+)\s*=\s*'((?:[^'\\]|\\.)*)'")
_HASH_PATH = re.compile(r"file:hashes\.'?([A-Za-z0-9-]+)'?")


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _unliteral(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _pattern(row: Observable) -> str | None:
    if row.type == "hash":
        path = f"file:hashes.'{HASH_NAMES[row.hash_algorithm or 'sha256']}'"
    elif row.type == "ip":
        path = "ipv6-addr:value" if ":" in row.value else "ipv4-addr:value"
    else:
        path = next((p for p, kind in PATHS.items() if kind == row.type), "")
    return f"[{path} = {_literal(row.value)}]" if path else None


def _observable_object(row: Observable) -> Any:
    """The cyber-observable of a row (None for user agents and other values)."""
    if row.type == "ip":
        return (stix2.IPv6Address if ":" in row.value else stix2.IPv4Address)(value=row.value)
    if row.type == "hash":
        return stix2.File(hashes={HASH_NAMES[row.hash_algorithm or "sha256"]: row.value})
    simple: dict[str, Any] = {
        "domain": lambda: stix2.DomainName(value=row.value),
        "url": lambda: stix2.URL(value=row.value),
        "email": lambda: stix2.EmailAddress(value=row.value),
        "filename": lambda: stix2.File(name=row.value),
        "registry": lambda: stix2.WindowsRegistryKey(key=row.value),
    }
    make = simple.get(row.type)
    return make() if make else None


def build_bundle(content: ExportContent, now: datetime) -> str:
    """The STIX 2.1 bundle of an export, as JSON text."""
    objects: list[Any] = []
    refs: list[str] = []
    used: dict[str, Any] = {}
    for row in content.observables:
        marking = MARKINGS[row.tlp]
        used[marking.id] = marking
        first = row.first_seen or row.created_at
        last = row.last_seen or first
        labels = [row.type, f"pap:{row.pap}", *(row.tags or [])]
        pattern = _pattern(row)
        if pattern is not None:
            indicator = stix2.Indicator(
                name=row.value[:250],
                description=row.description or None,
                pattern=pattern,
                pattern_type="stix",
                valid_from=first,
                indicator_types=["malicious-activity"] if row.ioc else ["unknown"],
                labels=labels,
                object_marking_refs=[marking],
            )
            objects.append(indicator)
            refs.append(indicator.id)
        sco = _observable_object(row)
        if sco is not None:
            observed = stix2.ObservedData(
                first_observed=first,
                last_observed=max(first, last),
                number_observed=1,
                object_refs=[sco.id],
                object_marking_refs=[marking],
            )
            objects += [sco, observed]
            refs.append(observed.id)
    for technique in content.techniques:
        pattern_object = stix2.AttackPattern(
            id=technique.stix_id,
            name=technique.name,
            external_references=[
                {"source_name": "mitre-attack", "external_id": technique.id, "url": technique.url}
            ],
            kill_chain_phases=[
                {"kill_chain_name": "mitre-attack", "phase_name": tactic}
                for tactic in technique.tactics
            ],
        )
        objects.append(pattern_object)
        refs.append(pattern_object.id)
    case_marking = MARKINGS.get(content.tlp, stix2.TLP_AMBER)
    used[case_marking.id] = case_marking
    author = stix2.Identity(name="CSIRT", identity_class="organization")
    name = content.reference + (f" {content.title}" if content.title else "")
    report = stix2.Report(
        name=name,
        description=content.summary or None,
        published=now,
        report_types=["threat-report"],
        # STIX 2.1 wants at least one SDO/SRO/SCO referred to; a case with nothing to share yet
        # refers to its author, the organisation (a marking definition is not allowed here).
        object_refs=refs or [author.id],
        labels=["csirt-case"],
        created_by_ref=author.id,
        object_marking_refs=[case_marking],
    )
    bundle = stix2.Bundle(objects=[*used.values(), author, *objects, report])
    return str(bundle.serialize(pretty=False))


def _tlp(obj: Any) -> str:
    for ref in obj.get("object_marking_refs", []) or []:
        if str(ref) in TLP_OF_MARKING:
            return TLP_OF_MARKING[str(ref)]
    return "amber"


def _labels(obj: Any) -> tuple[str, tuple[str, ...]]:
    """(PAP, plain tags) from an Indicator's labels (as this module writes them)."""
    pap, tags = "amber", list[str]()
    for label in obj.get("labels", []) or []:
        label = str(label)
        if label.lower().startswith("pap:") and label[4:].lower() in PAP_LEVELS:
            pap = label[4:].lower()
        elif label not in TYPES and len(tags) < MAX_TAGS:
            tags.append(label)
    return pap, tuple(tags)


def _from_pattern(obj: Any) -> list[ObservableIn]:
    pattern = str(obj["pattern"])
    tlp = _tlp(obj)
    pap, tags = _labels(obj)
    ioc = "malicious-activity" in (obj.get("indicator_types") or [])
    description = str(obj.get("description") or "")[:5000]
    found = []
    for path, raw in _COMPARISON.findall(pattern):
        value = _unliteral(raw)
        hashed = _HASH_PATH.fullmatch(path)
        if hashed:
            algorithm = ALGORITHM_OF.get(hashed.group(1).upper())
            if algorithm:
                found.append(
                    ObservableIn("hash", value, algorithm, tlp, pap, tags, ioc, description)
                )
            continue
        kind = PATHS.get(path)
        if kind:
            found.append(ObservableIn(kind, value, None, tlp, pap, tags, ioc, description))
    return found


def _from_sco(obj: Any, tlp: str) -> list[ObservableIn]:
    kind = {
        "ipv4-addr": "ip",
        "ipv6-addr": "ip",
        "domain-name": "domain",
        "url": "url",
        "email-addr": "email",
    }.get(obj["type"])
    if kind:
        return [ObservableIn(kind, str(obj["value"]), tlp=tlp)]
    if obj["type"] == "windows-registry-key" and obj.get("key"):
        return [ObservableIn("registry", str(obj["key"]), tlp=tlp)]
    if obj["type"] == "file":
        found = [
            ObservableIn("hash", str(v), ALGORITHM_OF[str(k).upper()], tlp)
            for k, v in (obj.get("hashes") or {}).items()
            if str(k).upper() in ALGORITHM_OF
        ]
        if obj.get("name"):
            found.append(ObservableIn("filename", str(obj["name"]), tlp=tlp))
        return found
    return []


def read_bundle(raw: bytes | str) -> tuple[list[ObservableIn], list[str], int]:
    """(observables, ATT&CK technique ids, objects skipped) of a STIX 2.x bundle."""
    try:
        data = json.loads(raw)
        bundle = stix2.parse(data, allow_custom=True)
    except (ValueError, STIXError, RecursionError, TypeError) as exc:
        raise ExchangeFormatError(f"not a STIX 2 bundle: {str(exc)[:200]}") from None
    if getattr(bundle, "type", None) != "bundle":
        raise ExchangeFormatError("not a STIX 2 bundle")
    items: list[ObservableIn] = []
    observed: list[ObservableIn] = []
    technique_ids: list[str] = []
    skipped = 0
    objects = bundle.get("objects", []) or []
    # A cyber-observable carries no marking of its own: it takes its Observed Data's.
    sco_tlp = {
        str(ref): _tlp(obj)
        for obj in objects
        if obj["type"] == "observed-data"
        for ref in obj.get("object_refs", []) or []
    }
    for obj in objects:
        kind = obj["type"]
        if kind == "indicator" and obj.get("pattern_type", "stix") == "stix":
            found = _from_pattern(obj)
            items += found
            skipped += 0 if found else 1
        elif kind == "attack-pattern":
            for ref in obj.get("external_references", []) or []:
                if ref.get("source_name") == "mitre-attack" and ref.get("external_id"):
                    technique_ids.append(str(ref["external_id"]))
        elif kind in SCO_TYPES:
            observed += _from_sco(obj, sco_tlp.get(str(obj["id"]), "amber"))
    # An observed value that an Indicator already gives adds nothing (and no default PAP).
    given = {(item.type, item.value) for item in items}
    items += [item for item in observed if (item.type, item.value) not in given]
    return items, technique_ids, skipped
