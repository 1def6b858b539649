"""``csirt search reindex``: rebuild the case search index from the records."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from csirt.cases import search
from csirt.db import get_db


@click.group("search")
def search_group() -> None:
    """The case search index."""


@search_group.command("reindex")
@click.option("--batch", default=500, show_default=True, help="Cases per transaction.")
@with_appcontext
def search_reindex(batch: int) -> None:
    """Rebuild the search texts and bigrams of every case (only differences are written)."""
    if batch < 1:
        raise click.BadParameter("must be at least 1", param_hint="--batch")
    done = 0
    last = 0
    while True:
        with get_db().session() as session:
            ids = search.case_ids_after(session.connection(), last, batch)
            if not ids:
                break
            search.reindex(session, ids)
        done += len(ids)
        last = ids[-1]
    click.echo(f"search: {done} cases reindexed")
