"""The MongoDB connection: made once per process and reused across Lambda invocations.

pymongo's client connects lazily, so building the app (and importing the Lambda
handler) opens no socket; the first query does, bounded by a short
server-selection timeout so an outage is a quick 503 rather than a hung request.
"""

from __future__ import annotations

from typing import Any

import mongoengine
from flask import Flask
from pymongo.database import Database

DEFAULT_LOCAL_URI = "mongodb://127.0.0.1:27017"

_current: tuple[Any, ...] | None = None


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
    global _current
    settings = connection_settings(config)
    key = (settings["db"], settings["host"], bool(config["MONGODB_MOCK"]))
    if _current == key and not force:
        return
    mongoengine.disconnect_all()
    mongoengine.connect(alias="default", **settings)
    _current = key


def disconnect() -> None:
    global _current
    mongoengine.disconnect_all()
    _current = None


def get_db() -> Database:
    return mongoengine.get_db()


def ping() -> None:
    get_db().command("ping")


def init_app(app: Flask) -> None:
    connect(app.config, force=app.config["MONGODB_MOCK"])
