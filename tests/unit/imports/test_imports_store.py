"""Storing canonical rows (mongomock): batches, the fingerprint look-up, assets keyed once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.assets import service as asset_service
from finance.common.decimals import d128
from finance.imports import store
from finance.imports.store import link_assets, securities, store_rows
from finance.imports.types import CanonicalRow
from finance.transactions.models import Transaction
from finance.wallets.models import Wallet

# -- Decimal128, built fast -------------------------------------------------------------------


@settings(deadline=None)
@given(
    st.decimals(allow_nan=False, allow_infinity=False)
    | st.builds(
        Decimal,
        st.from_regex(r"\A-?[0-9]{1,34}(?:\.[0-9]{0,34})?(?:E[+-]?[0-9]{1,4})?\Z", fullmatch=True),
    )
)
def test_d128_is_bsons_decimal128_bit_for_bit(value):
    try:
        want = Decimal128(value)
    except Exception as exc:  # out of Decimal128's range: refused the same way
        with pytest.raises(type(exc)):
            d128(value)
        return
    assert d128(value).bid == want.bid


@pytest.mark.parametrize(
    "text",
    ["0", "-0", "0.00", "-19021.01", "1E+5", "9" * 34, "1E-6176", "1E+6111", "NaN", "-Infinity"],
)
def test_d128_edges(text):
    assert d128(Decimal(text)).bid == Decimal128(Decimal(text)).bid


# -- securities: one spec per distinct security -----------------------------------------------


def row(n, kind="BUY", symbol=None, name=None, amount="-10", currency="EUR", **extra):
    return CanonicalRow(
        row_number=n,
        date=dt.date(2024, 1, 1) + dt.timedelta(days=n % 28),
        transaction_type=kind,
        transaction_amount=Decimal(amount),
        currency=currency,
        asset_symbol=symbol,
        asset_name=name,
        description=f"row {n}",
        **extra,
    )


def test_each_distinct_security_is_keyed_once(app, monkeypatch):
    checked = []
    original = asset_service.isin_is_valid

    def counting(isin):
        checked.append(isin)
        return original(isin)

    monkeypatch.setattr(asset_service, "isin_is_valid", counting)
    names = [
        ("US0378331005", "Apple Inc."),
        ("IE00B4L5Y983", "iShares Core MSCI World UCITS ETF"),
        ("BTC", "Bitcoin"),
    ]
    rows = [row(n, symbol=names[n % 3][0], name=names[n % 3][1]) for n in range(3000)]
    rows.append(row(3000, kind="DEPOSIT", name="Employer GmbH", amount="100"))  # a payer

    found = securities(rows)
    assert [spec.isin or spec.symbol for spec in found.specs] == [
        "US0378331005",
        "IE00B4L5Y983",
        "BTC",
    ]
    assert found.of_row[:4] == [0, 1, 2, 0]
    assert found.of_row[-1] == -1

    assets = link_assets(found)
    assert len(assets) == 3001
    assert assets[-1] is None
    assert {a.key: a.asset_type for a in assets[:3]} == {
        "US0378331005": "stock",
        "IE00B4L5Y983": "etf",
        "BTC": "crypto",
    }
    assert all(assets[n] is assets[n % 3] for n in range(3000))
    # Two ISINs, checked a few times each: never once per row.
    assert len(checked) <= 12


# -- batches and the fingerprint look-up ------------------------------------------------------


@pytest.fixture
def wallet(app, alice):
    wallet = Wallet(owner=ObjectId(alice.id), name="Main")
    wallet.save()
    return wallet


@pytest.fixture
def spied(monkeypatch):
    """Small batches, and a record of every look-up and insert the store makes."""
    monkeypatch.setattr(store, "BATCH_SIZE", 2)
    seen = {"look_ups": [], "inserts": []}
    existing, collection = store._existing, Transaction._get_collection()
    insert_many = collection.insert_many

    def spy_existing(wallet, batch, session=None):
        seen["look_ups"].append(len(batch))
        return existing(wallet, batch, session)

    def spy_insert_many(docs, *args, **kwargs):
        seen["inserts"].append(len(docs))
        return insert_many(docs, *args, **kwargs)

    monkeypatch.setattr(store, "_existing", spy_existing)
    monkeypatch.setattr(collection, "insert_many", spy_insert_many)
    return seen


def statement():
    rows = [
        row(1, kind="DEPOSIT", amount="1000"),
        row(2, symbol="AAPL", name="Apple Inc.", amount="-180.5", volume=Decimal(1)),
        row(3, kind="FEE", amount="-1.5"),
        row(4, kind="FEE", amount="-1.5"),  # the same again: both are kept
        row(5, kind="WITHDRAWAL", amount="-20"),
    ]
    rows[3].description = rows[2].description
    rows[3].date = rows[2].date
    return rows


def store_statement(wallet, rows):
    found = securities(rows)
    return store_rows(
        rows, link_assets(found), owner=wallet.owner, wallet=wallet.id, import_id=ObjectId()
    )


def test_a_first_import_skips_the_look_up_and_stores_in_batches(wallet, spied):
    outcome = store_statement(wallet, statement())

    assert (outcome.imported, outcome.duplicate_rows) == (5, [])
    assert spied == {"look_ups": [], "inserts": [2, 2, 1]}
    docs = list(Transaction._get_collection().find({"wallet": wallet.id}).sort("row_number"))
    assert [d["row_number"] for d in docs] == [1, 2, 3, 4, 5]
    assert len({d["fingerprint"] for d in docs}) == 5
    assert [d["transaction_amount"] for d in docs] == [
        Decimal128(v) for v in ("1000", "-180.5", "-1.5", "-1.5", "-20")
    ]
    assert (docs[1]["asset_type"], docs[0]["asset_type"]) == ("stock", "cash")
    totals = Wallet.objects.get(id=wallet.id).totals
    assert (totals.count, totals.balance, totals.fees) == (5, Decimal("796.5"), Decimal("3.0"))


def test_a_reimport_looks_up_every_batch_and_reports_the_duplicates(wallet, spied):
    store_statement(wallet, statement())
    spied["inserts"].clear()

    rows = statement()
    rows.append(row(6, kind="DEPOSIT", amount="5"))
    outcome = store_statement(wallet, rows)

    assert (outcome.imported, outcome.duplicate_rows) == (1, [1, 2, 3, 4, 5])
    assert spied == {"look_ups": [2, 2, 2], "inserts": [1]}
    totals = Wallet.objects.get(id=wallet.id).totals
    assert (totals.count, totals.balance) == (6, Decimal("801.5"))


def test_a_wrong_empty_hint_costs_no_duplicate(wallet, spied):
    """The kept count only decides whether to look up; the unique index decides the rest."""
    store_statement(wallet, statement())
    Wallet._get_collection().update_one({"_id": wallet.id}, {"$set": {"totals.count": 0}})

    outcome = store_statement(wallet, statement())

    assert (outcome.imported, outcome.duplicate_rows) == (0, [1, 2, 3, 4, 5])
    assert Transaction.objects(wallet=wallet.id).count() == 5
    assert Wallet.objects.get(id=wallet.id).totals.balance == Decimal("796.5")
