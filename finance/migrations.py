"""The migrations runner: dated, idempotent scripts recorded in the ``migrations`` collection.

Each ``migrations/YYYY-MM-DD-slug.py`` defines ``migrate(db)`` taking a pymongo
``Database``. Migrations run as a deploy step (``flask db upgrade``), never at
Lambda cold start.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pymongo.database import Database

NAME_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}-[a-z0-9][a-z0-9-]*\.py$")
COLLECTION = "migrations"
DEFAULT_PATH = Path(__file__).resolve().parent.parent / "migrations"


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    id: str
    path: Path

    def load(self) -> Callable[[Database], object]:
        spec = importlib.util.spec_from_file_location(f"migration_{self.path.stem}", self.path)
        if spec is None or spec.loader is None:
            raise MigrationError(f"cannot load {self.path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        migrate = getattr(module, "migrate", None)
        if not callable(migrate):
            raise MigrationError(f"{self.path.name} has no migrate(db) function")
        return migrate


def discover(path: Path = DEFAULT_PATH) -> list[Migration]:
    files = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
    bad = [p.name for p in files if not NAME_PATTERN.match(p.name)]
    if bad:
        raise MigrationError(f"migration file names must look like YYYY-MM-DD-slug.py: {bad}")
    return [Migration(p.stem, p) for p in files]


def applied(db: Database) -> dict[str, dt.datetime]:
    return {doc["_id"]: doc["applied_at"] for doc in db[COLLECTION].find({}, {"applied_at": 1})}


def status(db: Database, path: Path = DEFAULT_PATH) -> list[tuple[str, dt.datetime | None]]:
    done = applied(db)
    return [(m.id, done.get(m.id)) for m in discover(path)]


def upgrade(db: Database, path: Path = DEFAULT_PATH) -> list[str]:
    """Apply, in date order, every migration not yet recorded; return the ids applied."""
    done = applied(db)
    ran = []
    for migration in discover(path):
        if migration.id in done:
            continue
        migration.load()(db)
        db[COLLECTION].update_one(
            {"_id": migration.id},
            {"$setOnInsert": {"applied_at": dt.datetime.now(dt.UTC)}},
            upsert=True,
        )
        ran.append(migration.id)
    return ran
