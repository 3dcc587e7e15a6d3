"""The MongoDB connection: made once per process and reused across Lambda invocations.

pymongo's client connects lazily, so building the app (and importing the Lambda
handler) opens no socket; the first query does, bounded by a short
server-selection timeout so an outage is a quick 503 rather than a hung request.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

import mongoengine
import pymongo
from flask import Flask
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError, ServerSelectionTimeoutError

T = TypeVar("T")

DEFAULT_LOCAL_URI = "mongodb://127.0.0.1:27017"

#: How long write conflicts (and commits of unknown outcome) are retried: long enough for
#: a queue of concurrent uploads into one wallet to drain, short of API Gateway's 29 s
#: (pymongo's own ``with_transaction`` allows 120 s).
TRANSACTION_RETRY_SECONDS = 20.0
#: A transaction that lost its connection is run once more (a replica-set failover picks a
#: new primary); a server that cannot be selected within the timeout is not waited for again.
CONNECTION_RETRIES = 1
#: Aborting a transaction whose connection failed must not wait for the server again.
ABORT_AFTER_OUTAGE_SECONDS = 0.25
_BACKOFF_INITIAL = 0.005
_BACKOFF_MAX = 0.5

_current: tuple[Any, ...] | None = None
_transactions: bool | None = None


def connection_settings(config: Any) -> dict[str, Any]:
    if config["MONGODB_MOCK"]:
        import mongomock  # test-only dependency, never on the Lambda path

        return {
            "db": config["MONGODB_DATABASE"],
            "host": "mongodb://localhost",
            "mongo_client_class": mongomock.MongoClient,
            "tz_aware": True,
            "uuidRepresentation": "standard",
        }
    timeout = config["MONGODB_TIMEOUT_MS"]
    return {
        "db": config["MONGODB_DATABASE"],
        "host": config["MONGODB_URI"] or DEFAULT_LOCAL_URI,
        "tz_aware": True,
        "uuidRepresentation": "standard",
        "appname": "kartay-finance-api",
        "serverSelectionTimeoutMS": timeout,
        # Also the heartbeat's socket timeout: a busy server answering heartbeats late must
        # not make the driver drop the pool (cancelling queries in flight). An outage is
        # still bounded by the server-selection timeout above.
        "connectTimeoutMS": max(timeout, 10_000),
        "retryWrites": True,
        "maxPoolSize": 20,
    }


def connect(config: Any, *, force: bool = False) -> None:
    """Connect the default alias unless this process is already connected the same way."""
    global _current, _transactions
    settings = connection_settings(config)
    key = (settings["db"], settings["host"], bool(config["MONGODB_MOCK"]))
    if _current == key and not force:
        return
    mongoengine.disconnect_all()
    mongoengine.connect(alias="default", **settings)
    _current = key
    # The in-process fake has no sessions; a real server is asked on first use.
    _transactions = False if config["MONGODB_MOCK"] else None


def disconnect() -> None:
    global _current, _transactions
    mongoengine.disconnect_all()
    _current = None
    _transactions = None


def get_db() -> Database:
    return mongoengine.get_db()


def ping() -> None:
    get_db().command("ping")


def supports_transactions() -> bool:
    """Replica sets and sharded clusters do; a standalone mongod (or the test fake) does not."""
    global _transactions
    if _transactions is None:
        hello = get_db().client.admin.command("hello")
        _transactions = bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
    return _transactions


def run_in_transaction(work: Callable[[ClientSession | None], T]) -> T:
    """Run ``work(session)`` in one multi-document transaction, retried on transient errors.

    Where transactions are unavailable ``work(None)`` runs directly; every write
    path is written so that it is still correct, just not all-or-nothing, there.

    The retries follow pymongo's ``with_transaction`` (a write conflict runs ``work``
    again; a commit of unknown outcome is sent again) with one difference: an outage
    ends them. pymongo labels every connection failure inside a transaction as
    transient and would retry it for 120 s, so a request in flight when the database
    dies would hang for two minutes; here a server that cannot be selected raises at
    once (a 503), a dropped connection is retried once, and conflicts for at most
    :data:`TRANSACTION_RETRY_SECONDS`.
    """
    if not supports_transactions():
        return work(None)
    deadline = time.monotonic() + TRANSACTION_RETRY_SECONDS
    attempts = {"conflict": 0, "connection": 0}
    with get_db().client.start_session() as session:
        while True:
            session.start_transaction()
            try:
                result = work(session)
            except BaseException as exc:
                _abort(session, exc)
                if _retry(exc, "TransientTransactionError", attempts, deadline):
                    continue
                raise
            if _commit(session, attempts, deadline):
                return result


def _commit(session: ClientSession, attempts: dict[str, int], deadline: float) -> bool:
    """Commit; ``False`` when the whole transaction must run again."""
    while True:
        try:
            session.commit_transaction()
            return True
        except PyMongoError as exc:
            if _retry(exc, "UnknownTransactionCommitResult", attempts, deadline):
                continue  # committing again is safe: the server remembers a commit
            if _retry(exc, "TransientTransactionError", attempts, deadline):
                return False
            raise


def _retry(exc: BaseException, label: str, attempts: dict[str, int], deadline: float) -> bool:
    """Whether ``exc`` (labelled ``label``) is worth another attempt; backs off if so."""
    if not isinstance(exc, PyMongoError) or not exc.has_error_label(label):
        return False
    if isinstance(exc, ServerSelectionTimeoutError):
        return False  # the full selection timeout has just been waited: the server is gone
    kind = "connection" if isinstance(exc, ConnectionFailure) else "conflict"
    if kind == "connection" and attempts[kind] >= CONNECTION_RETRIES:
        return False
    attempts[kind] += 1
    backoff = random.random() * min(_BACKOFF_INITIAL * 1.5 ** attempts[kind], _BACKOFF_MAX)  # noqa: S311
    if time.monotonic() + backoff >= deadline:
        return False
    time.sleep(backoff)
    return True


def _abort(session: ClientSession, exc: BaseException) -> None:
    """Abort a failed transaction (errors ignored, as pymongo does), quickly after an outage."""
    if not session.in_transaction:
        return
    if isinstance(exc, ConnectionFailure):
        with pymongo.timeout(ABORT_AFTER_OUTAGE_SECONDS):
            session.abort_transaction()
    else:
        session.abort_transaction()


def init_app(app: Flask) -> None:
    connect(app.config, force=app.config["MONGODB_MOCK"])
