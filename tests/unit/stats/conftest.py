"""A small, hand-checked portfolio for the stats API tests (mongomock).

Data is created the way the write path creates it: raw transaction documents inserted
with pymongo, then ``totals.apply(rows, +1)``; wallets through ``Wallet(...).save()``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from bson import Decimal128, ObjectId

from finance.assets.models import AssetPrice
from finance.stats import totals
from finance.transactions.models import Transaction
from finance.wallets.models import Wallet

_counter = iter(range(1_000_000))


def row(wallet: Wallet, day: str, kind: str, amount: str, *, fee: str = "0", **fields) -> dict:
    """A raw transaction document as the write path stores it."""
    doc = {
        "owner": wallet.owner,
        "wallet": wallet.id,
        "date": dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC),
        "transaction_type": kind,
        "transaction_amount": Decimal128(amount),
        "fee": Decimal128(fee),
        "asset_type": fields.pop("asset_type", "other"),
        "currency": fields.pop("currency", "EUR"),
        "fingerprint": f"fp-{next(_counter)}",
        "source": "manual",
        "created_at": dt.datetime.now(dt.UTC),
        "updated_at": dt.datetime.now(dt.UTC),
    }
    for name in ("volume", "item_price"):
        if name in fields:
            fields[name] = Decimal128(fields[name])
    doc.update(fields)
    return doc


def store(rows: list[dict]) -> list[dict]:
    Transaction._get_collection().insert_many(rows)
    totals.apply(rows, +1)
    return rows


def make_wallet(user, name: str) -> Wallet:
    return Wallet(owner=ObjectId(user.id), name=name).save()


@pytest.fixture
def portfolio(alice, bob):
    """Alice: "Broker" (trades, dividends, fees, transfers) and "Savings"; Bob: one deposit."""
    broker = make_wallet(alice, "Broker")
    iwda = ObjectId()
    aapl = {"asset_name": "Apple Inc.", "asset_type": "stock", "currency": "USD"}
    etf = {
        "asset": iwda,
        "asset_name": "iShares Core MSCI World",
        "asset_symbol": "IWDA",
        "asset_type": "etf",
    }
    xyz = {"asset_name": "XYZ Corp", "asset_symbol": "XYZ", "asset_type": "stock"}
    store(
        [
            row(broker, "2024-01-05", "DEPOSIT", "2000"),
            row(
                broker,
                "2024-01-10",
                "BUY",
                "-501",
                fee="1",
                volume="10",
                item_price="50",
                asset_symbol="aapl",
                **aapl,
            ),
            row(
                broker,
                "2024-03-02",
                "BUY",
                "-300",
                volume="5",
                item_price="60",
                asset_symbol=" AAPL",
                **aapl,
            ),
            row(
                broker,
                "2024-03-15",
                "SELL",
                "209",
                fee="1",
                volume="3",
                item_price="70",
                asset_symbol="AAPL",
                **aapl,
            ),
            row(broker, "2024-03-20", "DIVIDEND", "12.5", asset_symbol="AAPL", **aapl),
            row(broker, "2024-04-01", "FEE", "-2.5"),
            row(broker, "2024-04-02", "TRANSFER", "-100"),
            row(broker, "2024-04-03", "TRANSFER", "40"),
            row(broker, "2024-04-04", "INTEREST", "0.75"),
            row(broker, "2024-04-05", "WITHDRAWAL", "-200", fee="1.5"),
            row(broker, "2024-04-10", "BUY", "-300", volume="4", item_price="75", **etf),
            row(broker, "2024-04-12", "DIVIDEND", "3", asset_name="Some Co", asset_type="stock"),
            row(broker, "2024-05-02", "BUY", "-20", volume="2", item_price="10", **xyz),
            row(broker, "2024-05-20", "SELL", "30", volume="2", item_price="15", **xyz),
        ]
    )
    savings = make_wallet(alice, "Savings")
    store(
        [
            row(savings, "2023-12-01", "DEPOSIT", "500"),
            row(savings, "2024-06-30", "INTEREST", "1.25"),
        ]
    )
    prices = AssetPrice._get_collection()
    prices.insert_many(
        [
            {
                "asset": iwda,
                "date": dt.datetime(2024, 3, 1, tzinfo=dt.UTC),
                "price": Decimal128("70"),
                "currency": "EUR",
            },
            {
                "asset": iwda,
                "date": dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
                "price": Decimal128("80"),
                "currency": "EUR",
            },
            {
                "asset": ObjectId(),
                "date": dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                "price": Decimal128("1"),
                "currency": "EUR",
            },
        ]
    )
    bobs = make_wallet(bob, "Bob's")
    store([row(bobs, "2024-02-01", "DEPOSIT", "999")])
    return SimpleNamespace(broker=broker, savings=savings, bobs=bobs, iwda=iwda, zero=Decimal(0))
