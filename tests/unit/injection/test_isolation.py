"""Every endpoint that takes an id answers another user's id with 404, and changes nothing.

Bob calls each endpoint with alice's ids (in the path, in a ``wallet_id`` filter, as the
target of a new transaction, a move or an upload): the answer is the same 404 that an id
nobody has gets, it says nothing about alice's data, and nothing stored changes. (The
per-domain suites check the same for their own endpoints one by one; this table covers
them all in one place.)
"""

import io

import pytest

from tests.unit.injection.helpers import STATEMENT, assert_error_contract, snapshot

NOBODY = "65f1c0ffee0123456789abcd"
WALLET = "Wallet not found."
DEPOSIT = {"date": "2024-01-01", "transaction_type": "DEPOSIT", "transaction_amount": 1}

# (method, path, JSON body or multipart form, the detail). {x} are alice's ids.
CALLS = [
    ("GET", "/api/wallets/{wallet}", None, WALLET),
    ("PATCH", "/api/wallets/{wallet}", {"name": "Mine now"}, WALLET),
    ("DELETE", "/api/wallets/{wallet}", None, WALLET),
    ("GET", "/api/transactions/{transaction}", None, "Transaction not found."),
    ("PATCH", "/api/transactions/{transaction}", {"description": "x"}, "Transaction not found."),
    ("DELETE", "/api/transactions/{transaction}", None, "Transaction not found."),
    ("PATCH", "/api/transactions/errors/{error}", {"processed": True}, "Error row not found."),
    ("DELETE", "/api/transactions/errors/{error}", None, "Error row not found."),
    ("GET", "/api/imports/{import_id}", None, "Import not found."),
    ("DELETE", "/api/imports/{import_id}", None, "Import not found."),
    ("DELETE", "/api/mappings/{mapping}", None, "Mapping not found."),
    ("GET", "/api/transactions?wallet_id={wallet}", None, WALLET),
    ("GET", "/api/transactions?wallet_id={wallet}&page=1&limit=1000", None, WALLET),
    ("GET", "/api/transactions/errors?wallet_id={wallet}", None, WALLET),
    (
        "GET",
        "/api/transactions/errors?wallet_id={wallet}&resolved=false",
        None,
        WALLET,
    ),
    ("GET", "/api/transactions/export?wallet_id={wallet}", None, WALLET),
    ("GET", "/api/transactions/export?wallet_id={wallet}&format=xlsx", None, WALLET),
    ("GET", "/api/imports?wallet_id={wallet}", None, WALLET),
    ("GET", "/api/stats?wallet_id={wallet}", None, WALLET),
    ("GET", "/api/stats/allocation?wallet_id={wallet}", None, WALLET),
    ("GET", "/api/stats/holdings?wallet_id={wallet}", None, WALLET),
    ("GET", "/api/stats/balance-history?wallet_id={wallet}", None, WALLET),
    ("POST", "/api/transactions", {"wallet_id": "{wallet}", **DEPOSIT}, WALLET),
    ("PATCH", "/api/transactions/{bobs}", {"wallet_id": "{wallet}"}, WALLET),
    (
        "POST",
        "/api/transactions/upload",
        {"wallet_id": "{wallet}", "file": STATEMENT},
        WALLET,
    ),
    (
        "POST",
        "/api/transactions/upload?dry_run=true",
        {"wallet_id": "{wallet}", "file": STATEMENT},
        WALLET,
    ),
    (
        "POST",
        "/api/transactions/detect-currency",
        {"wallet_id": "{wallet}", "file": STATEMENT},
        WALLET,
    ),
]


def _ids(world, nobody=False):
    a = world.alice
    ids = {
        "wallet": a.wallet,
        "transaction": a.transaction,
        "error": a.error,
        "import_id": a.import_id,
        "mapping": a.mapping,
    }
    if nobody:
        ids = dict.fromkeys(ids, NOBODY)
    return {**ids, "bobs": world.bob.transaction}


def _call(user, method, path, payload, ids):
    path = path.format(**ids)
    if payload is None:
        return getattr(user, method.lower())(path)
    payload = {k: v.format(**ids) if isinstance(v, str) else v for k, v in payload.items()}
    if "file" in payload:
        payload["file"] = (io.BytesIO(payload["file"]), "statement.csv")
        return user.post(path, data=payload, content_type="multipart/form-data")
    return getattr(user, method.lower())(path, json=payload)


@pytest.mark.parametrize(
    ("method", "path", "payload", "detail"), CALLS, ids=[f"{c[0]} {c[1]}" for c in CALLS]
)
def test_another_users_id_is_a_404_like_an_id_nobody_has(world, method, path, payload, detail):
    before = snapshot()
    theirs = _call(world.bob.user, method, path, payload, _ids(world))
    nobodys = _call(world.bob.user, method, path, payload, _ids(world, nobody=True))
    body = assert_error_contract(theirs, 404)
    assert body["detail"] == detail
    assert "errors" not in body
    assert {k: v for k, v in body.items() if k != "request_id"} == {
        k: v for k, v in assert_error_contract(nobodys, 404).items() if k != "request_id"
    }
    text = theirs.get_data(as_text=True)
    assert world.alice.name not in text and world.alice.wallet not in text
    assert snapshot() == before


def test_the_owner_reaches_the_same_ids(world):
    """The control: with alice's own token, the readable ids of the table are there."""
    a, user = world.alice, world.alice.user
    for path in (
        f"/api/wallets/{a.wallet}",
        f"/api/transactions/{a.transaction}",
        f"/api/imports/{a.import_id}",
        f"/api/transactions?wallet_id={a.wallet}",
        f"/api/transactions/errors?wallet_id={a.wallet}",
        f"/api/transactions/export?wallet_id={a.wallet}",
        f"/api/imports?wallet_id={a.wallet}",
        f"/api/stats?wallet_id={a.wallet}",
        f"/api/stats/allocation?wallet_id={a.wallet}",
        f"/api/stats/holdings?wallet_id={a.wallet}",
        f"/api/stats/balance-history?wallet_id={a.wallet}",
    ):
        assert user.get(path).status_code == 200, path


def test_listings_without_a_wallet_show_only_the_callers_rows(world):
    bob = world.bob
    for path, key in (
        ("/api/wallets", "wallets"),
        ("/api/transactions?limit=1000", "transactions"),
        ("/api/transactions/errors?limit=1000", "errors"),
        ("/api/imports?limit=1000", "imports"),
        ("/api/stats", "wallets"),
    ):
        items = bob.user.get(path).json[key]
        assert items, path
        wallets = {item.get("wallet_id", item.get("id")) for item in items}
        assert wallets == {bob.wallet}, path
    (mapping,) = bob.user.get("/api/mappings").json["mappings"]
    assert mapping["id"] == bob.mapping
