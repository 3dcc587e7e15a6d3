"""Integration fixtures: a real MongoDB wire-protocol server (SecantusDB).

``make test`` starts one and passes TEST_MONGODB_URI; when it is unset (a bare
``pytest`` run) this conftest starts a throw-away server itself.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pymongo
import pytest

from finance.db import disconnect, get_db
from tests.conftest import ApiUser, make_app

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

import localdb


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/integration" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def mongodb_uri():
    uri = os.environ.get("TEST_MONGODB_URI")
    if uri:
        yield uri
        return
    port = localdb.free_port()
    proc = localdb.start(":memory:", port)
    try:
        localdb.wait_ready(proc, port)
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        localdb.stop(proc)


@pytest.fixture
def real_app(mongodb_uri, auth_environ):
    """An app on its own fresh database in the real server, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    app = make_app(environ=auth_environ, MONGODB_URI=mongodb_uri, MONGODB_DATABASE=name,
                   MONGODB_MOCK=False)
    yield app
    disconnect()
    with pymongo.MongoClient(mongodb_uri) as client:
        client.drop_database(name)


@pytest.fixture
def real_client(real_app):
    return real_app.test_client()


@pytest.fixture
def real_db(real_app):
    return get_db()


@pytest.fixture
def real_alice(real_client, tokens):
    return ApiUser(real_client, tokens, "alice-uid", "alice@example.com")


@pytest.fixture
def real_bob(real_client, tokens):
    return ApiUser(real_client, tokens, "bob-uid", "bob@example.com")
