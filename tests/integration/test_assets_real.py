"""Assets and prices against the real wire-protocol server (SecantusDB): races, sorts, ranges."""

import datetime as dt
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from bson import ObjectId

from finance.assets.models import Asset, AssetPrice
from finance.assets.service import AssetSpec, add_prices, asset_key, ensure_assets, latest_prices


def test_ten_threads_upserting_the_same_assets_make_one_per_key(real_app):
    specs = [AssetSpec(name=f"Company {i}", symbol=f"c{i}") for i in range(30)]
    specs += [
        AssetSpec(name="iShares Core MSCI World", isin="IE00B4L5Y983"),
        AssetSpec(name="Holiday   flat"),
        AssetSpec(name="holiday FLAT"),
    ]
    barrier = threading.Barrier(10)

    def run(seed):
        mine = list(specs)
        random.Random(seed).shuffle(mine)
        barrier.wait()
        return ensure_assets(mine)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(run, range(10)))

    keys = {asset_key(spec) for spec in specs}
    assert len(keys) == 32
    for refs in results:
        assert set(refs) == keys
        assert refs == results[0]  # every thread sees the same ids
    assert Asset.objects.count() == 32
    assert Asset.objects(key="holiday flat").count() == 1
    assert Asset.objects.get(key="IE00B4L5Y983").asset_type == "etf"


def test_ensure_assets_returns_existing_assets_unchanged(real_app):
    first = ensure_assets([AssetSpec(name="Apple Inc.", symbol="AAPL", currency="USD")])
    again = ensure_assets(
        [
            AssetSpec(name="Apple", symbol="aapl", asset_type="other"),
            AssetSpec(name="Microsoft", symbol="MSFT"),
        ]
    )
    assert again["AAPL"] == first["AAPL"]
    assert again["AAPL"].asset_type == "stock"
    assert Asset.objects.count() == 2


def test_latest_prices_for_many_assets_in_one_query(real_app):
    refs = ensure_assets([AssetSpec(symbol=s) for s in ("AAA", "BBB", "CCC", "DDD")])
    a, b, c, d = (refs[s].id for s in ("AAA", "BBB", "CCC", "DDD"))
    add_prices(
        a,
        [
            {"date": dt.date(2025, 3, 1), "price": Decimal("10.10"), "currency": "EUR"},
            {"date": dt.date(2025, 3, 3), "price": Decimal("10.30"), "currency": "EUR"},
            {"date": dt.date(2025, 3, 2), "price": Decimal("99.99"), "currency": "EUR"},
        ],
    )
    add_prices(
        b, [{"date": dt.date(2024, 12, 31), "price": Decimal("0.000001"), "currency": "USD"}]
    )
    add_prices(c, [{"date": dt.date(2025, 3, 5), "price": Decimal("5"), "currency": "EUR"}])
    add_prices(c, [{"date": dt.date(2025, 3, 5), "price": Decimal("5.5"), "currency": "CHF"}])

    result = latest_prices([a, b, c, d, ObjectId()])
    assert result == {
        a: (Decimal("10.30"), "EUR", dt.date(2025, 3, 3)),
        b: (Decimal("0.000001"), "USD", dt.date(2024, 12, 31)),
        c: (Decimal("5.5"), "CHF", dt.date(2025, 3, 5)),
    }
    assert latest_prices([]) == {}
    assert latest_prices([str(a)]) == {a: result[a]}


def test_concurrent_prices_for_the_same_new_day_leave_one_document(real_app):
    asset = ensure_assets([AssetSpec(symbol="RACE")])["RACE"]
    barrier = threading.Barrier(10)

    def run(i):
        barrier.wait()
        return add_prices(
            asset.id, [{"date": dt.date(2025, 1, 1), "price": Decimal(i + 1), "currency": "EUR"}]
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(run, range(10)))
    assert AssetPrice.objects(asset=asset.id).count() == 1
    assert len({stored[0].id for stored in results}) == 1
    assert AssetPrice.objects.get(asset=asset.id).price in {Decimal(i) for i in range(1, 11)}


def test_price_listing_sorts_by_date_and_filters_a_range(real_alice):
    asset = real_alice.post(
        "/api/assets", json={"name": "Prices", "symbol": "PRC", "currency": "EUR"}
    ).json
    url = f"/api/assets/{asset['id']}/prices"
    days = [dt.date(2024, 12, 30) + dt.timedelta(days=i) for i in range(8)]
    random.Random(1).shuffle(days)
    # Prices deliberately not in date order, so a sort by price would differ from one by date.
    stored = real_alice.post(
        url,
        json={
            "prices": [
                {"date": d.isoformat(), "price": str(Decimal(100) - i)} for i, d in enumerate(days)
            ]
        },
    )
    assert stored.status_code == 201
    listed = real_alice.get(url)
    assert [p["date"] for p in listed.json["prices"]] == [
        (dt.date(2025, 1, 6) - dt.timedelta(days=i)).isoformat() for i in range(8)
    ]
    ranged = real_alice.get(
        url, query_string={"date_from": "2025-01-01", "date_to": "2025-01-03", "limit": 2}
    )
    assert [p["date"] for p in ranged.json["prices"]] == ["2025-01-03", "2025-01-02"]
    assert (ranged.json["total_count"], ranged.json["has_next"]) == (3, True)
    second = real_alice.get(
        url,
        query_string={"date_from": "2025-01-01", "date_to": "2025-01-03", "limit": 2, "page": 2},
    )
    assert [p["date"] for p in second.json["prices"]] == ["2025-01-01"]
    detail = real_alice.get(f"/api/assets/{asset['id']}").json
    newest = days.index(dt.date(2025, 1, 6))
    assert detail["latest_price"] == {
        "price": Decimal(100) - newest,
        "currency": "EUR",
        "date": "2025-01-06",
    }


def test_search_works_on_indexed_fields_of_the_real_server(real_alice):
    for body in (
        {"name": "Apple Inc.", "symbol": "AAPL", "isin": "US0378331005"},
        {"name": "Snapple", "symbol": "SNAP"},
        {"name": "S&P 500 (Acc)", "symbol": "SPXA"},
    ):
        assert real_alice.post("/api/assets", json=body).status_code == 201

    def names(**query):
        response = real_alice.get("/api/assets", query_string=query)
        assert response.status_code == 200
        return [a["name"] for a in response.json["assets"]]

    assert names(q="apple") == ["Apple Inc.", "Snapple"]
    assert names(q="aapl") == ["Apple Inc."]
    assert names(q="US037") == ["Apple Inc."]
    assert names(q="(acc)") == ["S&P 500 (Acc)"]
    assert names(q="apple", asset_type="stock") == ["Apple Inc.", "Snapple"]
    assert names() == ["Apple Inc.", "S&P 500 (Acc)", "Snapple"]


def test_a_concurrent_create_is_409_not_500(real_app, real_alice):
    barrier = threading.Barrier(5)
    token_headers = real_alice.headers

    def run(_):
        with real_app.test_client() as client:
            barrier.wait()
            response = client.post(
                "/api/assets", json={"name": "Tesla", "symbol": "TSLA"}, headers=token_headers
            )
            return response.status_code

    with ThreadPoolExecutor(max_workers=5) as pool:
        statuses = sorted(pool.map(run, range(5)))
    assert statuses == [201, 409, 409, 409, 409]
    assert Asset.objects(key="TSLA").count() == 1


def test_latest_prices_and_listing_use_the_asset_date_index(real_db):
    plan = real_db["asset_prices"].find({"asset": ObjectId()}).sort("date", -1).explain()
    assert "uniq_asset_date" in str(plan)
