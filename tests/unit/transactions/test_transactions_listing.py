"""GET /api/transactions: envelope, deterministic order, filters, the kept-count hot path.

Sorting and range-filtering Decimal128 amounts need a real server (mongomock cannot):
those are in tests/integration/test_transactions_real.py.
"""

import re

import pytest
from bson import ObjectId, Regex

from finance.transactions.models import Transaction
from finance.transactions.service import transaction_filter
from finance.wallets.models import Wallet


def ids(response):
    assert response.status_code == 200, response.json
    return [item["id"] for item in response.json["transactions"]]


def page_meta(response):
    body = dict(response.json)
    body.pop("transactions")
    return body


@pytest.fixture
def seven(add):
    """Seven transactions over four days; two share 2024-03-02 and two share 2024-03-03."""
    days = [
        "2024-03-01",
        "2024-03-02",
        "2024-03-02",
        "2024-03-03",
        "2024-03-03",
        "2024-03-04",
        "2024-03-05",
    ]
    return [add(date=day, transaction_amount=index + 1) for index, day in enumerate(days)]


def test_envelope_maths_over_pages(alice, wallet, seven):
    pages = [alice.get(f"/api/transactions?wallet_id={wallet}&page={n}&limit=3") for n in (1, 2, 3)]
    assert [page_meta(p) for p in pages] == [
        {
            "total_count": 7,
            "total_pages": 3,
            "page": 1,
            "limit": 3,
            "has_next": True,
            "has_prev": False,
        },
        {
            "total_count": 7,
            "total_pages": 3,
            "page": 2,
            "limit": 3,
            "has_next": True,
            "has_prev": True,
        },
        {
            "total_count": 7,
            "total_pages": 3,
            "page": 3,
            "limit": 3,
            "has_next": False,
            "has_prev": True,
        },
    ]
    assert [len(ids(p)) for p in pages] == [3, 3, 1]
    every = ids(alice.get(f"/api/transactions?wallet_id={wallet}&limit=1000"))
    assert [item for p in pages for item in ids(p)] == every
    assert len(set(every)) == 7
    beyond = alice.get(f"/api/transactions?wallet_id={wallet}&page=4&limit=3")
    assert ids(beyond) == []
    assert page_meta(beyond) == {
        "total_count": 7,
        "total_pages": 3,
        "page": 4,
        "limit": 3,
        "has_next": False,
        "has_prev": True,
    }


def test_limit_is_echoed_and_bounded(alice, wallet):
    assert alice.get("/api/transactions?limit=1000").json["limit"] == 1000
    assert alice.get("/api/transactions").json == {
        "transactions": [],
        "total_count": 0,
        "total_pages": 0,
        "page": 1,
        "limit": 50,
        "has_next": False,
        "has_prev": False,
    }
    for query, field in (
        ("limit=1001", "limit"),
        ("limit=0", "limit"),
        ("page=0", "page"),
        ("page=x", "page"),
    ):
        response = alice.get(f"/api/transactions?{query}")
        assert response.status_code == 422
        assert list(response.json["errors"]) == [field]
        assert response.json["detail"] == f"Invalid value for {field}."


def test_default_order_is_newest_day_first_then_newest_id(alice, wallet, seven):
    expected = [t["id"] for t in sorted(seven, key=lambda t: (t["date"], t["id"]), reverse=True)]
    assert ids(alice.get(f"/api/transactions?wallet_id={wallet}")) == expected
    assert ids(alice.get(f"/api/transactions?wallet_id={wallet}&sort=-date")) == expected
    assert ids(alice.get(f"/api/transactions?wallet_id={wallet}&sort=date")) == expected[::-1]
    # Same-day ties: the later entry (greater id) first, in the default order.
    same_day = [t["id"] for t in seven if t["date"] == "2024-03-02"]
    listed = ids(
        alice.get(f"/api/transactions?wallet_id={wallet}&date_from=2024-03-02&date_to=2024-03-02")
    )
    assert listed == sorted(same_day, reverse=True)


def test_sort_by_creation_time(alice, wallet, seven):
    by_creation = [t["id"] for t in seven]
    assert ids(alice.get("/api/transactions?sort=created_at&limit=10")) == by_creation
    assert ids(alice.get("/api/transactions?sort=-created_at&limit=10")) == by_creation[::-1]
    bad = alice.get("/api/transactions?sort=owner")
    assert bad.status_code == 422
    assert bad.json["errors"] == {
        "sort": ["Must be one of: -date, date, -amount, amount, -created_at, created_at."]
    }


def test_type_filter_takes_lists_in_any_case(alice, add):
    deposit = add()
    fee = add(transaction_type="FEE", transaction_amount=-1)
    buy = add(transaction_type="BUY", transaction_amount=-5, asset_symbol="X")
    assert set(ids(alice.get("/api/transactions?transaction_type=fee,buy"))) == {
        fee["id"],
        buy["id"],
    }
    assert set(
        ids(alice.get("/api/transactions?transaction_type=FEE&transaction_type=Deposit"))
    ) == {fee["id"], deposit["id"]}
    response = alice.get("/api/transactions?transaction_type=FEE&transaction_type=gift")
    assert response.status_code == 422
    assert response.json["errors"]["transaction_type"][0].startswith(
        "Unknown transaction type 'GIFT'; use one of BUY, SELL,"
    )
    filtered = alice.get("/api/transactions?transaction_type=FEE")
    assert page_meta(filtered)["total_count"] == 1


def test_date_range_is_inclusive(alice, seven):
    listed = alice.get("/api/transactions?date_from=2024-03-02&date_to=2024-03-03")
    assert sorted(t["date"] for t in listed.json["transactions"]) == [
        "2024-03-02",
        "2024-03-02",
        "2024-03-03",
        "2024-03-03",
    ]
    assert listed.json["total_count"] == 4
    assert len(ids(alice.get("/api/transactions?date_from=2024-03-05"))) == 1
    assert len(ids(alice.get("/api/transactions?date_to=2024-03-01"))) == 1


def test_ranges_must_be_ordered(alice):
    response = alice.get("/api/transactions?date_from=2024-03-02&date_to=2024-03-01")
    assert response.status_code == 422
    assert response.json["detail"] == "date_from must be on or before date_to."
    assert response.json["errors"] == {"date_from": ["date_from must be on or before date_to."]}
    response = alice.get("/api/transactions?min_amount=10&max_amount=-10")
    assert response.status_code == 422
    assert response.json["errors"] == {
        "min_amount": ["min_amount must not be greater than max_amount."]
    }
    response = alice.get("/api/transactions?date_from=03/01/2024&min_amount=ten")
    assert response.status_code == 422
    assert response.json["errors"] == {
        "date_from": ["Not a valid date."],
        "min_amount": ["Not a valid number."],
    }


def test_asset_matches_name_or_symbol_exactly_or_by_prefix(alice, add):
    apple = add(
        transaction_type="BUY", transaction_amount=-1, asset_name="Apple Inc.", asset_symbol="AAPL"
    )
    pineapple = add(transaction_type="BUY", transaction_amount=-1, asset_name="Pineapple Co")
    dotted = add(transaction_type="BUY", transaction_amount=-1, asset_name="A.P. Moller")
    assert ids(alice.get("/api/transactions?asset=apple")) == [apple["id"]]
    assert ids(alice.get("/api/transactions?asset=aapl")) == [apple["id"]]
    assert ids(alice.get("/api/transactions?asset=PINEAPPLE%20CO")) == [pineapple["id"]]
    assert ids(alice.get("/api/transactions?asset=A.P")) == [dotted["id"]]
    assert ids(alice.get("/api/transactions?asset=A.*")) == []


def test_q_searches_description_and_asset_as_literal_text(alice, add):
    salary = add(description="Salary (March)")
    coffee = add(transaction_type="WITHDRAWAL", transaction_amount=-3, description="coffee")
    etf = add(
        transaction_type="BUY", transaction_amount=-1, asset_name="World ETF", asset_symbol="VWCE"
    )
    assert ids(alice.get("/api/transactions?q=SALARY")) == [salary["id"]]
    assert ids(alice.get("/api/transactions?q=(march)")) == [salary["id"]]
    assert ids(alice.get("/api/transactions?q=ffe")) == [coffee["id"]]
    assert ids(alice.get("/api/transactions?q=wce")) == [etf["id"]]
    assert ids(alice.get("/api/transactions?q=.*")) == []
    both = alice.get("/api/transactions?q=etf&asset=world")
    assert ids(both) == [etf["id"]]
    too_long = alice.get("/api/transactions?q=" + "x" * 101)
    assert too_long.status_code == 422
    assert too_long.json["errors"] == {"q": ["Length must be between 1 and 100."]}


def test_wallet_filter_is_the_callers_and_all_wallets_are_the_default(alice, bob, add, wallet):
    other = alice.post("/api/wallets", json={"name": "Other", "base_currency": "EUR"}).json["id"]
    mine = add()
    elsewhere = add(wallet_id=other)
    bobs = bob.post("/api/wallets", json={"name": "Bob", "base_currency": "EUR"}).json["id"]
    bob.post(
        "/api/transactions",
        json={
            "wallet_id": bobs,
            "date": "2024-01-01",
            "transaction_type": "DEPOSIT",
            "transaction_amount": 1,
        },
    )
    assert ids(alice.get(f"/api/transactions?wallet_id={wallet}")) == [mine["id"]]
    everything = alice.get("/api/transactions")
    assert set(ids(everything)) == {mine["id"], elsewhere["id"]}
    assert everything.json["total_count"] == 2
    response = alice.get(f"/api/transactions?wallet_id={bobs}")
    assert response.status_code == 404
    assert response.json["detail"] == "Wallet not found."
    malformed = alice.get("/api/transactions?wallet_id=abc")
    assert malformed.status_code == 422
    assert malformed.json["errors"] == {"wallet_id": ["Must be a 24-character id."]}


def test_unknown_and_empty_parameters_are_ignored(alice, add, wallet):
    mine = add()
    for query in (
        "wallet_id=&q=%20&transaction_type=&transaction_type=+",
        "foo=bar&_=12345&sortBy=date",
    ):
        response = alice.get(f"/api/transactions?{query}")
        assert ids(response) == [mine["id"]], query
        assert response.json["total_count"] == 1
    # Operator-shaped parameter names are refused outright (tests/unit/injection).
    refused = alice.get("/api/transactions?wallet_id[$ne]=x&owner[$exists]=true")
    assert refused.status_code == 400


def test_total_count_comes_from_the_kept_totals_without_counting(alice, add, wallet, monkeypatch):
    other = alice.post("/api/wallets", json={"name": "Other", "base_currency": "EUR"}).json["id"]
    add()
    add()
    add(wallet_id=other)
    collection_class = type(Transaction._get_collection())

    def no_counting(*args, **kwargs):
        raise AssertionError("counted a wallet on the hot path")

    monkeypatch.setattr(collection_class, "count_documents", no_counting)
    assert alice.get(f"/api/transactions?wallet_id={wallet}").json["total_count"] == 2
    assert alice.get("/api/transactions").json["total_count"] == 3
    # The number is the kept one: a (hypothetically) drifted total shows through.
    Wallet.objects(id=wallet).update_one(inc__totals__count=40)
    assert alice.get(f"/api/transactions?wallet_id={wallet}").json["total_count"] == 42
    assert alice.get("/api/transactions").json["total_pages"] == 1
    monkeypatch.undo()
    # Any other filter counts what matches.
    filtered = alice.get(f"/api/transactions?wallet_id={wallet}&transaction_type=DEPOSIT")
    assert filtered.json["total_count"] == 2


def test_searches_use_the_regex_operator_form_with_escaped_input():
    """A BSON regex literal on an indexed field matches nothing on SecantusDB: never send one."""
    owner = ObjectId()
    query = transaction_filter(owner, asset="A.P (x)", q="50% [off]")

    def literals(value):
        if isinstance(value, re.Pattern | Regex):
            return [value]
        if isinstance(value, dict):
            return [found for item in value.values() for found in literals(item)]
        if isinstance(value, list):
            return [found for item in value for found in literals(item)]
        return []

    assert literals(query) == []
    prefix = {"$regex": r"^A\.P\ \(x\)", "$options": "i"}
    text = {"$regex": r"50%\ \[off\]", "$options": "i"}
    assert query == {
        "owner": owner,
        "$and": [
            {"$or": [{"asset_name": prefix}, {"asset_symbol": prefix}]},
            {"$or": [{"description": text}, {"asset_name": text}, {"asset_symbol": text}]},
        ],
    }


def test_listing_items_are_exactly_what_the_schema_dumps(alice, add, wallet):
    from finance.transactions.schemas import TransactionSchema
    from finance.transactions.service import listing_item

    add()
    add(
        transaction_type="BUY",
        asset_name="ACME",
        volume=2,
        item_price="10.5",
        transaction_amount="-22",
        fee=1,
    )
    for doc in Transaction._get_collection().find({}):
        assert listing_item(doc) == TransactionSchema().dump(Transaction._from_son(doc))
