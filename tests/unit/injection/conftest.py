"""Two users with data in one app per module, and a snapshot of everything stored.

``world`` gives alice and bob each a wallet with a transaction, an import (with a
stored error row and a cached mapping), all made through the API, plus an asset.
The hostile requests of these tables are refused, so the data is shared by a whole
module; ``helpers.snapshot()`` returns every stored document, so each test can assert
that its request stored, changed and deleted nothing.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from finance.db import disconnect, get_db
from tests.conftest import ApiUser, make_app
from tests.unit.injection.helpers import upload


def _owned(user, name):
    wallet = user.post("/api/wallets", json={"name": name, "base_currency": "EUR"}).json["id"]
    transaction = user.post(
        "/api/transactions",
        json={
            "wallet_id": wallet,
            "date": "2024-03-15",
            "transaction_type": "DEPOSIT",
            "transaction_amount": "100.25",
            "description": f"{name} salary",
        },
    ).json["id"]
    report = upload(user, wallet).json["data"]
    (failed,) = report["failed_transactions"]
    (mapping,) = user.get("/api/mappings").json["mappings"]
    return SimpleNamespace(
        user=user,
        name=name,
        wallet=wallet,
        transaction=transaction,
        import_id=report["import_id"],
        error=failed["id"],
        mapping=mapping["id"],
    )


@pytest.fixture(scope="module")
def world(auth_environ, tokens):
    app = make_app(environ=auth_environ)
    client = app.test_client()
    alice = ApiUser(client, tokens, "alice-uid", "alice@example.com")
    bob = ApiUser(client, tokens, "bob-uid", "bob@example.com")
    asset = alice.post("/api/assets", json={"name": "Apple Inc.", "symbol": "AAPL"}).json["id"]
    yield SimpleNamespace(
        app=app,
        client=client,
        alice=_owned(alice, "Alice main"),
        bob=_owned(bob, "Bob main"),
        asset=asset,
    )
    get_db().client.drop_database(get_db().name)
    disconnect()
