import pytest
from click.testing import CliRunner

from finance import migrations
from finance.db import get_db


def write(path, name, body):
    (path / name).write_text(body)


def test_upgrade_applies_in_date_order_once_and_records(app, tmp_path):
    write(tmp_path, "2024-02-01-second.py", "def migrate(db):\n    db.log.insert_one({'n': 2})\n")
    write(tmp_path, "2024-01-01-first.py", "def migrate(db):\n    db.log.insert_one({'n': 1})\n")
    db = get_db()
    assert migrations.upgrade(db, tmp_path) == ["2024-01-01-first", "2024-02-01-second"]
    assert migrations.upgrade(db, tmp_path) == []
    assert [d["n"] for d in db.log.find({}, {"_id": 0})] == [1, 2]
    statuses = migrations.status(db, tmp_path)
    assert [s[0] for s in statuses] == ["2024-01-01-first", "2024-02-01-second"]
    assert all(applied is not None for _, applied in statuses)


def test_badly_named_or_incomplete_migrations_are_refused(app, tmp_path):
    write(tmp_path, "cleanup.py", "def migrate(db):\n    pass\n")
    with pytest.raises(migrations.MigrationError, match=r"YYYY-MM-DD-slug\.py"):
        migrations.discover(tmp_path)
    (tmp_path / "cleanup.py").unlink()
    write(tmp_path, "2024-01-01-empty.py", "x = 1\n")
    with pytest.raises(migrations.MigrationError, match="no migrate"):
        migrations.upgrade(get_db(), tmp_path)
    assert migrations.status(get_db(), tmp_path) == [("2024-01-01-empty", None)]


def test_flask_db_commands_run_the_project_migrations(app):
    runner = app.test_cli_runner()
    status = runner.invoke(args=["db", "status"])
    assert status.exit_code == 0
    assert "2026-11-29-create-indexes  pending" in status.output
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    assert "applied 2026-11-29-create-indexes" in upgrade.output
    again = runner.invoke(args=["db", "upgrade"])
    assert again.output.strip() == "database is up to date"
    assert isinstance(runner, CliRunner)
