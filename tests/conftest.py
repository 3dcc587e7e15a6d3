"""App-factory fixtures shared by the unit (mongomock) and integration (real server) suites.

Apps authenticate exactly as in production's ``jwt`` mode: RS256/ES256 tokens
minted with a test key pair and verified against a JWKS file.
"""

from __future__ import annotations

import pytest

from finance import create_app
from finance.config import TestingConfig
from finance.db import disconnect, get_db
from finance.indexes import ensure_indexes
from tests.support.tokens import TokenFactory

TOKENS = TokenFactory()


def _teach_mongomock_what_mongodb_does():
    """Two server behaviours the in-process fake lacks, which the app relies on.

    MongoDB adds Decimal128 values in ``$inc`` with decimal arithmetic, and pymongo
    >= 4.11 passes ``sort`` to bulk updates, which mongomock 4.3 rejects. Both are
    exercised for real by the integration suite against a wire-protocol server.
    """
    from decimal import Decimal, localcontext

    import mongomock.collection
    from bson.decimal128 import Decimal128, create_decimal128_context

    def add(left, right):
        with localcontext(create_decimal128_context()) as ctx:
            other = right.to_decimal() if isinstance(right, Decimal128) else Decimal(right)
            return Decimal128(ctx.add(left.to_decimal(), other))

    Decimal128.__add__ = add
    Decimal128.__radd__ = add
    original = mongomock.collection.BulkOperationBuilder.add_update

    def add_update(self, selector, doc, multi=False, upsert=False, *args, sort=None, **kwargs):
        return original(self, selector, doc, multi, upsert, *args, **kwargs)

    mongomock.collection.BulkOperationBuilder.add_update = add_update


_teach_mongomock_what_mongodb_does()


def make_app(*, environ=None, indexes=True, **overrides):
    """A testing app configured only from ``environ``/``overrides`` — never the caller's shell."""
    app = create_app(TestingConfig(environ or {}, **overrides))
    if indexes:
        ensure_indexes(get_db())
    return app


@pytest.fixture(scope="session")
def tokens() -> TokenFactory:
    return TOKENS


@pytest.fixture(scope="session")
def auth_environ(tmp_path_factory, tokens):
    return tokens.jwt_environ(tmp_path_factory.mktemp("keys"))


class ApiUser:
    """A registered user driving the API through a test client with their own token."""

    def __init__(self, client, tokens: TokenFactory, sub: str, email: str):
        self.client = client
        self.sub = sub
        self.token = tokens.rs256(sub=sub, email=email)
        response = client.post(
            "/api/users/register",
            json={"email": email, "username": sub, "oauth_provider": "google.com", "oauth_id": sub},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200, response.json
        self.id = response.json["user_id"]
        self.headers = {
            "Authorization": f"Bearer {self.token}",
            "X-User-ID": self.id,
        }

    def _call(self, method, path, **kwargs):
        headers = dict(self.headers)
        headers.update(kwargs.pop("headers", {}))
        if "json" not in kwargs and "data" not in kwargs:
            headers.setdefault("Content-Type", "application/json")  # as the web client does
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self._call("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self._call("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self._call("PATCH", path, **kwargs)

    def put(self, path, **kwargs):
        return self._call("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self._call("DELETE", path, **kwargs)


@pytest.fixture
def app(auth_environ):
    app = make_app(environ=auth_environ)
    yield app
    get_db().client.drop_database(get_db().name)
    disconnect()


@pytest.fixture
def ai_app(auth_environ):
    """An app with a Gemini key configured; each test fakes the client it would build."""
    app = make_app(environ={**auth_environ, "GOOGLE_API_KEY": "test-gemini-key"})
    yield app
    get_db().client.drop_database(get_db().name)
    disconnect()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def alice(client, tokens):
    return ApiUser(client, tokens, "alice-uid", "alice@example.com")


@pytest.fixture
def bob(client, tokens):
    return ApiUser(client, tokens, "bob-uid", "bob@example.com")
