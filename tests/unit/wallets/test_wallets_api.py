"""/api/wallets through the real app: shapes, validation, unique names, ownership, deletion."""

import datetime as dt
from decimal import Decimal

import pytest
from bson import ObjectId

from finance.imports.models import Import
from finance.stats.models import Holding, MonthlyTotal
from finance.transactions.models import Transaction, TransactionError
from finance.wallets import service
from finance.wallets.models import Wallet
from tests.unit.transactions.helpers import add_transaction

ZERO_TOTALS = {
    "balance": 0,
    "transaction_count": 0,
    "deposits": 0,
    "withdrawals": 0,
    "income": 0,
    "fees": 0,
}


def create(user, **body):
    response = user.post("/api/wallets", json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_create_returns_the_wallet_bare_and_under_data(alice):
    response = alice.post(
        "/api/wallets",
        json={"name": "  Broker  ", "description": " ETF plan ", "base_currency": "eur"},
    )
    assert response.status_code == 201
    body = response.json
    wallet = {k: v for k, v in body.items() if k != "data"}
    assert body["data"] == wallet
    assert {k: v for k, v in wallet.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "Broker",
        "description": "ETF plan",
        "base_currency": "EUR",
        **ZERO_TOTALS,
    }
    assert len(wallet["id"]) == 24
    assert dt.datetime.fromisoformat(wallet["created_at"]).tzinfo is not None
    assert Wallet.objects.get(id=wallet["id"]).name_key == "broker"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"name": ["Missing data for required field."]}),
        ({"name": "   "}, {"name": ["Length must be between 1 and 100."]}),
        ({"name": "x" * 101}, {"name": ["Length must be between 1 and 100."]}),
        ({"name": 5}, {"name": ["Not a valid string."]}),
        (
            {"name": "A", "base_currency": "euro"},
            {"base_currency": ["Must be a 3-letter ISO-4217 code."]},
        ),
        ({"name": "A", "owner": "x"}, {"owner": ["Unknown field."]}),
    ],
)
def test_create_validates_its_body(alice, body, errors):
    response = alice.post("/api/wallets", json=body)
    assert response.status_code == 422
    assert response.json["errors"] == errors
    assert response.json["detail"] == f"Invalid value for {', '.join(sorted(errors))}."
    assert Wallet.objects.count() == 0


def test_names_are_unique_per_user_ignoring_case(alice, bob):
    create(alice, name="Broker")
    response = alice.post("/api/wallets", json={"name": " BROKER "})
    assert response.status_code == 409
    assert response.json["detail"] == (
        'You already have a wallet named "BROKER"; choose another name.'
    )
    assert response.json["errors"] == {"name": ["A wallet with this name already exists."]}
    assert create(bob, name="broker")["name"] == "broker"
    assert Wallet.objects.count() == 2


def test_list_is_an_object_newest_first_with_kept_totals(alice, bob):
    first = create(alice, name="First", base_currency="EUR")
    second = create(alice, name="Second")
    create(bob, name="Bob's")
    add_transaction(alice, first["id"], transaction_amount=250)
    add_transaction(alice, first["id"], transaction_type="WITHDRAWAL", transaction_amount=-40.5)
    add_transaction(
        alice, first["id"], transaction_type="SELL", transaction_amount=99.99, asset_name="X"
    )
    response = alice.get("/api/wallets")
    assert response.status_code == 200
    body = response.json
    assert body["count"] == 2
    assert [w["id"] for w in body["wallets"]] == [second["id"], first["id"]]
    listed = body["wallets"][1]
    assert {k: listed[k] for k in ZERO_TOTALS} == {
        "balance": Decimal("309.49"),
        "transaction_count": 3,
        "deposits": 250,
        "withdrawals": Decimal("40.5"),
        "income": Decimal("99.99"),
        "fees": 0,
    }
    assert alice.get(f"/api/wallets/{first['id']}").json == listed
    assert bob.get("/api/wallets").json["count"] == 1


def test_totals_are_read_from_the_wallet_not_computed(alice):
    wallet = create(alice, name="Main", base_currency="EUR")
    Wallet.objects(id=wallet["id"]).update_one(
        set__totals__balance=Decimal("12.34"), set__totals__count=7
    )
    listed = alice.get("/api/wallets").json["wallets"][0]
    assert (listed["balance"], listed["transaction_count"]) == (Decimal("12.34"), 7)


def test_patch_renames_redescribes_and_rejects_taken_names(alice):
    wallet = create(alice, name="Main", description="old", base_currency="EUR")
    create(alice, name="Savings")
    renamed = alice.patch(
        f"/api/wallets/{wallet['id']}",
        json={"name": " Daily ", "description": None, "base_currency": "usd"},
    )
    assert renamed.status_code == 200
    assert (renamed.json["name"], renamed.json["description"], renamed.json["base_currency"]) == (
        "Daily",
        None,
        "USD",
    )
    assert renamed.json["updated_at"] > renamed.json["created_at"]
    assert alice.patch(f"/api/wallets/{wallet['id']}", json={"name": "daily"}).status_code == 200
    taken = alice.patch(f"/api/wallets/{wallet['id']}", json={"name": "SAVINGS"})
    assert taken.status_code == 409
    assert taken.json["detail"] == 'You already have a wallet named "SAVINGS"; choose another name.'
    blank = alice.patch(f"/api/wallets/{wallet['id']}", json={"name": ""})
    assert blank.status_code == 422
    assert blank.json["errors"] == {"name": ["Length must be between 1 and 100."]}
    assert Wallet.objects.get(id=wallet["id"]).name == "daily"


def test_patch_never_touches_the_totals(alice):
    wallet = create(alice, name="Main", base_currency="EUR")
    add_transaction(alice, wallet["id"], transaction_amount=10)
    patched = alice.patch(f"/api/wallets/{wallet['id']}", json={"description": "d"}).json
    assert (patched["balance"], patched["transaction_count"]) == (10, 1)


def test_another_users_wallet_is_404_everywhere(alice, bob):
    wallet = create(alice, name="Main")
    for response in (
        bob.get(f"/api/wallets/{wallet['id']}"),
        bob.patch(f"/api/wallets/{wallet['id']}", json={"name": "Mine"}),
        bob.delete(f"/api/wallets/{wallet['id']}"),
        alice.get("/api/wallets/65f1c0ffee0123456789abcd"),
    ):
        assert response.status_code == 404
        assert response.json["detail"] == "Wallet not found."
    assert Wallet.objects.get(id=wallet["id"]).name == "Main"


def test_delete_takes_everything_of_the_wallet_and_nothing_else(alice, bob):
    doomed = create(alice, name="Doomed", base_currency="EUR")["id"]
    kept = create(alice, name="Kept", base_currency="EUR")["id"]
    bobs = create(bob, name="Bob", base_currency="EUR")["id"]
    for wallet_id, user in ((doomed, alice), (kept, alice), (bobs, bob)):
        add_transaction(
            user, wallet_id, transaction_type="BUY", transaction_amount=-50, asset_symbol="VWCE"
        )
        add_transaction(user, wallet_id, date="2024-04-02")
        TransactionError(
            owner=ObjectId(user.id),
            wallet=ObjectId(wallet_id),
            error_type="format",
            error_message="bad",
        ).save()
        Import._get_collection().insert_one(
            {"owner": ObjectId(user.id), "wallet": ObjectId(wallet_id)}
        )
    documents = (Transaction, TransactionError, Holding, MonthlyTotal, Import)
    assert set(service.owned_by_wallet()) >= set(documents)

    def left(wallet_id):
        return {
            doc.__name__: doc._get_collection().count_documents({"wallet": ObjectId(wallet_id)})
            for doc in documents
        }

    assert left(doomed) == {
        "Transaction": 2,
        "TransactionError": 1,
        "Holding": 1,
        "MonthlyTotal": 2,
        "Import": 1,
    }
    response = alice.delete(f"/api/wallets/{doomed}")
    assert response.status_code == 204
    assert response.data == b""
    assert left(doomed) == dict.fromkeys(left(doomed), 0)
    assert (
        left(kept)
        == left(bobs)
        == {"Transaction": 2, "TransactionError": 1, "Holding": 1, "MonthlyTotal": 2, "Import": 1}
    )
    assert alice.get(f"/api/wallets/{doomed}").status_code == 404
    assert [w["id"] for w in alice.get("/api/wallets").json["wallets"]] == [kept]
    assert alice.get("/api/transactions").json["total_count"] == 2
    assert alice.delete(f"/api/wallets/{doomed}").status_code == 404
