"""ensure_assets(): bulk, idempotent upserts keyed by ISIN / symbol / folded name (mongomock)."""

import pytest
from bson import ObjectId
from pymongo.errors import BulkWriteError

from finance.assets.models import Asset
from finance.assets.service import (
    AssetRef,
    AssetSpec,
    asset_key,
    ensure_assets,
    isin_is_valid,
)


@pytest.fixture
def calls(app, monkeypatch):
    """Counts the round trips ensure_assets makes to the assets collection."""
    collection = Asset._get_collection()
    counted = {"bulk_write": [], "find": 0}
    bulk_write, find = collection.bulk_write, collection.find

    def spy_bulk_write(operations, *args, **kwargs):
        counted["bulk_write"].append(len(operations))
        return bulk_write(operations, *args, **kwargs)

    def spy_find(*args, **kwargs):
        counted["find"] += 1
        return find(*args, **kwargs)

    monkeypatch.setattr(collection, "bulk_write", spy_bulk_write)
    monkeypatch.setattr(collection, "find", spy_find)
    return counted


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        (AssetSpec(name="Apple", symbol="aapl", isin="us0378331005"), "US0378331005"),
        (AssetSpec(name="Apple", symbol=" aapl "), "AAPL"),
        (AssetSpec(name="Apple", symbol="AAPL", isin="US0378331006"), "AAPL"),  # bad check digit
        (AssetSpec(name="  Société   Générale  "), "société générale"),
        (AssetSpec(name="STRASSE"), "strasse"),
        (AssetSpec(name="Straße"), "strasse"),  # casefold, not lower
        (AssetSpec(isin="IE00B4L5Y983"), "IE00B4L5Y983"),
    ],
)
def test_asset_key(spec, key):
    assert asset_key(spec) == key


def test_asset_key_needs_something():
    with pytest.raises(ValueError, match="needs a name, a symbol or an ISIN"):
        asset_key(AssetSpec(name="  ", symbol="", isin=None))


@pytest.mark.parametrize(
    ("isin", "valid"),
    [
        ("US0378331005", True),
        ("IE00B4L5Y983", True),
        ("DE0008404005", True),
        ("XS1048428012", True),
        ("US0378331006", False),
        ("US037833100", False),
        ("0S0378331005", False),
    ],
)
def test_isin_check_digit(isin, valid):
    assert isin_is_valid(isin) is valid


def test_creates_deduplicates_and_returns_refs_in_two_round_trips(calls):
    specs = [
        AssetSpec(name="Apple Inc.", symbol="aapl", currency="usd"),
        AssetSpec(name="Apple", symbol="AAPL"),  # same key: the first spec wins
        AssetSpec(name="iShares Core MSCI World UCITS ETF", isin="IE00B4L5Y983"),
        AssetSpec(name="Bitcoin", symbol="BTC", asset_type="crypto", currency="EUR"),
        AssetSpec(name="Holiday  Flat"),
        AssetSpec(name="holiday flat", asset_type="real_estate"),
    ]
    refs = ensure_assets(specs)

    assert calls == {"bulk_write": [4], "find": 1}
    assert set(refs) == {"AAPL", "IE00B4L5Y983", "BTC", "holiday flat"}
    assert all(isinstance(ref, AssetRef) and isinstance(ref.id, ObjectId) for ref in refs.values())
    assert refs["AAPL"] == AssetRef(refs["AAPL"].id, "AAPL", "Apple Inc.", "AAPL", "stock")
    assert refs["IE00B4L5Y983"] == AssetRef(
        refs["IE00B4L5Y983"].id, "IE00B4L5Y983", "iShares Core MSCI World UCITS ETF", None, "etf"
    )
    assert refs["holiday flat"].name == "Holiday Flat"
    assert refs["holiday flat"].asset_type == "other"
    stored = Asset.objects.get(key="AAPL")
    assert (stored.currency, stored.isin, stored.created_at is not None) == ("USD", None, True)
    assert Asset.objects.count() == 4
    for spec in specs:
        assert asset_key(spec) in refs


def test_is_idempotent_and_never_modifies_an_existing_asset(app):
    first = ensure_assets([AssetSpec(name="Apple Inc.", symbol="AAPL")])
    again = ensure_assets([AssetSpec(name="Apple", symbol="aapl", asset_type="other")])
    assert again == first
    stored = Asset.objects.get(key="AAPL")
    assert (stored.name, stored.asset_type) == ("Apple Inc.", "stock")
    assert Asset.objects.count() == 1


def test_unknown_type_is_classified_and_bad_values_are_dropped(app):
    refs = ensure_assets(
        [AssetSpec(name="Gold", asset_type="precious", currency="euro", symbol=None)]
    )
    assert refs["gold"].asset_type == "commodity"
    stored = Asset.objects.get(key="gold")
    assert stored.currency is None
    stored.validate()  # what the bulk path wrote is a valid document


def test_long_names_are_cut_to_the_field_limits(app):
    refs = ensure_assets([AssetSpec(name="N" * 500, symbol="S" * 90)])
    (ref,) = refs.values()
    assert (len(ref.name), len(ref.symbol), ref.key) == (200, 40, "S" * 40)
    Asset.objects.get(id=ref.id).validate()


def test_empty_input_makes_no_round_trip(calls):
    assert ensure_assets([]) == {}
    assert calls == {"bulk_write": [], "find": 0}


def test_many_specs_are_still_one_bulk_write(calls):
    specs = [AssetSpec(name=f"Company {i}", symbol=f"C{i}") for i in range(500)]
    refs = ensure_assets(specs)
    assert len(refs) == 500
    assert calls == {"bulk_write": [500], "find": 1}


def test_a_racing_writers_duplicate_key_is_harmless(app, monkeypatch):
    """Another writer inserted the same key between our check and our insert."""
    collection = Asset._get_collection()
    winner = ObjectId()

    def racing_bulk_write(operations, *args, **kwargs):
        collection.insert_one(
            {"_id": winner, "key": "AAPL", "name": "Apple (winner)", "asset_type": "stock"}
        )
        raise BulkWriteError(
            {"writeErrors": [{"index": 0, "code": 11000, "errmsg": "E11000 duplicate key"}]}
        )

    monkeypatch.setattr(collection, "bulk_write", racing_bulk_write)
    refs = ensure_assets([AssetSpec(name="Apple", symbol="AAPL")])
    assert refs == {"AAPL": AssetRef(winner, "AAPL", "Apple (winner)", None, "stock")}


def test_other_bulk_errors_are_not_swallowed(app, monkeypatch):
    collection = Asset._get_collection()

    def failing_bulk_write(operations, *args, **kwargs):
        raise BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "invalid"}]})

    monkeypatch.setattr(collection, "bulk_write", failing_bulk_write)
    with pytest.raises(BulkWriteError):
        ensure_assets([AssetSpec(name="Apple", symbol="AAPL")])
