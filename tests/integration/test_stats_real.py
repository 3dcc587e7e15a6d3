"""Stats on the real server: 10,000 generated transactions, read, verified, corrupted, rebuilt.

The data (tests/support/data.py, seeded) is loaded the way the write path stores it — raw
documents inserted in batches, each with ``totals.apply`` in the same transaction — and
every figure the API returns is compared with sums computed here, in Decimal, straight from
the generated rows (``data.reference_*``), never with the code under test.

One app and one database serve the whole module: loading takes a few seconds, and the
tests that damage kept totals repair them before they end.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, Decimal
from types import SimpleNamespace

import pymongo
import pytest
from bson import Decimal128, ObjectId

from finance.assets.models import Asset, AssetPrice
from finance.db import disconnect, get_db
from finance.stats import rebuild
from finance.stats.models import Holding, MonthlyTotal
from finance.stats.service import latest_prices_pipeline
from finance.transactions.models import Transaction
from finance.wallets.models import Wallet
from tests.conftest import ApiUser, make_app
from tests.support import data

CENT = Decimal("0.01")
ALICE_WALLETS = (
    ("Broker", 3800, "EUR"),
    ("US stocks", 2800, "USD"),
    ("Crypto", 1900, "EUR"),
    ("Savings", 1200, "EUR"),
)


@pytest.fixture(scope="module")
def world(mongodb_uri, auth_environ, tokens):
    name = f"test_stats_{uuid.uuid4().hex[:10]}"
    app = make_app(
        environ=auth_environ, MONGODB_URI=mongodb_uri, MONGODB_DATABASE=name, MONGODB_MOCK=False
    )
    client = app.test_client()
    alice = ApiUser(client, tokens, "alice-uid", "alice@example.com")
    bob = ApiUser(client, tokens, "bob-uid", "bob@example.com")
    assets = data.make_assets(random.Random(2024))
    Asset._get_collection().insert_many(data.asset_documents(assets))

    wallets, rows_by_wallet = {}, {}
    plan = [(alice, *spec) for spec in ALICE_WALLETS] + [(bob, "Bob's", 300, "EUR")]
    for seed, (user, wallet_name, count, currency) in enumerate(plan, start=1):
        wallet = Wallet(owner=ObjectId(user.id), name=wallet_name, base_currency=currency).save()
        rows = data.generate(
            wallet.owner, wallet.id, count, seed=seed, assets=assets, currency=currency
        )
        data.load(rows)
        wallets[wallet_name], rows_by_wallet[wallet.id] = wallet, rows
    yield SimpleNamespace(
        app=app, alice=alice, bob=bob, assets=assets, wallets=wallets, rows=rows_by_wallet
    )
    disconnect()
    with pymongo.MongoClient(mongodb_uri) as mongo:
        mongo.drop_database(name)


def _alice_rows(world):
    return [
        row
        for wallet_name, *_ in ALICE_WALLETS
        for row in world.rows[world.wallets[wallet_name].id]
    ]


def _expected_figures(rows):
    return data.reference_totals(rows)


def test_loaded_enough_data(world):
    assert sum(len(rows) for rows in world.rows.values()) >= 10_000
    assert Transaction._get_collection().estimated_document_count() == 10_000


def test_stats_equal_the_reference_sums(world):
    for wallet_name, *_ in ALICE_WALLETS:
        wallet = world.wallets[wallet_name]
        body = world.alice.get(f"/api/stats?wallet_id={wallet.id}").json
        assert body == {
            "wallet_id": str(wallet.id),
            "wallet_name": wallet_name,
            **_expected_figures(world.rows[wallet.id]),
        }

    everything = world.alice.get("/api/stats").json
    expected = _expected_figures(_alice_rows(world))
    assert {k: everything[k] for k in expected} == expected
    assert everything["wallet_count"] == 4
    assert [w["wallet_name"] for w in everything["wallets"]] == [
        "Savings",
        "Crypto",
        "US stocks",
        "Broker",
    ]
    bobs = world.bob.get("/api/stats").json
    assert bobs["total_count"] == 300
    assert (
        bobs["balance"] == data.reference_totals(world.rows[world.wallets["Bob's"].id])["balance"]
    )


def test_holdings_equal_the_reference_sums(world):
    for wallet_name, *_ in ALICE_WALLETS:
        wallet = world.wallets[wallet_name]
        reference = data.reference_holdings(world.rows[wallet.id])
        body = world.alice.get(
            f"/api/stats/holdings?wallet_id={wallet.id}&include_closed=true"
        ).json
        assert {h["asset_key"] for h in body["holdings"]} == set(reference)
        for item in body["holdings"]:
            h = reference[item["asset_key"]]
            assert item["net_volume"] == h["net_volume"]
            assert item["buy_amount"] == h["buy_amount"]
            assert item["realised"] == h["sell_amount"]
            assert item["income"] == h["income"]
            assert item["fees"] == h["fees"]
            assert item["transaction_count"] == h["count"]
            assert item["closed"] is (h["net_volume"] == 0)
            if h["buy_volume"]:
                invested = h["buy_amount"] * h["net_volume"] / h["buy_volume"]
                assert item["invested"] == invested.quantize(CENT, ROUND_HALF_EVEN)
        open_only = world.alice.get(f"/api/stats/holdings?wallet_id={wallet.id}").json
        assert open_only["count"] == sum(1 for h in reference.values() if h["net_volume"])
    # Statement labels " msft", "MSFT" and "Msft " make one holding; "Nestlé" keeps its accent.
    keys = {h["asset_key"] for h in world.alice.get("/api/stats/holdings").json["holdings"]}
    assert {"MSFT", "NESTLÉ NAMENSAKTIE"} <= keys


def _series(months, start=None, end=None):
    opening = sum((m["net"] for k, m in months.items() if start and k < start), Decimal(0))
    chosen = [k for k in months if (not start or k >= start) and (not end or k <= end)]
    balance, points = opening, []
    for key in chosen:  # generated wallets have transactions in every month
        balance += months[key]["net"]
        points.append({"month": key, **months[key], "balance": balance})
    return opening, balance, points


def test_balance_history_equals_the_reference_months(world):
    wallet = world.wallets["Broker"]
    months = data.reference_months(world.rows[wallet.id])
    body = world.alice.get(f"/api/stats/balance-history?wallet_id={wallet.id}").json
    opening, closing, points = _series(months)
    assert body == {
        "wallet_id": str(wallet.id),
        "date_from": None,
        "date_to": None,
        "opening_balance": opening,
        "closing_balance": closing,
        "months": points,
    }
    assert len(points) == 36

    merged: dict[str, dict] = {}
    for row_month, values in data.reference_months(_alice_rows(world)).items():
        merged[row_month] = values
    body = world.alice.get("/api/stats/balance-history?date_from=2022-03-15&date_to=2023-06").json
    opening, closing, points = _series(merged, "2022-03", "2023-06")
    assert body["opening_balance"] == opening
    assert body["closing_balance"] == closing
    assert body["months"] == points


def test_verify_finds_nothing_to_fix(world):
    result = world.app.test_cli_runner().invoke(args=["stats", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output == "checked 5 wallet(s): 0 difference(s)\n"


def test_corrupted_totals_are_reported_and_rebuilt(world):
    """Damage every grain of Crypto's totals and Bob's, then verify and rebuild by scope.

    (Scoped runs keep the test quick: the full-scope verify is the test above, and the
    full-scope rebuild runs the same per-wallet code.)
    """
    crypto, bobs = world.wallets["Crypto"], world.wallets["Bob's"]
    wallets = Wallet._get_collection()
    wallets.update_one(
        {"_id": crypto.id}, {"$inc": {"totals.balance": Decimal128("0.01"), "totals.count": 1}}
    )
    wallets.update_one({"_id": crypto.id}, {"$set": {"totals.by_currency.GBP": Decimal128("5")}})
    wallets.update_one({"_id": bobs.id}, {"$inc": {"totals.income": Decimal128("-2.5")}})
    holding = Holding._get_collection().find_one({"wallet": crypto.id, "count": {"$gt": 3}})
    Holding._get_collection().update_one(
        {"_id": holding["_id"]}, {"$inc": {"buy_volume": Decimal128("1")}}
    )
    deleted = MonthlyTotal._get_collection().find_one_and_delete(
        {"wallet": crypto.id, "month": "2022-07"}
    )
    assert deleted is not None
    ghost = ObjectId()  # a wallet of Bob's that was deleted, leaving a monthly total behind
    MonthlyTotal._get_collection().insert_one(
        {
            "_id": f"{ghost}|2022-01",
            "owner": bobs.owner,
            "wallet": ghost,
            "month": "2022-01",
            "net": Decimal128("1"),
            "count": 1,
        }
    )
    balance = data.reference_totals(world.rows[crypto.id])["balance"]
    income = data.reference_totals(world.rows[bobs.id])["income"]
    bought = holding["buy_volume"].to_decimal()
    key = holding["_id"].split("|", 1)[1]
    crypto_lines = [
        f"wallet {crypto.id}: totals.balance kept {balance + CENT} != recomputed {balance}",
        f"wallet {crypto.id}: totals.count kept 1901 != recomputed 1900",
        f"wallet {crypto.id}: totals.by_currency.GBP kept 5 != recomputed 0",
        f"wallet {crypto.id} holding {key}: buy_volume kept {bought + 1} != recomputed {bought}",
        f"wallet {crypto.id} month 2022-07: document kept missing != recomputed present",
    ]
    bob_lines = [
        f"wallet {bobs.id}: totals.income kept {income - Decimal('2.5')} != recomputed {income}",
        f"deleted wallet {ghost}: months kept 1 != recomputed 0",
    ]

    runner = world.app.test_cli_runner()
    result = runner.invoke(args=["stats", "verify", "--wallet", str(crypto.id)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [*crypto_lines, "checked 1 wallet(s): 5 difference(s)"]
    result = runner.invoke(args=["stats", "verify", "--user", "bob@example.com"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [*bob_lines, "checked 1 wallet(s): 2 difference(s)"]

    result = runner.invoke(args=["stats", "rebuild", "--wallet", str(crypto.id)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        *(f"fixed {line}" for line in crypto_lines),
        "rebuilt 1 wallet(s): 5 difference(s) fixed",
    ]
    result = runner.invoke(args=["stats", "rebuild", "--user", "bob@example.com"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "rebuilt 1 wallet(s): 2 difference(s) fixed"

    assert runner.invoke(args=["stats", "verify", "--wallet", str(crypto.id)]).exit_code == 0
    assert runner.invoke(args=["stats", "verify", "--user", "bob@example.com"]).exit_code == 0
    assert MonthlyTotal._get_collection().count_documents({"wallet": ghost}) == 0

    body = world.alice.get(f"/api/stats?wallet_id={crypto.id}").json
    assert body == {
        "wallet_id": str(crypto.id),
        "wallet_name": "Crypto",
        **_expected_figures(world.rows[crypto.id]),
    }
    history = world.alice.get(f"/api/stats/balance-history?wallet_id={crypto.id}").json
    july = next(m for m in history["months"] if m["month"] == "2022-07")
    assert july["net"] == data.reference_months(world.rows[crypto.id])["2022-07"]["net"]
    holdings = world.alice.get(f"/api/stats/holdings?wallet_id={crypto.id}").json["holdings"]
    rebuilt = next(h for h in holdings if h["asset_key"] == key)
    assert rebuilt["buy_volume"] == bought
    assert rebuilt["asset_type"] != "other"  # labels come back from the newest transaction


def test_rebuild_refuses_unknown_scopes(world):
    runner = world.app.test_cli_runner()
    result = runner.invoke(args=["stats", "verify", "--user", "nobody@example.com"])
    assert result.exit_code == 1
    assert "No user has the email 'nobody@example.com'." in result.output
    result = runner.invoke(
        args=[
            "stats",
            "rebuild",
            "--user",
            "bob@example.com",
            "--wallet",
            str(world.wallets["Broker"].id),
        ]
    )
    assert result.exit_code == 1
    assert "of that user" in result.output


def _price_docs(world):
    """Three prices for two linked assets (the third linked asset stays unpriced)."""
    linked = [a for a in world.assets if a.id is not None]
    priced = {linked[0].id: Decimal("187.25"), linked[2].id: Decimal("41234.5")}
    docs = []
    for asset_id, latest in priced.items():
        for days, price in ((400, latest / 2), (30, latest - 1), (0, latest)):
            docs.append(
                {
                    "asset": asset_id,
                    "date": dt.datetime(2024, 6, 30, tzinfo=dt.UTC) - dt.timedelta(days),
                    "price": Decimal128(price),
                    "currency": "EUR",
                }
            )
    return priced, docs


def _expected_allocation(rows_by_wallet, priced):
    """Value per asset type: net x latest price, else at average cost; positive cash."""
    merged: dict[str, dict] = {}
    cash = Decimal(0)
    for rows in rows_by_wallet:
        cash += max(data.reference_totals(rows)["balance"], Decimal(0))
        for key, h in data.reference_holdings(rows).items():
            m = merged.setdefault(key, defaultdict(Decimal, asset_type=h["asset_type"]))
            for name in ("buy_volume", "buy_amount", "net_volume"):
                m[name] += h[name]
    values: dict[str, Decimal] = defaultdict(Decimal)
    for key, h in merged.items():
        if h["net_volume"] <= 0:
            continue
        price = next((p for asset_id, p in priced.items() if str(asset_id) == key), None)
        if price is not None:
            values[h["asset_type"]] += h["net_volume"] * price
        elif h["buy_volume"] > 0:
            values[h["asset_type"]] += h["buy_amount"] * h["net_volume"] / h["buy_volume"]
    if cash:
        values["cash"] += cash
    return values


def test_allocation_values_and_percentages(world):
    priced, docs = _price_docs(world)
    AssetPrice._get_collection().insert_many(docs)
    try:
        cases = [
            (f"?wallet_id={world.wallets[n].id}", [world.rows[world.wallets[n].id]])
            for n in ("Broker", "Crypto")
        ]
        cases.append(("", [world.rows[world.wallets[n].id] for n, *_ in ALICE_WALLETS]))
        for query, rows in cases:
            body = world.alice.get(f"/api/stats/allocation{query}").json
            expected = _expected_allocation(rows, priced)
            got = {item["asset_type"]: item for item in body["allocation"]}
            assert set(got) == {t for t, v in expected.items() if v > 0}
            total = sum(expected.values())
            for asset_type, value in expected.items():
                assert got[asset_type]["value"] == value.quantize(CENT, ROUND_HALF_EVEN)
                assert abs(got[asset_type]["percentage"] - value * 100 / total) < CENT
            assert sum(item["percentage"] for item in body["allocation"]) == Decimal("100.00")
            assert body["total_value"] == sum(item["value"] for item in body["allocation"])
            assert any(item["priced_count"] for item in body["allocation"])
    finally:
        AssetPrice._get_collection().delete_many({})


def _winning_index(plan):
    """The index name an explain's winning plan scans (FETCH/SORT/... wrap an IXSCAN)."""
    while plan:
        assert plan["stage"] != "COLLSCAN", plan
        if plan["stage"] == "IXSCAN":
            return plan["indexName"]
        plan = plan.get("inputStage")
    return None


def _aggregate_index(collection, pipeline, **options):
    command = {"aggregate": collection.name, "pipeline": pipeline, "cursor": {}, **options}
    explained = get_db().command("explain", command)
    stages = explained.get("stages")
    planner = stages[0]["$cursor"]["queryPlanner"] if stages else explained["queryPlanner"]
    return _winning_index(planner["winningPlan"])


def test_hot_queries_use_their_indexes(world):
    wallet = world.wallets["Broker"]
    owner = wallet.owner
    linked = [a.id for a in world.assets if a.id is not None]

    def find_index(cursor):
        return _winning_index(cursor.explain()["queryPlanner"]["winningPlan"])

    holdings = Holding._get_collection()
    months = MonthlyTotal._get_collection()
    assert find_index(holdings.find({"owner": owner, "wallet": wallet.id})) == "owner_wallet"
    assert (
        find_index(
            months.find({"owner": owner, "wallet": wallet.id, "month": {"$lte": "2023-01"}}).sort(
                "month", 1
            )
        )
        == "owner_wallet_month"
    )
    wallet_query = Wallet._get_collection().find({"_id": wallet.id, "owner": owner})
    assert find_index(wallet_query.hint("_id_")) == "_id_"  # as service.owned_wallet asks
    assert (
        _aggregate_index(AssetPrice._get_collection(), latest_prices_pipeline(linked))
        == "uniq_asset_date"
    )
    transactions = Transaction._get_collection()
    for pipeline in (
        rebuild.cash_pipeline(owner, wallet.id),
        rebuild.holdings_pipeline(owner, wallet.id),
    ):
        # Either (owner, wallet, ...) index bounds the scan to the wallet.
        assert _aggregate_index(transactions, pipeline) in {"wallet_date", "wallet_amount"}
