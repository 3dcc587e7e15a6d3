"""The MongoDB connection: made once per process and reused across Lambda invocations.

pymongo's client connects lazily, so building the app (and importing the Lambda
handler) opens no socket; the first query does, bounded by a short
server-selection timeout so an outage is a quick 503 rather than a hung request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import mongoengine
from flask import Flask
from pymongo.client_session import ClientSession
from pymongo.database import Database

T = TypeVar("T")

DEFAULT_LOCAL_URI = "mongodb://127.0.0.1:27017"

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
        "connectTimeoutMS": timeout,
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
    """
    if not supports_transactions():
        return work(None)
    with get_db().client.start_session() as session:
        return session.with_transaction(work)


def init_app(app: Flask) -> None:
    connect(app.config, force=app.config["MONGODB_MOCK"])
