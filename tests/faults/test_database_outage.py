"""The database down at start-up, dying between requests and dying mid-request.

The app must build without the database, answer 503 with the error contract's body within
the server-selection bound (never a 500, never a hang), and the very same app object must
recover once the server is back — with everything it had acknowledged still there.
"""

from __future__ import annotations

import io
import threading
import time
from decimal import Decimal

import pytest

from finance import migrations
from finance.db import get_db
from finance.errors import DB_UNAVAILABLE_DETAIL
from finance.imports.service import INTERRUPTED
from finance.imports.store import BATCH_SIZE
from tests.conftest import ApiUser
from tests.faults.conftest import kept_and_recomputed, outage_bound, statement_csv, wait_until

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def assert_unavailable(response, elapsed: float, bound: float):
    """The contract's 503: a plain sentence, the request id, a Retry-After; quickly."""
    assert response.status_code == 503, response.json
    assert response.json == {
        "detail": DB_UNAVAILABLE_DETAIL,
        "code": 503,
        "status": "Service Unavailable",
        "request_id": response.headers["X-Request-ID"],
    }
    assert response.headers["Retry-After"] == "5"
    assert elapsed < bound, f"503 took {elapsed:.2f} s (bound {bound:.2f} s)"


def test_built_while_the_database_is_down_it_answers_503_then_recovers(
    database_server, outage_app, tokens
):
    server = database_server()  # a free port with nothing listening yet
    started = time.monotonic()
    app = outage_app(server.uri)
    built_in = time.monotonic() - started
    # Building opens no connection: one attempt would already cost the selection timeout.
    assert built_in < app.config["MONGODB_TIMEOUT_MS"] / 1000
    client = app.test_client()
    bound = outage_bound(app)

    response, elapsed = timed(lambda: client.get("/health"))
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    assert elapsed < 0.5

    assert_unavailable(*timed(lambda: client.get("/api/health/ready")), bound)

    # A good token: finding its user needs the database.
    token = tokens.rs256(sub="alice-uid", email="alice@example.com")
    good = {"Authorization": f"Bearer {token}", **JSON}
    assert_unavailable(*timed(lambda: client.get("/api/wallets", headers=good)), bound)
    registration = {
        "email": "alice@example.com",
        "username": "alice",
        "oauth_provider": "google.com",
        "oauth_id": "alice-uid",
    }
    assert_unavailable(
        *timed(lambda: client.post("/api/users/register", json=registration, headers=good)),
        bound,
    )
    # A bad token: counting the failure for the per-IP limiter needs the database too.
    bad = {"Authorization": "Bearer not-a-token", **JSON}
    assert_unavailable(*timed(lambda: client.get("/api/wallets", headers=bad)), bound)

    # The server comes up on that port: the same app object recovers, no restart.
    server.start()
    response, elapsed = timed(lambda: client.get("/api/health/ready"))
    assert (response.status_code, response.json) == (200, {"status": "ok", "database": "up"})
    assert elapsed < 2.0
    migrations.upgrade(get_db())
    alice = ApiUser(client, tokens, "alice-uid", "alice@example.com")
    assert alice.get("/api/wallets").json == {"wallets": [], "count": 0}
    created = alice.post("/api/wallets", json={"name": "Broker"})
    assert created.status_code == 201
    assert [w["name"] for w in alice.get("/api/wallets").json["wallets"]] == ["Broker"]
    # With the database back, a bad token is the plain 401 again (its failure counted).
    response = client.get("/api/wallets", headers=bad)
    assert (response.status_code, response.json["code"]) == (401, 401)
    assert get_db().auth_failures.count_documents({}) == 1


def test_when_the_database_dies_calls_get_503_and_the_same_app_recovers_with_its_data(
    database_server, outage_app, tokens
):
    server = database_server().start()
    app = outage_app(server.uri)
    migrations.upgrade(get_db())
    client = app.test_client()
    bound = outage_bound(app)
    alice = ApiUser(client, tokens, "alice-uid", "alice@example.com")
    wallet = alice.post("/api/wallets", json={"name": "Savings"}).json
    for day, kind, amount in (("2024-03-01", "DEPOSIT", "100.50"), ("2024-03-02", "FEE", "-20.25")):
        response = alice.post(
            "/api/transactions",
            json={
                "wallet_id": wallet["id"],
                "date": day,
                "transaction_type": kind,
                "transaction_amount": amount,
                "currency": "EUR",
            },
        )
        assert response.status_code == 201, response.json
    before = alice.get("/api/wallets").json["wallets"]
    assert [(w["balance"], w["transaction_count"]) for w in before] == [(80.25, 2)]

    server.kill()

    listing = f"/api/transactions?wallet_id={wallet['id']}&limit=100"
    new_row = {
        "wallet_id": wallet["id"],
        "date": "2024-03-03",
        "transaction_type": "DEPOSIT",
        "transaction_amount": "5",
        "currency": "EUR",
    }
    calls = [
        lambda: alice.get("/api/wallets"),
        lambda: alice.get(listing),
        lambda: alice.post("/api/transactions", json=new_row),
        lambda: client.get("/api/health/ready"),
    ]
    for call in calls:
        assert_unavailable(*timed(call), bound)

    server.start()  # same port, same storage directory

    assert client.get("/api/health/ready").json == {"status": "ok", "database": "up"}
    assert alice.get("/api/wallets").json["wallets"] == before
    listed = alice.get(listing).json
    assert [(t["date"], t["transaction_amount"]) for t in listed["transactions"]] == [
        ("2024-03-02", -20.25),
        ("2024-03-01", 100.5),
    ]
    assert alice.post("/api/transactions", json=new_row).status_code == 201
    after = alice.get("/api/wallets").json["wallets"]
    assert [(w["balance"], w["transaction_count"]) for w in after] == [(85.25, 3)]


def test_an_upload_in_flight_when_the_database_dies_is_a_bounded_503_and_no_half_batch(
    database_server, outage_app, tokens
):
    """Batches are transactions: whatever the kill interrupts is rolled back whole, so the
    kept totals match the rows stored; uploading the file again stores exactly the rest."""
    server = database_server().start()
    app = outage_app(server.uri)
    migrations.upgrade(get_db())
    client = app.test_client()
    bound = outage_bound(app)
    alice = ApiUser(client, tokens, "alice-uid", "alice@example.com")
    wallet_id = alice.post("/api/wallets", json={"name": "Broker"}).json["id"]
    rows = 3 * BATCH_SIZE
    data = statement_csv(rows)

    def upload():
        return alice.post(
            "/api/transactions/upload",
            data={"wallet_id": wallet_id, "file": (io.BytesIO(data), "statement.csv")},
        )

    outcome = {}

    def run():
        try:
            outcome["response"] = upload()
        finally:
            outcome["finished"] = time.monotonic()

    raw = server.client()
    try:
        worker = threading.Thread(target=run, daemon=True)
        worker.start()
        db = raw["faults"]
        stored = wait_until(
            lambda: db.transactions.count_documents({}), 60, 0.02, "the first stored batch"
        )
        server.kill()
        killed = time.monotonic()
        worker.join(4 * bound)
        assert not worker.is_alive(), "the upload hung after the database died"
    finally:
        raw.close()
    assert 0 < stored < rows
    response = outcome["response"]
    assert_unavailable(response, outcome["finished"] - killed, 2 * bound)

    server.start()
    raw = server.client()
    try:
        db = raw["faults"]
        kept, recomputed = kept_and_recomputed(db, wallet_id)
        assert kept == recomputed
        assert recomputed["count"] % BATCH_SIZE == 0 and 0 < recomputed["count"] < rows
        (interrupted,) = db.imports.find()
        assert interrupted["status"] == "processing"  # nothing could mark it: the db was gone

        again = upload()
        assert again.status_code == 200, again.json
        report = again.json["data"]
        assert (report["rows"], report["imported"], report["duplicates"], report["failed"]) == (
            rows,
            rows - recomputed["count"],
            recomputed["count"],
            0,
        )
        kept, final = kept_and_recomputed(db, wallet_id)
        assert kept == final
        assert final["count"] == rows
        assert len(db.transactions.distinct("fingerprint")) == rows
        old = alice.get(f"/api/imports/{interrupted['_id']}").json
        assert (old["status"], old["error"], old["imported"]) == (
            "failed",
            INTERRUPTED,
            recomputed["count"],
        )
        assert final["balance"] == Decimal(
            str(alice.get("/api/wallets").json["wallets"][0]["balance"])
        )
    finally:
        raw.close()
