"""The ``csirt`` command: database, users, tokens, demo data and the audit log.

The same commands are on every app, so ``flask --app wsgi db upgrade`` works too.
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy.orm import Session

from csirt import migrate
from csirt.audit import service as audit
from csirt.auth import service as auth_service
from csirt.auth.models import User
from csirt.auth.permissions import Role
from csirt.db import get_db
from csirt.intake import staff_keys
from csirt.intake.escrow import Escrow


def init_app(app: Flask) -> None:
    for command in (db_group, user_group, token_group, demo_group, audit_group):
        app.cli.add_command(command)
    from csirt import backup

    app.cli.add_command(backup.backup_command)
    app.cli.add_command(backup.restore_command)
    from csirt.documents.measure_cli import measures_group

    app.cli.add_command(measures_group)
    from csirt.records.cli import evidence_group

    app.cli.add_command(evidence_group)
    from csirt.cases.search_cli import search_group

    app.cli.add_command(search_group)


CLI = audit.Actor(None, "cli")


def _provide_keypair(session: Session, user: User, password: str) -> None:
    """The user's intake key pair, now that their password is known (and the reports it may
    open sealed to it)."""
    config = current_app.config["CSIRT"]
    staff_keys.provide_keypair(
        session,
        user,
        password,
        actor=CLI,
        escrow=Escrow.from_config(config),
        testing=config.testing,
    )


def _create_app() -> Flask:
    from config import ConfigError
    from csirt import create_app

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from exc


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_version_option=False,
    load_dotenv=False,
    add_default_commands=False,
)
def main() -> None:
    """csirt: incident-response case management (see README.md)."""


# --- db ----------------------------------------------------------------------------------------


@click.group("db")
def db_group() -> None:
    """Database schema (alembic migrations)."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    migrate.upgrade(current_app.config["CSIRT"].database_url, revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. base, or -1)."""
    migrate.downgrade(current_app.config["CSIRT"].database_url, revision)
    click.echo(f"database at {revision}")


# --- users and tokens --------------------------------------------------------------------------


@click.group("user")
def user_group() -> None:
    """Staff accounts."""


@user_group.command("create")
@click.argument("username")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Repeat for several roles.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option("--display-name", default="")
@click.option("--email", default=None)
@click.option("--department", default=None)
@with_appcontext
def user_create(
    username: str,
    roles: tuple[str, ...],
    password_stdin: bool,
    display_name: str,
    email: str | None,
    department: str | None,
) -> None:
    """Create a staff account with one or more roles."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    hashing: auth_service.Hashing = current_app.extensions["csirt.hashing"]
    try:
        with get_db().session() as session:
            user = auth_service.create_user(
                session,
                hashing,
                username,
                password,
                [Role(r) for r in roles],
                actor=CLI,
                display_name=display_name,
                email=email,
                department=department,
            )
            # The password is known now: an intake key pair, and the reports it may open.
            _provide_keypair(session, user, password)
    except auth_service.PasswordPolicyError as exc:
        raise click.ClickException(f"password: {'; '.join(exc.reasons)}") from exc
    except auth_service.UserExistsError as exc:
        raise click.ClickException(f"user {exc} already exists") from exc
    except auth_service.AuthError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"created {username} ({', '.join(roles)})", err=True)


@user_group.command("password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def user_password(username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (an administrator's reset); their other sessions end."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    hashing: auth_service.Hashing = current_app.extensions["csirt.hashing"]
    with get_db().session() as session:
        user = auth_service.get_user(session, username)
        if user is None:
            raise click.ClickException(f"no user {username}")
        try:
            auth_service.set_password(session, hashing, user, password, actor=CLI)
        except auth_service.PasswordPolicyError as exc:
            raise click.ClickException(f"password: {'; '.join(exc.reasons)}") from exc
        had_key = user.wrapped_private_key is not None
        # No key pair yet: the password is known now, so make it (and seal the reports to it).
        _provide_keypair(session, user, password)
    click.echo(f"password of {username} set", err=True)
    if had_key:
        click.echo(
            "their intake key stays wrapped under the old password: they restore it with their"
            " recovery key, or start a new key, on Intake > Your intake key",
            err=True,
        )


@click.group("token")
def token_group() -> None:
    """API tokens."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", help="What the token is for.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(["read", "write", "export"]),
    help="What the token may do (repeatable; default: read and write). Exports need 'export'.",
)
@with_appcontext
def token_create(username: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create an API token for USERNAME and print only the token."""
    with get_db().session() as session:
        user = auth_service.get_user(session, username)
        if user is None:
            raise click.ClickException(f"no user {username}")
        _token, plain = auth_service.create_token(
            session,
            user,
            name=name,
            actor=CLI,
            scopes=scopes or ("read", "write"),
        )
    click.echo(plain)


# --- demo --------------------------------------------------------------------------------------


@click.group("demo")
def demo_group() -> None:
    """Demonstration data."""


@demo_group.command("seed")
@click.option(
    "--cases",
    "bulk_cases",
    default=0,
    type=click.IntRange(0),
    help="Also bulk-insert N cases (benchmarks).",
)
@click.option(
    "--events-per-case", default=0, type=click.IntRange(0), help="Timeline events per bulk case."
)
@with_appcontext
def demo_seed(bulk_cases: int, events_per_case: int) -> None:
    """Create one user per role (passwords printed) and the founding demo case."""
    from csirt import demo

    config = current_app.config["CSIRT"]
    with get_db().session() as session:
        logins = demo.seed(session, current_app.extensions["csirt.hashing"], config)
    click.echo(demo.format_logins(logins, config))
    if bulk_cases:
        with get_db().session() as session:
            took = demo.bulk_seed(session, bulk_cases, events_per_case)
        click.echo(f"bulk: {bulk_cases} cases, {events_per_case} events each, {took:.1f} s")


# --- audit -------------------------------------------------------------------------------------


@click.group("audit")
def audit_group() -> None:
    """The hash-chained audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify() -> None:
    """Check the whole chain; exit 1 naming the first bad row."""
    with get_db().session() as session:
        result = audit.verify(session)
    if result.ok:
        click.echo(f"audit log OK: {result.checked} rows verified")
        return
    click.echo(f"audit log BROKEN at row {result.bad_seq}: {result.reason}", err=True)
    sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
