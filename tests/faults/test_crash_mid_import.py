"""The API process killed (SIGKILL) while it stores a large upload, then started again.

The service runs as it would in production outside Lambda: gunicorn, a separate process,
a real SecantusDB, tokens checked against a JWKS file. The upload goes over HTTP; the test
watches the transactions arrive in the database and kills the whole process group while it
stores. Each batch of 1,000 rows is one transaction with its kept totals, so the totals
must equal a recomputation from the rows that made it, and uploading the file again must
store exactly the rest.

The batch the process was writing when it died stays an open transaction on the server:
neither MongoDB nor SecantusDB aborts a transaction when its connection drops, only when
its lifetime (``transactionLifetimeLimitSeconds``, 60 s) runs out or ``killAllSessions``
ends it. Until then writes that touch its rows conflict; the API answers those with a 503
"try again shortly" (never a 500, never a hang).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from bson import ObjectId

from finance import db as finance_db
from finance import migrations
from finance.db import get_db
from finance.errors import DB_BUSY_DETAIL
from finance.imports.service import INTERRUPTED
from finance.imports.store import BATCH_SIZE
from tests.conftest import ApiUser
from tests.faults.conftest import kept_and_recomputed, multipart, statement_csv, wait_until

pytestmark = pytest.mark.integration

# SecantusDB stores roughly 700-1,000 of these rows a second (seven indexes, one unique),
# so four batches leave seconds between the first commit and the last.
ROWS = 4 * BATCH_SIZE
DATABASE = "crash"


class Caller:
    """Alice over HTTP against one API process."""

    def __init__(self, api, token: str):
        self.api = api
        self.token = token
        self.user_id: str | None = None

    def headers(self, **extra) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", **extra}
        if self.user_id:
            headers["X-User-ID"] = self.user_id
        return headers

    def json(self, method: str, path: str, body: dict | None = None):
        return self.api.request(
            method,
            path,
            headers=self.headers(**{"Content-Type": "application/json"}),
            body=None if body is None else json.dumps(body).encode(),
        )

    def upload(self, wallet_id: str, data: bytes):
        body, content_type = multipart({"wallet_id": wallet_id}, "statement.csv", data)
        return self.api.request(
            "POST",
            "/api/transactions/upload",
            headers=self.headers(**{"Content-Type": content_type}),
            body=body,
            timeout=120,
        )


def test_a_crash_mid_import_leaves_whole_batches_and_a_reupload_completes_it(
    database_server, api_process, tokens
):
    server = database_server().start()
    raw = server.client()
    try:
        db = raw[DATABASE]
        migrations.upgrade(db)  # the deploy step that creates the indexes
        api = api_process(server.uri, DATABASE)
        alice = Caller(api, tokens.rs256(sub="alice-uid", email="alice@example.com"))
        status, user = alice.json(
            "POST",
            "/api/users/register",
            {
                "email": "alice@example.com",
                "username": "alice",
                "oauth_provider": "google.com",
                "oauth_id": "alice-uid",
            },
        )
        assert status == 200, user
        alice.user_id = user["user_id"]
        status, wallet = alice.json("POST", "/api/wallets", {"name": "Broker"})
        assert status == 201, wallet
        data = statement_csv(ROWS)

        outcome: dict = {}

        def upload():
            try:
                outcome["response"] = alice.upload(wallet["id"], data)
            except OSError as exc:  # the server died under the request
                outcome["error"] = exc

        worker = threading.Thread(target=upload, daemon=True)
        worker.start()
        wait_until(
            lambda: db.transactions.count_documents({}) > 0, 60, 0.02, "the first stored batch"
        )
        api.kill()
        worker.join(30)
        assert not worker.is_alive()
        assert "response" not in outcome, outcome  # it never answered: it was killed
        assert isinstance(outcome["error"], OSError)

        # No half-counted import: whole batches only, and totals that match them.
        kept, recomputed = kept_and_recomputed(db, wallet["id"])
        assert kept == recomputed
        stored = recomputed["count"]
        assert 0 < stored < ROWS
        assert stored % BATCH_SIZE == 0
        (record,) = db.imports.find()
        assert (record["status"], record["rows"]) == ("processing", ROWS)

        # The operator's step (or a minute's wait): end the dead process's open transaction.
        raw.admin.command("killAllSessions", [])

        # The service again, the same file again: it completes, nothing twice.
        api = api_process(server.uri, DATABASE)
        alice.api = api
        status, body = alice.upload(wallet["id"], data)
        assert status == 200, body
        report = body["data"]
        assert (report["status"], report["rows"], report["failed"]) == ("completed", ROWS, 0)
        assert (report["imported"], report["duplicates"]) == (ROWS - stored, stored)
        assert body["message"] == (
            f"Imported {ROWS - stored} of {ROWS} rows, {stored} already present."
        )

        kept, final = kept_and_recomputed(db, wallet["id"])
        assert kept == final
        assert final["count"] == ROWS
        assert len(db.transactions.distinct("fingerprint", {"wallet": ObjectId(wallet["id"])})) == (
            ROWS
        )

        # The interrupted record says what happened and how many rows it did store.
        status, old = alice.json("GET", f"/api/imports/{record['_id']}")
        assert status == 200, old
        assert (old["status"], old["error"], old["imported"]) == ("failed", INTERRUPTED, stored)
        status, listed = alice.json("GET", f"/api/imports?wallet_id={wallet['id']}")
        assert [(i["status"], i["imported"]) for i in listed["imports"]] == [
            ("completed", ROWS - stored),
            ("failed", stored),
        ]
        status, wallets = alice.json("GET", "/api/wallets")
        assert [(w["transaction_count"], w["balance"]) for w in wallets["wallets"]] == [
            (ROWS, final["balance"])
        ]
    finally:
        raw.close()


def test_a_dead_process_open_transaction_makes_conflicting_writes_a_503_until_it_ends(
    database_server, outage_app, tokens, monkeypatch
):
    monkeypatch.setattr(finance_db, "TRANSACTION_RETRY_SECONDS", 1.0)
    server = database_server().start()
    app = outage_app(server.uri)
    migrations.upgrade(get_db())
    alice = ApiUser(app.test_client(), tokens, "alice-uid", "alice@example.com")
    wallet = alice.post("/api/wallets", json={"name": "Broker"}).json
    row = {
        "wallet_id": wallet["id"],
        "date": "2024-03-01",
        "transaction_type": "DEPOSIT",
        "transaction_amount": "10",
        "currency": "EUR",
    }
    raw = server.client()
    try:
        # What a killed worker leaves behind: a transaction that wrote to the wallet's totals.
        orphan = raw.start_session()
        orphan.start_transaction()
        raw["faults"].wallets.update_one(
            {"_id": ObjectId(wallet["id"])}, {"$inc": {"totals.count": 1}}, session=orphan
        )

        started = time.monotonic()
        response = alice.post("/api/transactions", json=row)
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.json
        assert response.json == {
            "detail": DB_BUSY_DETAIL,
            "code": 503,
            "status": "Service Unavailable",
            "request_id": response.headers["X-Request-ID"],
        }
        assert response.headers["Retry-After"] == "5"
        assert elapsed < finance_db.TRANSACTION_RETRY_SECONDS + 2
        listed = alice.get(f"/api/transactions?wallet_id={wallet['id']}").json
        assert listed["total_count"] == 0

        # A conflict that ends while the request still retries is simply waited out.
        monkeypatch.setattr(finance_db, "TRANSACTION_RETRY_SECONDS", 10.0)
        outcome = {}

        def write():
            started = time.monotonic()
            outcome["response"] = alice.post("/api/transactions", json=row)
            outcome["elapsed"] = time.monotonic() - started

        writer = threading.Thread(target=write)
        writer.start()
        time.sleep(0.5)
        orphan.abort_transaction()  # its lifetime ends (or killAllSessions)
        orphan.end_session()
        writer.join(15)
        assert outcome["response"].status_code == 201, outcome["response"].json
        assert outcome["elapsed"] >= 0.4  # it waited for the conflict to end
        wallets = alice.get("/api/wallets").json["wallets"]
        assert [(w["balance"], w["transaction_count"]) for w in wallets] == [(10, 1)]
    finally:
        raw.close()
