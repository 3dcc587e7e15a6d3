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
    from .users.service import dev_subject

    config = current_app.config
    if config["AUTH_MODE"] != "dev":
        raise click.ClickException(
            f"AUTH_MODE is {config['AUTH_MODE']!r}; "
            "development tokens only work with AUTH_MODE=dev."
        )
    subject = sub or dev_subject(email)
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


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--wallet", "wallet_name", required=True, help="Wallet name (created if new).")
@click.option("--user", "email", required=True, help="Owner's email (created if new).")
@click.option("--currency", default=None, help="Currency when the file does not say (ISO).")
@click.option("--dry-run", is_flag=True, help="Report and preview only; store nothing.")
def import_file(
    file: str, wallet_name: str, email: str, currency: str | None, dry_run: bool
) -> None:
    """Import a statement FILE through the same pipeline as the upload endpoint."""
    import json
    from pathlib import Path

    from flask import current_app

    from .errors import ApiError
    from .imports import service
    from .users.service import find_or_create_local_user

    user = find_or_create_local_user(email)
    data = Path(file).read_bytes()
    try:
        wallet = service.resolve_wallet(user.id, None, wallet_name)
        report = service.import_statement(
            user.id,
            wallet,
            data,
            file_name=Path(file).name,
            config=current_app.config,
            overrides={"currency": currency.upper() if currency else None},
            dry_run=dry_run,
        )
    except ApiError as exc:
        raise click.ClickException(f"{exc.detail} ({exc.status_code})") from None
    click.echo(json.dumps(report, indent=2, default=str, ensure_ascii=False))


stats_cli = AppGroup(
    "stats", help="Kept totals: verify them against the transactions, or rebuild them."
)


def _stats_scope(wallet: str | None, email: str | None):
    """``(wallet id, owner ids)`` for --wallet/--user; ``(None, None)`` means everything."""
    from .common.models import object_id
    from .users.models import User
    from .wallets.models import Wallet

    owners = None
    if email:
        owners = [user.id for user in User.objects(email=email.strip()).only("id")]
        if not owners:
            raise click.ClickException(f"No user has the email {email.strip()!r}.")
    wallet_id = None
    if wallet:
        wallet_id = object_id(wallet.strip())
        query = (
            {"_id": wallet_id} if owners is None else {"_id": wallet_id, "owner": {"$in": owners}}
        )
        if wallet_id is None or not Wallet._get_collection().find_one(query, {"_id": 1}):
            raise click.ClickException(
                f"No wallet {wallet.strip()!r}" + (" of that user." if owners else ".")
            )
    return wallet_id, owners


def _stats_options(command):
    command = click.option("--user", "email", help="Only this user's wallets (by email).")(command)
    return click.option("--wallet", help="Only this wallet (its id).")(command)


@stats_cli.command("verify")
@_stats_options
def stats_verify(wallet: str | None, email: str | None) -> None:
    """Recompute totals with aggregation pipelines and compare; exit 1 on any difference."""
    from .stats import rebuild

    report = rebuild.verify(*_stats_scope(wallet, email))
    for difference in report.differences:
        click.echo(str(difference))
    click.echo(f"checked {report.wallets} wallet(s): {len(report.differences)} difference(s)")
    if not report.ok:
        raise SystemExit(1)


@stats_cli.command("rebuild")
@_stats_options
def stats_rebuild(wallet: str | None, email: str | None) -> None:
    """Recompute totals with aggregation pipelines and replace the kept ones."""
    from .stats import rebuild

    report = rebuild.rebuild(*_stats_scope(wallet, email))
    for difference in report.differences:
        click.echo(f"{'fixed' if difference.fixable else 'NOT FIXED'} {difference}")
    fixed = sum(1 for difference in report.differences if difference.fixable)
    click.echo(f"rebuilt {report.wallets} wallet(s): {fixed} difference(s) fixed")
    if fixed < len(report.differences):
        click.echo("transactions of deleted wallets are left for a person to decide about")
        raise SystemExit(1)


def register(app: Flask) -> None:
    app.cli.add_command(import_file)
    app.cli.add_command(db_cli)
    app.cli.add_command(auth_cli)
    app.cli.add_command(stats_cli)
