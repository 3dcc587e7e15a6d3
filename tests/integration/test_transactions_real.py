"""Wallets and transactions against a real wire-protocol server (SecantusDB).

What mongomock cannot show: sorting and range-filtering Decimal128 amounts, the
``$regex`` operator form on the real server, multi-document transactions around
writes and kept totals, unique indexes, and which index a listing uses.
"""

import datetime as dt
from decimal import Decimal

import pytest
from bson import ObjectId

from finance.stats import totals
from finance.stats.models import Holding, MonthlyTotal
from finance.transactions import service
from finance.transactions.models import Transaction, TransactionError
from finance.wallets.models import Wallet
from tests.unit.transactions.helpers import add_transaction, assert_kept_totals_match, new_wallet


def listed(user, query):
    response = user.get(f"/api/transactions?{query}")
    assert response.status_code == 200, response.json
    return response.json


def amounts(body):
    return [item["transaction_amount"] for item in body["transactions"]]


@pytest.fixture
def wallet(real_alice):
    return new_wallet(real_alice)


@pytest.fixture
def spread(real_alice, wallet):
    """Amounts whose text order differs from their numeric order, and a tie at 2."""
    values = ["-250.5", "-3", "0.07", "2", "100.25", "1000", "-0.5", "2"]
    created = []
    for value in values:
        kind = "DEPOSIT" if Decimal(value) >= 0 else "WITHDRAWAL"
        created.append(
            add_transaction(real_alice, wallet, transaction_type=kind, transaction_amount=value)
        )
    return created


def test_sort_by_amount_is_numeric_with_id_tie_breaks(real_alice, wallet, spread):
    ascending = listed(real_alice, f"wallet_id={wallet}&sort=amount")
    assert amounts(ascending) == [
        Decimal(v) for v in ("-250.5", "-3", "-0.5", "0.07", "2", "2", "100.25", "1000")
    ]
    twos = [t["id"] for t in spread if t["transaction_amount"] == 2]
    assert [t["id"] for t in ascending["transactions"][4:6]] == sorted(twos)
    descending = listed(real_alice, f"wallet_id={wallet}&sort=-amount")
    assert [t["id"] for t in descending["transactions"]] == [
        t["id"] for t in ascending["transactions"]
    ][::-1]
    everywhere = listed(real_alice, "sort=-amount&limit=2")
    assert amounts(everywhere) == [1000, Decimal("100.25")]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("min_amount=-3&max_amount=2", ["-3", "-0.5", "0.07", "2", "2"]),
        ("min_amount=0.07", ["0.07", "2", "2", "100.25", "1000"]),
        ("max_amount=-0.5", ["-250.5", "-3", "-0.5"]),
        ("min_amount=-1000&max_amount=-100", ["-250.5"]),
        ("min_amount=2&max_amount=2", ["2", "2"]),
        ("min_amount=2.000001&max_amount=99", []),
    ],
)
def test_amount_ranges_are_inclusive_and_signed(real_alice, wallet, spread, query, expected):
    body = listed(real_alice, f"wallet_id={wallet}&sort=amount&{query}")
    assert amounts(body) == [Decimal(v) for v in expected]
    assert body["total_count"] == len(expected)


def test_text_and_asset_searches_work_on_the_real_server(real_alice, wallet):
    apple = add_transaction(
        real_alice,
        wallet,
        transaction_type="BUY",
        transaction_amount=-10,
        asset_name="Apple Inc.",
        asset_symbol="AAPL",
        description="Savings plan (monthly)",
    )
    pineapple = add_transaction(
        real_alice,
        wallet,
        transaction_type="BUY",
        transaction_amount=-10,
        asset_name="Pineapple Corp",
        date="2024-02-01",
    )
    salary = add_transaction(real_alice, wallet, description="SALARY march", date="2024-01-31")
    other = new_wallet(real_alice, "Other")
    add_transaction(real_alice, other, description="salary elsewhere")

    def found(query):
        return [t["id"] for t in listed(real_alice, query)["transactions"]]

    assert found(f"wallet_id={wallet}&asset=apple") == [apple["id"]]
    assert found(f"wallet_id={wallet}&asset=AAP") == [apple["id"]]
    assert found(f"wallet_id={wallet}&asset=pineapple%20corp") == [pineapple["id"]]
    assert found(f"wallet_id={wallet}&q=apple") == [apple["id"], pineapple["id"]]
    assert found(f"wallet_id={wallet}&q=(MONTHLY)") == [apple["id"]]
    assert found(f"wallet_id={wallet}&q=.*") == []
    assert found(f"wallet_id={wallet}&q=salary") == [salary["id"]]
    assert len(found("q=salary")) == 2
    assert found(
        f"wallet_id={wallet}&q=apple&transaction_type=buy&date_from=2024-03-01"
        "&date_to=2024-03-31&min_amount=-10&max_amount=-10"
    ) == [apple["id"]]
    assert listed(real_alice, f"wallet_id={wallet}&q=apple")["total_count"] == 2


def plan_stages(cursor):
    """(stage, indexName) of every node of the winning plan."""
    stages, stack = [], [cursor.explain()["queryPlanner"]["winningPlan"]]
    while stack:
        node = stack.pop()
        stages.append((node.get("stage"), node.get("indexName")))
        stack.extend([node["inputStage"]] if "inputStage" in node else [])
        stack.extend(node.get("inputStages", []))
    return stages


@pytest.mark.parametrize(
    ("filters", "sort", "index"),
    [
        ({}, "-date", "wallet_date"),
        ({}, "date", "wallet_date"),
        (
            {
                "transaction_type": ["BUY", "SELL"],
                "date_from": dt.date(2024, 1, 1),
                "date_to": dt.date(2024, 12, 31),
                "q": "apple",
            },
            "-date",
            "wallet_date",
        ),
        ({}, "-amount", "wallet_amount"),
        ({"all_wallets": True}, "-date", "owner_date"),
    ],
)
def test_listings_use_their_index(real_alice, wallet, spread, filters, sort, index):
    filters = dict(filters)
    owner = ObjectId(real_alice.id)
    scope = None if filters.pop("all_wallets", False) else ObjectId(wallet)
    query = service.transaction_filter(owner, wallet=scope, **filters)
    stages = plan_stages(service.listing_cursor(query, sort))
    assert ("IXSCAN", index) in stages
    assert all(stage != "COLLSCAN" for stage, _ in stages)


def test_kept_totals_are_exact_decimals_through_create_patch_delete(real_alice, wallet):
    tenth = add_transaction(real_alice, wallet, transaction_amount="0.1")
    add_transaction(real_alice, wallet, transaction_amount="0.2")
    buy = add_transaction(
        real_alice,
        wallet,
        transaction_type="BUY",
        transaction_amount=None,
        asset_symbol="VWCE",
        volume="3.3",
        item_price="101.37",
        fee="0.99",
        date="2024-02-29",
    )
    kept = assert_kept_totals_match(wallet)
    assert kept["balance"] == Decimal("0.3") - Decimal("3.3") * Decimal("101.37") - Decimal("0.99")
    real_alice.patch(
        f"/api/transactions/{buy['id']}",
        json={"volume": "1.1", "transaction_amount": None, "date": "2024-04-01"},
    )
    real_alice.delete(f"/api/transactions/{tenth['id']}")
    kept = assert_kept_totals_match(wallet)
    assert (kept["balance"], kept["count"]) == (
        Decimal("0.2") - Decimal("111.507") - Decimal("0.99"),
        2,
    )
    months = {
        doc["month"]: doc["count"]
        for doc in MonthlyTotal._get_collection().find({"wallet": ObjectId(wallet)})
    }
    assert months == {"2024-02": 0, "2024-03": 1, "2024-04": 1}


def test_moving_between_wallets_keeps_both_wallets_totals(real_alice, wallet):
    savings = new_wallet(real_alice, "Savings")
    buy = add_transaction(
        real_alice,
        wallet,
        transaction_type="BUY",
        transaction_amount="-40.10",
        asset_symbol="VWCE",
        volume=1,
        item_price="39.10",
        fee=1,
    )
    add_transaction(real_alice, wallet, transaction_amount="500")
    add_transaction(real_alice, savings, transaction_amount="20")
    response = real_alice.patch(f"/api/transactions/{buy['id']}", json={"wallet_id": savings})
    assert response.status_code == 200
    assert response.json["wallet_id"] == savings
    source, target = assert_kept_totals_match(wallet), assert_kept_totals_match(savings)
    assert (source["balance"], source["count"], source["fees"]) == (Decimal(500), 1, 0)
    assert (target["balance"], target["count"], target["fees"]) == (Decimal("-20.10"), 2, 1)
    holdings = {doc["wallet"]: doc["count"] for doc in Holding._get_collection().find()}
    assert holdings == {ObjectId(wallet): 0, ObjectId(savings): 1}


def insert_imported(user, wallet_id, fingerprint):
    """A transaction as an import stores it, with its totals."""
    row = (
        Transaction(
            owner=ObjectId(user.id),
            wallet=ObjectId(wallet_id),
            date=dt.date(2024, 5, 1),
            transaction_type="DEPOSIT",
            transaction_amount=Decimal("75.5"),
            currency="EUR",
            fingerprint=fingerprint,
            source="import",
            import_id=ObjectId(),
            row_number=2,
        )
        .to_mongo()
        .to_dict()
    )
    Transaction._get_collection().insert_one(row)
    totals.apply([row], 1)
    return str(row["_id"])


def test_a_move_that_would_duplicate_an_import_changes_nothing(real_alice, wallet):
    other = new_wallet(real_alice, "Other")
    moving = insert_imported(real_alice, wallet, "fp:abc")
    insert_imported(real_alice, other, "fp:abc")
    before = (assert_kept_totals_match(wallet), assert_kept_totals_match(other))
    response = real_alice.patch(f"/api/transactions/{moving}", json={"wallet_id": other})
    assert response.status_code == 409
    assert response.json["detail"] == "The target wallet already holds this imported transaction."
    assert (assert_kept_totals_match(wallet), assert_kept_totals_match(other)) == before
    assert Transaction.objects.get(id=moving).wallet == ObjectId(wallet)


def test_deleting_a_wallet_removes_its_data_in_one_transaction(real_alice, real_bob, wallet):
    kept = new_wallet(real_alice, "Kept")
    bobs = new_wallet(real_bob, "Bob")
    for user, wallet_id in ((real_alice, wallet), (real_alice, kept), (real_bob, bobs)):
        add_transaction(
            user, wallet_id, transaction_type="BUY", transaction_amount=-5, asset_symbol="VWCE"
        )
        add_transaction(user, wallet_id, date="2024-01-01")
        TransactionError(
            owner=ObjectId(user.id),
            wallet=ObjectId(wallet_id),
            error_type="format",
            error_message="bad date",
        ).save()

    def counts(wallet_id):
        scope = {"wallet": ObjectId(wallet_id)}
        return [
            doc._get_collection().count_documents(scope)
            for doc in (Transaction, TransactionError, Holding, MonthlyTotal)
        ]

    assert counts(wallet) == [2, 1, 1, 2]
    assert real_alice.delete(f"/api/wallets/{wallet}").status_code == 204
    assert counts(wallet) == [0, 0, 0, 0]
    assert Wallet.objects(id=wallet).count() == 0
    assert counts(kept) == counts(bobs) == [2, 1, 1, 2]
    assert real_alice.get("/api/transactions").json["total_count"] == 2


def test_wallet_names_are_unique_through_the_real_index(real_alice, real_bob):
    new_wallet(real_alice, "Broker")
    response = real_alice.post("/api/wallets", json={"name": "broker"})
    assert response.status_code == 409
    assert (
        response.json["detail"] == 'You already have a wallet named "broker"; choose another name.'
    )
    other = new_wallet(real_alice, "Other")
    renamed = real_alice.patch(f"/api/wallets/{other}", json={"name": "BROKER"})
    assert renamed.status_code == 409
    assert new_wallet(real_bob, "Broker")
    assert sorted(w["name"] for w in real_alice.get("/api/wallets").json["wallets"]) == [
        "Broker",
        "Other",
    ]


def test_error_rows_list_and_change_on_the_real_server(real_alice, wallet):
    rows = [
        TransactionError(
            owner=ObjectId(real_alice.id),
            wallet=ObjectId(wallet),
            import_id=ObjectId(),
            row_number=n,
            error_type="missing",
            error_message="The amount is empty.",
            processed=n == 3,
        ).save()
        for n in (1, 2, 3)
    ]
    for query in ("processed=false", "unprocessed=true", "resolved=false"):
        body = real_alice.get(f"/api/transactions/errors?wallet_id={wallet}&{query}").json
        assert body["total_count"] == 2, query
    target = str(rows[0].id)
    patched = real_alice.patch(f"/api/transactions/errors/{target}", json={"processed": True})
    assert patched.json["processed"] is True
    assert (
        real_alice.get(f"/api/transactions/errors?wallet_id={wallet}&processed=false").json[
            "total_count"
        ]
        == 1
    )
    assert real_alice.delete(f"/api/transactions/errors/{target}").status_code == 204
    assert real_alice.get("/api/transactions/errors").json["total_count"] == 2
