"""App-factory fixtures shared by the unit (mongomock) and integration (real server) suites."""

from __future__ import annotations

import pytest

from finance import create_app
from finance.config import TestingConfig
from finance.db import disconnect, get_db
from finance.indexes import ensure_indexes


def make_app(*, environ=None, indexes=True, **overrides):
    """A testing app configured only from ``overrides`` — never from the caller's shell."""
    app = create_app(TestingConfig(environ or {}, **overrides))
    if indexes:
        ensure_indexes(get_db())
    return app


@pytest.fixture
def app():
    app = make_app()
    yield app
    get_db().client.drop_database(get_db().name)
    disconnect()


@pytest.fixture
def client(app):
    return app.test_client()
