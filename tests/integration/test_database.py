"""The foundation against a real wire-protocol server: readiness, migrations, outages."""

import time

from finance import migrations
from tests.conftest import make_app


def test_ready_reports_the_database_up(real_client):
    response = real_client.get("/api/health/ready")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "up"}


def test_migrations_create_the_declared_indexes_idempotently(real_db):
    first = migrations.upgrade(real_db)
    assert first == ["2026-11-29-create-indexes"]
    assert migrations.upgrade(real_db) == []
    assert [m for m, applied in migrations.status(real_db) if applied is None] == []


def test_unreachable_database_is_a_fast_503_not_a_hang():
    app = make_app(
        MONGODB_URI="mongodb://127.0.0.1:9/",
        MONGODB_MOCK=False,
        MONGODB_TIMEOUT_MS=500,
        indexes=False,
    )
    client = app.test_client()
    started = time.monotonic()
    response = client.get("/api/health/ready")
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert response.json["detail"] == (
        "The database is unavailable right now; please try again shortly."
    )
    assert elapsed < 2.0
    assert client.get("/health").status_code == 200
