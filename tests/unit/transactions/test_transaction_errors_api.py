"""Stored error rows of failed imports: listing (with the web client's four probes), edits."""

import datetime as dt
from decimal import Decimal

import pytest
from bson import ObjectId

from finance.transactions.models import TransactionError
from tests.unit.transactions.helpers import ERROR_MUST

ERROR_FIELDS = {*ERROR_MUST, "raw", "created_at", "updated_at"}


def error_row(user, wallet, **fields):
    values = {
        "owner": ObjectId(user.id),
        "wallet": ObjectId(wallet),
        "import_id": ObjectId(),
        "row_number": 3,
        "error_type": "format",
        "error_message": "The date is not a date.",
        "field_name": "date",
        "value": "31/02/2024",
        "raw": {"Date": "31/02/2024"},
    }
    values.update(fields)
    return TransactionError(**values).save()


def ids(response):
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["errors"]]


@pytest.fixture
def rows(alice, wallet):
    first_import, second_import = ObjectId(), ObjectId()
    return {
        "old_3": error_row(alice, wallet, import_id=first_import, row_number=3),
        "old_9_done": error_row(
            alice, wallet, import_id=first_import, row_number=9, processed=True
        ),
        "new_2": error_row(alice, wallet, import_id=second_import, row_number=2),
        "new_5": error_row(alice, wallet, import_id=second_import, row_number=5),
    }


def test_an_error_row_has_every_field_both_client_tables_read(alice, wallet):
    row = error_row(
        alice,
        wallet,
        date=dt.date(2024, 2, 1),
        asset_name="ACME",
        asset_type="stock",
        transaction_type="BUY",
        volume=Decimal("2"),
        item_price=Decimal("10.5"),
        transaction_amount=None,
        currency="EUR",
        fee=Decimal("0.5"),
        error_type="validation",
        error_message="The amount is missing.",
        field_name="transaction_amount",
        value=None,
        suggestion="Add the amount column.",
        raw={"Datum": "01.02.2024", "Betrag": ""},
    )
    response = alice.get(f"/api/transactions/errors?wallet_id={wallet}")
    assert response.status_code == 200
    (item,) = response.json["errors"]
    assert set(item) == ERROR_FIELDS
    assert {k: v for k, v in item.items() if k not in ("created_at", "updated_at")} == {
        "id": str(row.id),
        "wallet_id": wallet,
        "import_id": str(row.import_id),
        "row_number": 3,
        "date": "2024-02-01",
        "asset_name": "ACME",
        "asset_type": "stock",
        "transaction_type": "BUY",
        "volume": 2,
        "item_price": 10.5,
        "transaction_amount": None,
        "currency": "EUR",
        "fee": 0.5,
        "error_type": "validation",
        "error_message": "The amount is missing.",
        "field_name": "transaction_amount",
        "value": None,
        "suggestion": "Add the amount column.",
        "processed": False,
        "raw": {"Datum": "01.02.2024", "Betrag": ""},
    }


def test_order_is_newest_import_first_then_row_number(alice, rows):
    assert ids(alice.get("/api/transactions/errors")) == [
        str(rows[name].id) for name in ("new_2", "new_5", "old_3", "old_9_done")
    ]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?processed=false",
        "?unprocessed=true",
        "?resolved=false",
    ],
)
def test_the_four_probes_of_the_web_client(alice, wallet, rows, query):
    separator = "&" if query else "?"
    response = alice.get(f"/api/transactions/errors{query}{separator}wallet_id={wallet}")
    expected = ["new_2", "new_5", "old_3"] + ([] if query else ["old_9_done"])
    assert ids(response) == [str(rows[name].id) for name in expected]
    assert response.json["total_count"] == len(expected)


@pytest.mark.parametrize(
    "query", ["processed=true", "resolved=true", "unprocessed=false", "processed=1&resolved=true"]
)
def test_only_processed_rows(alice, rows, query):
    assert ids(alice.get(f"/api/transactions/errors?{query}")) == [str(rows["old_9_done"].id)]


def test_contradicting_filters_are_a_422(alice, rows):
    response = alice.get("/api/transactions/errors?processed=true&unprocessed=true")
    assert response.status_code == 422
    assert response.json["detail"] == (
        "processed, unprocessed and resolved ask for different rows; send just one."
    )
    bad = alice.get("/api/transactions/errors?processed=maybe")
    assert bad.status_code == 422
    assert bad.json["errors"] == {"processed": ["Not a valid boolean."]}


def test_errors_are_paginated_and_scoped(alice, bob, wallet, rows):
    first = alice.get("/api/transactions/errors?page=1&limit=3")
    assert {k: v for k, v in first.json.items() if k != "errors"} == {
        "total_count": 4,
        "total_pages": 2,
        "page": 1,
        "limit": 3,
        "has_next": True,
        "has_prev": False,
    }
    second = alice.get("/api/transactions/errors?page=2&limit=3")
    assert len(ids(first)) + len(ids(second)) == 4
    other = alice.post("/api/wallets", json={"name": "Other"}).json["id"]
    elsewhere = error_row(alice, other)
    assert ids(alice.get(f"/api/transactions/errors?wallet_id={other}")) == [str(elsewhere.id)]
    assert alice.get("/api/transactions/errors").json["total_count"] == 5
    assert bob.get("/api/transactions/errors").json == {
        "errors": [],
        "total_count": 0,
        "total_pages": 0,
        "page": 1,
        "limit": 50,
        "has_next": False,
        "has_prev": False,
    }
    foreign = bob.get(f"/api/transactions/errors?wallet_id={wallet}")
    assert foreign.status_code == 404
    assert foreign.json["detail"] == "Wallet not found."


def test_mark_processed_and_delete(alice, rows):
    target = str(rows["old_3"].id)
    response = alice.patch(f"/api/transactions/errors/{target}", json={"processed": True})
    assert response.status_code == 200
    assert (response.json["id"], response.json["processed"]) == (target, True)
    assert response.json["updated_at"] > response.json["created_at"]
    assert TransactionError.objects.get(id=target).processed is True
    assert target not in ids(alice.get("/api/transactions/errors?processed=false"))
    missing = alice.patch(f"/api/transactions/errors/{target}", json={})
    assert missing.status_code == 422
    assert missing.json["errors"] == {"processed": ["Missing data for required field."]}
    deleted = alice.delete(f"/api/transactions/errors/{target}")
    assert deleted.status_code == 204
    assert deleted.data == b""
    again = alice.delete(f"/api/transactions/errors/{target}")
    assert again.status_code == 404
    assert again.json["detail"] == "Error row not found."
    assert TransactionError.objects.count() == 3


def test_another_users_error_rows_are_404(alice, bob, rows):
    target = str(rows["new_2"].id)
    for response in (
        bob.patch(f"/api/transactions/errors/{target}", json={"processed": True}),
        bob.delete(f"/api/transactions/errors/{target}"),
    ):
        assert response.status_code == 404
        assert response.json["detail"] == "Error row not found."
    assert TransactionError.objects.get(id=target).processed is False
    assert (
        alice.patch("/api/transactions/errors/not-an-id", json={"processed": True}).status_code
        == 404
    )
