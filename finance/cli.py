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


auth_cli = AppGroup("auth", help="Local development tokens.")


@auth_cli.command("token")
@click.option("--email", required=True, help="The email the token carries (marked verified).")
@click.option("--sub", default=None, help="Subject (user id at the provider); default from email.")
@click.option("--ttl", default=3600, show_default=True, help="Lifetime in seconds.")
def auth_token(email: str, sub: str | None, ttl: int) -> None:
    """Mint an HS256 token for AUTH_MODE=dev (refused in any other mode)."""
    from flask import current_app

    from .auth.tokens import DEV_AUDIENCE, DEV_ISSUER, mint_dev_token

    config = current_app.config
    if config["AUTH_MODE"] != "dev":
        raise click.ClickException(
            f"AUTH_MODE is {config['AUTH_MODE']!r}; "
            "development tokens only work with AUTH_MODE=dev."
        )
    subject = sub or "dev-" + email.strip().lower().replace("@", "-at-")
    click.echo(
        mint_dev_token(
            config["AUTH_DEV_SECRET"],
            subject,
            email=email.strip(),
            issuer=config.get("AUTH_ISSUER") or DEV_ISSUER,
            audience=config.get("AUTH_AUDIENCE") or DEV_AUDIENCE,
            ttl=ttl,
        )
    )


def register(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(auth_cli)
