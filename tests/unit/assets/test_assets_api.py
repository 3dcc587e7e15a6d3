"""/api/assets and /api/assets/{id}/prices through the real app (mongomock)."""

import datetime as dt
from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId
from mongoengine.errors import NotUniqueError
from pymongo.errors import BulkWriteError

from finance.assets.models import Asset, AssetPrice
from finance.assets.service import add_prices
from finance.common.fields import day_start

MSCI_WORLD = {
    "name": "iShares Core MSCI World UCITS ETF",
    "symbol": "eunl",
    "isin": "IE00B4L5Y983",
    "currency": "eur",
}


def stable(item):
    """An item without the values a test cannot predict (ids are checked separately)."""
    return {k: v for k, v in item.items() if k not in ("id", "created_at", "updated_at")}


def create(user, **body):
    response = user.post("/api/assets", json=body)
    assert response.status_code == 201, response.json
    return response.json


# ---------------------------------------------------------------------------- auth


def test_assets_need_a_signed_in_registered_user(client, tokens):
    response = client.get("/api/assets")
    assert response.status_code == 401
    assert response.json["detail"] == (
        "The request has no Authorization header; send 'Authorization: Bearer <token>'."
    )
    unregistered = tokens.rs256(sub="nobody-uid")
    response = client.get("/api/assets", headers={"Authorization": f"Bearer {unregistered}"})
    assert response.status_code == 403


def test_assets_are_shared_between_users(alice, bob):
    asset = create(alice, **MSCI_WORLD)
    response = bob.get(f"/api/assets/{asset['id']}")
    assert response.status_code == 200
    assert response.json["id"] == asset["id"]


# ---------------------------------------------------------------------------- create


def test_create_normalises_and_classifies(alice):
    body = create(alice, **MSCI_WORLD)
    assert stable(body) == {
        "key": "IE00B4L5Y983",
        "name": "iShares Core MSCI World UCITS ETF",
        "symbol": "EUNL",
        "isin": "IE00B4L5Y983",
        "asset_type": "etf",
        "currency": "EUR",
    }
    assert len(body["id"]) == 24
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    stored = Asset.objects.get(id=body["id"])
    assert (stored.key, stored.asset_type) == ("IE00B4L5Y983", "etf")
    read = alice.get(f"/api/assets/{body['id']}").json
    assert {k: read[k] for k in body} == body  # the 201 is exactly what a later read sees


def test_create_with_only_a_name_keys_on_the_folded_name(alice):
    body = create(alice, name="  Holiday   Flat ", asset_type="real_estate")
    assert stable(body) == {
        "key": "holiday flat",
        "name": "Holiday Flat",
        "symbol": None,
        "isin": None,
        "asset_type": "real_estate",
        "currency": None,
    }


def test_create_validates(alice):
    response = alice.post(
        "/api/assets",
        json={
            "name": "  ",
            "isin": "US0378331006",
            "asset_type": "car",
            "currency": "euro",
            "symbol": "X" * 41,
        },
    )
    assert response.status_code == 422
    assert response.json["detail"] == "Invalid value for asset_type, currency, isin, name, symbol."
    assert response.json["errors"] == {
        "asset_type": [
            "Must be one of: stock, etf, bond, fund, crypto, cash, commodity, real_estate, other."
        ],
        "currency": ["Must be a 3-letter ISO-4217 code."],
        "isin": ["Not a valid ISIN (12 characters with a valid check digit)."],
        "name": ["Length must be between 1 and 200."],
        "symbol": ["Longer than maximum length 40."],
    }
    missing = alice.post("/api/assets", json={})
    assert missing.status_code == 422
    assert missing.json["errors"] == {"name": ["Missing data for required field."]}
    assert Asset.objects.count() == 0


def test_a_duplicate_key_is_409_naming_the_existing_asset(alice, bob):
    first = create(alice, **MSCI_WORLD)
    response = bob.post("/api/assets", json={"name": "MSCI World", "isin": "ie00b4l5y983"})
    assert response.status_code == 409
    assert response.json["detail"] == (
        f"An asset with this identity (IE00B4L5Y983) already exists: {first['id']}."
    )
    assert response.json["errors"] == {"asset_id": [first["id"]]}
    by_symbol = create(alice, name="Apple", symbol="AAPL")
    again = alice.post("/api/assets", json={"name": "Apple Inc", "symbol": " aapl"})
    assert again.status_code == 409
    assert again.json["errors"] == {"asset_id": [by_symbol["id"]]}
    assert Asset.objects.count() == 2


# ---------------------------------------------------------------------------- read


def test_get_unknown_or_malformed_id_is_404(alice):
    for asset_id in ("65f1c0ffee0123456789abcd", "not-an-id"):
        response = alice.get(f"/api/assets/{asset_id}")
        assert response.status_code == 404
        assert response.json["detail"] == "Asset not found."


def test_get_includes_the_latest_price(alice):
    asset = create(alice, **MSCI_WORLD)
    assert alice.get(f"/api/assets/{asset['id']}").json["latest_price"] is None
    alice.post(
        f"/api/assets/{asset['id']}/prices",
        json={
            "prices": [
                {"date": "2025-03-28", "price": 100.5},
                {"date": "2025-03-31", "price": "101.25", "currency": "USD"},
                {"date": "2025-01-02", "price": 90},
            ]
        },
    )
    response = alice.get(f"/api/assets/{asset['id']}")
    assert response.status_code == 200
    assert stable(response.json) == {
        **stable(asset),
        "latest_price": {"price": Decimal("101.25"), "currency": "USD", "date": "2025-03-31"},
    }
    assert b'"price":101.25' in response.data  # a JSON number, not a string


def test_list_sorts_by_name_paginates_and_filters(alice):
    for name, symbol in [
        ("Zalando SE", "ZAL"),
        ("Apple Inc.", "AAPL"),
        ("Bitcoin", "BTC"),
        ("Microsoft Corp", "MSFT"),
        ("iShares Core S&P 500", "CSPX"),
    ]:
        create(alice, name=name, symbol=symbol)
    first = alice.get("/api/assets?limit=2")
    assert first.status_code == 200
    assert [a["name"] for a in first.json["assets"]] == ["Apple Inc.", "Bitcoin"]
    assert {k: v for k, v in first.json.items() if k != "assets"} == {
        "total_count": 5,
        "total_pages": 3,
        "page": 1,
        "limit": 2,
        "has_next": True,
        "has_prev": False,
    }
    last = alice.get("/api/assets?limit=2&page=3")
    assert [a["name"] for a in last.json["assets"]] == ["iShares Core S&P 500"]
    assert (last.json["has_next"], last.json["has_prev"]) == (False, True)
    stocks = alice.get("/api/assets?asset_type=stock")
    assert [a["symbol"] for a in stocks.json["assets"]] == ["AAPL", "MSFT", "ZAL"]
    assert stocks.json["total_count"] == 3


def test_search_is_a_case_insensitive_escaped_substring(alice):
    create(alice, name="S&P 500 (Acc)", symbol="SPXA")
    create(alice, name="Apple Inc.", symbol="AAPL", isin="US0378331005")
    create(alice, name="Snapple", symbol="SNAP")

    def names(q):
        response = alice.get("/api/assets", query_string={"q": q})
        assert response.status_code == 200
        return [a["name"] for a in response.json["assets"]]

    assert names("apple") == ["Apple Inc.", "Snapple"]
    assert names("AAPL") == ["Apple Inc."]  # the symbol
    assert names("us03783") == ["Apple Inc."]  # the ISIN
    assert names("(acc)") == ["S&P 500 (Acc)"]  # regex characters are literal
    assert names(".*") == []


def test_list_validates_its_query(alice):
    response = alice.get("/api/assets?asset_type=car&limit=5000&page=0")
    assert response.status_code == 422
    assert set(response.json["errors"]) == {"asset_type", "limit", "page"}


# ---------------------------------------------------------------------------- update


def test_patch_changes_fields_and_key(alice):
    asset = create(alice, name="Apple", symbol="AAPL")
    response = alice.patch(
        f"/api/assets/{asset['id']}",
        json={"name": "Apple Inc.", "isin": "us0378331005", "currency": "usd"},
    )
    assert response.status_code == 200
    assert stable(response.json) == {
        "key": "US0378331005",
        "name": "Apple Inc.",
        "symbol": "AAPL",
        "isin": "US0378331005",
        "asset_type": "stock",
        "currency": "USD",
    }
    assert response.json["updated_at"] >= asset["updated_at"]
    assert response.json["created_at"] == asset["created_at"]
    cleared = alice.patch(f"/api/assets/{asset['id']}", json={"isin": None, "symbol": ""})
    assert cleared.status_code == 200
    assert (cleared.json["key"], cleared.json["symbol"], cleared.json["isin"]) == (
        "apple inc.",
        None,
        None,
    )


def test_patch_to_a_taken_key_is_409_and_changes_nothing(alice):
    apple = create(alice, name="Apple", symbol="AAPL")
    other = create(alice, name="Microsoft", symbol="MSFT")
    response = alice.patch(f"/api/assets/{other['id']}", json={"symbol": "aapl"})
    assert response.status_code == 409
    assert response.json["detail"] == (
        f"An asset with this identity (AAPL) already exists: {apple['id']}."
    )
    assert Asset.objects.get(id=other["id"]).key == "MSFT"
    same = alice.patch(f"/api/assets/{apple['id']}", json={"symbol": "AAPL", "name": "Apple 2"})
    assert same.status_code == 200  # its own key is not a conflict


def test_patch_validates_and_404s(alice):
    asset = create(alice, name="Apple", symbol="AAPL")
    bad = alice.patch(
        f"/api/assets/{asset['id']}", json={"name": "", "asset_type": None, "key": "X"}
    )
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"name", "asset_type", "key"}
    missing = alice.patch("/api/assets/65f1c0ffee0123456789abcd", json={"name": "X"})
    assert missing.status_code == 404


# ---------------------------------------------------------------------------- prices


def test_post_one_price_defaults_currency_and_answers_the_stored_price(alice):
    asset = create(alice, **MSCI_WORLD)
    response = alice.post(
        f"/api/assets/{asset['id']}/prices", json={"date": "2025-03-31", "price": 101.25}
    )
    assert response.status_code == 201
    assert response.json["count"] == 1
    (price,) = response.json["prices"]
    assert stable(price) == {
        "asset_id": asset["id"],
        "date": "2025-03-31",
        "price": Decimal("101.25"),
        "currency": "EUR",
    }
    stored = AssetPrice.objects.get()
    assert (stored.date, stored.price) == (dt.date(2025, 3, 31), Decimal("101.25"))


def test_a_second_price_for_a_day_replaces_it(alice):
    asset = create(alice, **MSCI_WORLD)
    url = f"/api/assets/{asset['id']}/prices"
    first = alice.post(url, json={"date": "2025-03-31", "price": 100}).json["prices"][0]
    second = alice.post(url, json={"date": "2025-03-31", "price": "100.10", "currency": "USD"})
    assert second.status_code == 201
    replaced = second.json["prices"][0]
    assert replaced["id"] == first["id"]
    assert (replaced["price"], replaced["currency"]) == (Decimal("100.10"), "USD")
    assert replaced["created_at"] == first["created_at"]
    assert AssetPrice.objects.count() == 1


def test_bulk_prices_last_one_per_day_wins_and_come_back_newest_first(alice):
    asset = create(alice, **MSCI_WORLD)
    response = alice.post(
        f"/api/assets/{asset['id']}/prices",
        json={
            "prices": [
                {"date": "2025-01-02", "price": 1},
                {"date": "2025-01-03", "price": 2},
                {"date": "2025-01-02", "price": 3},
            ]
        },
    )
    assert response.status_code == 201
    assert [(p["date"], p["price"]) for p in response.json["prices"]] == [
        ("2025-01-03", 2),
        ("2025-01-02", 3),
    ]
    assert response.json["count"] == 2


def test_price_validation(alice):
    asset = create(alice, name="No currency", symbol="NOCUR")
    url = f"/api/assets/{asset['id']}/prices"
    single = alice.post(url, json={"date": "31.03.2025", "price": 0})
    assert single.status_code == 422
    assert single.json["errors"] == {
        "date": ["Not a valid date."],
        "price": ["Must be greater than 0."],
    }
    bulk = alice.post(
        url,
        json={
            "prices": [
                {"date": "2025-01-01", "price": -1},
                {"date": "2025-01-02", "price": "1e-30"},
            ]
        },
    )
    assert bulk.status_code == 422
    assert bulk.json["errors"] == {
        "prices": {
            "0": {"price": ["Must be greater than 0."]},
            "1": {"price": ["At most 18 decimal places."]},
        }
    }
    too_many = alice.post(url, json={"prices": [{"date": "2025-01-01", "price": 1}] * 1001})
    assert too_many.status_code == 422
    assert too_many.json["errors"] == {"prices": ["Length must be between 1 and 1000."]}
    empty = alice.post(url, json={"prices": []})
    assert empty.status_code == 422
    no_currency = alice.post(url, json={"date": "2025-01-01", "price": 1})
    assert no_currency.status_code == 422
    assert no_currency.json["detail"] == "currency is required: this asset has no default currency."
    assert AssetPrice.objects.count() == 0


def test_prices_of_an_unknown_asset_are_404(alice):
    url = "/api/assets/65f1c0ffee0123456789abcd/prices"
    assert (
        alice.post(url, json={"date": "2025-01-01", "price": 1, "currency": "EUR"}).status_code
        == 404
    )
    assert alice.get(url).status_code == 404


def test_price_listing_is_newest_first_paginated_and_date_ranged(alice):
    asset = create(alice, **MSCI_WORLD)
    url = f"/api/assets/{asset['id']}/prices"
    days = [dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(10)]
    alice.post(
        url, json={"prices": [{"date": d.isoformat(), "price": i + 1} for i, d in enumerate(days)]}
    )
    page = alice.get(url, query_string={"limit": 3, "page": 2})
    assert page.status_code == 200
    assert [p["date"] for p in page.json["prices"]] == ["2025-01-07", "2025-01-06", "2025-01-05"]
    assert {k: v for k, v in page.json.items() if k != "prices"} == {
        "total_count": 10,
        "total_pages": 4,
        "page": 2,
        "limit": 3,
        "has_next": True,
        "has_prev": True,
    }
    ranged = alice.get(url, query_string={"date_from": "2025-01-03", "date_to": "2025-01-05"})
    assert [(p["date"], p["price"]) for p in ranged.json["prices"]] == [
        ("2025-01-05", 5),
        ("2025-01-04", 4),
        ("2025-01-03", 3),
    ]
    assert ranged.json["total_count"] == 3
    backwards = alice.get(url, query_string={"date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert backwards.status_code == 422
    assert backwards.json["detail"] == "date_from must not be after date_to."


def test_openapi_documents_the_asset_endpoints(client):
    spec = client.get("/api/openapi.json").json
    paths = spec["paths"]
    assert set(paths["/api/assets"]) >= {"get", "post"}
    assert set(paths["/api/assets/{asset_id}"]) >= {"get", "patch"}
    assert set(paths["/api/assets/{asset_id}/prices"]) >= {"get", "post"}
    examples = paths["/api/assets/{asset_id}/prices"]["post"]["requestBody"]["content"][
        "application/json"
    ]["examples"]
    assert set(examples) == {"one", "many"}
    assert "409" in paths["/api/assets"]["post"]["responses"]


@pytest.mark.parametrize("path", ["/api/assets", "/api/assets/65f1c0ffee0123456789abcd/prices"])
def test_preflight_needs_no_token(client, path):
    response = client.options(
        path,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_a_price_racing_another_writer_for_a_new_day_is_retried_as_an_update(alice, monkeypatch):
    asset = create(alice, **MSCI_WORLD)
    collection = AssetPrice._get_collection()
    real_bulk_write = collection.bulk_write
    calls = []

    def racing_bulk_write(operations, *args, **kwargs):
        calls.append(len(operations))
        if len(calls) == 1:  # the other writer inserts 2025-01-02 first
            collection.insert_one(
                {
                    "asset": ObjectId(asset["id"]),
                    "date": day_start(dt.date(2025, 1, 2)),
                    "price": Decimal128("1"),
                    "currency": "EUR",
                }
            )
            real_bulk_write(operations[:1], *args, **kwargs)
            raise BulkWriteError(
                {"writeErrors": [{"index": 1, "code": 11000, "errmsg": "E11000 duplicate key"}]}
            )
        return real_bulk_write(operations, *args, **kwargs)

    monkeypatch.setattr(collection, "bulk_write", racing_bulk_write)
    stored = add_prices(
        asset["id"],
        [
            {"date": dt.date(2025, 1, 1), "price": Decimal("10"), "currency": "EUR"},
            {"date": dt.date(2025, 1, 2), "price": Decimal("20"), "currency": "EUR"},
        ],
    )
    assert calls == [2, 1]
    assert [(p.date, p.price) for p in stored] == [
        (dt.date(2025, 1, 2), Decimal("20")),
        (dt.date(2025, 1, 1), Decimal("10")),
    ]
    assert AssetPrice.objects.count() == 2


def test_a_create_losing_a_race_is_409_naming_the_winner(alice, monkeypatch):
    winner = ObjectId()

    def racing_save(self, *args, **kwargs):
        Asset._get_collection().insert_one(
            {"_id": winner, "key": "TSLA", "name": "Tesla", "asset_type": "stock"}
        )
        raise NotUniqueError("E11000 duplicate key error")

    monkeypatch.setattr(Asset, "save", racing_save)
    response = alice.post("/api/assets", json={"name": "Tesla Inc", "symbol": "TSLA"})
    assert response.status_code == 409
    assert response.json["errors"] == {"asset_id": [str(winner)]}
