"""``flask`` commands: database migrations (and, as domains arrive, tokens, stats, imports)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

db_cli = AppGroup("db", help="Database migrations (a deploy step, never run at cold start).")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet recorded in the `migrations` collection."""
    from . import migrations
    from .db import get_db

    ran = migrations.upgrade(get_db())
    if ran:
        for migration_id in ran:
            click.echo(f"applied {migration_id}")
    else:
        click.echo("database is up to date")


@db_cli.command("status")
def db_status() -> None:
    """List migrations and when each was applied."""
    from . import migrations
    from .db import get_db

    for migration_id, applied_at in migrations.status(get_db()):
        when = applied_at.isoformat() if applied_at else "pending"
        click.echo(f"{migration_id}  {when}")


def register(app: Flask) -> None:
    app.cli.add_command(db_cli)
