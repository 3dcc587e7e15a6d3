"""The realistic-data generator: valid documents, deterministic, and loadable like the write
path — and the stats endpoints agree with the independent reference sums on it."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal

from bson import ObjectId

from finance.transactions.models import Transaction
from finance.wallets.models import Wallet
from tests.support import data


def _without_times(rows):
    return [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")} for r in rows]


def test_rows_are_valid_transaction_documents_and_deterministic():
    owner, wallet = ObjectId(), ObjectId()
    assets = data.make_assets(random.Random(1))
    rows = data.generate(owner, wallet, 1000, seed=7, assets=assets)
    again = data.generate(owner, wallet, 1000, seed=7, assets=assets)
    assert _without_times(rows) == _without_times(again)
    assert len({r["fingerprint"] for r in rows}) == 1000
    kinds = {r["transaction_type"] for r in rows}
    assert kinds == set(data.TYPE_WEIGHTS)
    for row in rows:
        Transaction._from_son(dict(row)).validate()
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)
    # Amounts follow the sign convention; sells never exceed the position.
    held: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        amount = data.d(row["transaction_amount"])
        if row["transaction_type"] in ("BUY", "WITHDRAWAL", "FEE", "TAX", "TRANSFER_OUT"):
            assert amount < 0
        if row["transaction_type"] in ("SELL", "DEPOSIT", "DIVIDEND", "INTEREST", "TRANSFER_IN"):
            assert amount > 0
        key = data.reference_holding_key(row)
        if row["transaction_type"] == "BUY":
            held[key] += data.d(row["volume"])
        elif row["transaction_type"] == "SELL":
            held[key] -= data.d(row["volume"])
            assert held[key] >= 0
    # Labels vary like statements do, and a non-ASCII name makes a holding of its own.
    symbols = {r.get("asset_symbol") for r in rows}
    assert {" msft", "MSFT", "Msft "} <= symbols
    assert "NESTLÉ NAMENSAKTIE" in data.reference_holdings(rows)


def test_loaded_data_reads_back_as_the_reference_sums(alice):
    owner = ObjectId(alice.id)
    wallet = Wallet(owner=owner, name="Generated").save()
    assets = data.make_assets(random.Random(3))
    rows = data.generate(owner, wallet.id, 600, seed=11, assets=assets, months=12)
    data.load(rows, size=250)

    expected = data.reference_totals(rows)
    body = alice.get(f"/api/stats?wallet_id={wallet.id}").json
    assert {k: body[k] for k in expected} == expected

    months = data.reference_months(rows)
    history = alice.get(f"/api/stats/balance-history?wallet_id={wallet.id}").json
    assert [m["month"] for m in history["months"]] == list(months)
    assert history["closing_balance"] == expected["balance"]
    for point in history["months"]:
        reference = months[point["month"]]
        assert {k: point[k] for k in reference} == reference

    holdings = alice.get(f"/api/stats/holdings?wallet_id={wallet.id}&include_closed=true").json[
        "holdings"
    ]
    reference = data.reference_holdings(rows)
    assert {h["asset_key"] for h in holdings} == set(reference)
    for item in holdings:
        h = reference[item["asset_key"]]
        assert (
            item["net_volume"],
            item["buy_amount"],
            item["realised"],
            item["income"],
            item["fees"],
            item["transaction_count"],
        ) == (
            h["net_volume"],
            h["buy_amount"],
            h["sell_amount"],
            h["income"],
            h["fees"],
            h["count"],
        )
