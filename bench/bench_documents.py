"""Time to build a committee report for a case with 1,000 public timeline events (target < 2 s)."""

from __future__ import annotations

import dataclasses
import time
from datetime import timedelta

from csirt.demo_story import founding_facts
from csirt.documents.builders import build_document, to_bytes
from csirt.documents.facts import CaseFacts, Precision, PublicEvent

EVENTS = 1_000


def facts_with_events(count: int) -> CaseFacts:
    """The demo case with `count` public events, every other one timed to the minute."""
    demo = founding_facts()
    start = demo.aware_at
    events = tuple(
        PublicEvent(
            occurred_at=start + timedelta(hours=7 * n),
            precision=Precision.MINUTE if n % 2 else Precision.DAY,
            title=f"対応記録 {n + 1}",
            description="関係部署と協議し、検索サイトに対するキャッシュの削除依頼を行った。",
        )
        for n in range(count)
    )
    return dataclasses.replace(demo, events=events)


def main() -> None:
    facts = facts_with_events(EVENTS)
    build_document("committee_report", facts, draft=True)  # warm-up: imports, template parse
    runs = []
    for _ in range(3):
        began = time.perf_counter()
        data = to_bytes(build_document("committee_report", facts, draft=True))
        runs.append(time.perf_counter() - began)
    print(f"committee_report_{EVENTS}_events: {min(runs):.2f} s ({len(data) // 1024} KiB .docx)")


if __name__ == "__main__":
    main()
