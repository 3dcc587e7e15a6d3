"""/api/stats through the real app (mongomock): whole responses on a hand-checked portfolio.

The portfolio (conftest.py), worked by hand:

Broker: deposit 2000; AAPL bought 10 for 501 (fee 1) and 5 for 300, 3 sold for 209 (fee 1),
dividend 12.5 (USD); FEE 2.5; TRANSFER -100 and +40; interest 0.75; withdrawal 200 (fee
1.5); IWDA (a linked asset) bought 4 for 300; a dividend of 3 naming no security; XYZ
bought 2 for 20 and sold for 30. Savings: deposit 500, interest 1.25. Bob: deposit 999.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId

from finance.stats import totals
from finance.transactions.models import Transaction
from tests.conftest import ApiUser

ENDPOINTS = (
    "/api/stats",
    "/api/stats/allocation",
    "/api/stats/holdings",
    "/api/stats/balance-history",
)

BROKER_FIGURES = {
    "wallet_name": "Broker",
    "balance": Decimal("871.75"),
    "total_count": 14,
    "deposits": Decimal("2040"),
    "withdrawals": Decimal("300"),
    "income": Decimal("255.25"),  # sells 209 + 30, dividends 12.5 + 3, interest 0.75
    "fees": Decimal("6"),  # fee fields 1 + 1 + 1.5, FEE row 2.5
    "by_currency": {"EUR": Decimal("1451.25"), "USD": Decimal("-579.5")},
}
SAVINGS_FIGURES = {
    "wallet_name": "Savings",
    "balance": Decimal("501.25"),
    "total_count": 2,
    "deposits": Decimal("500"),
    "withdrawals": Decimal("0"),
    "income": Decimal("1.25"),
    "fees": Decimal("0"),
    "by_currency": {"EUR": Decimal("501.25")},
}


def test_stats_of_one_wallet(alice, portfolio):
    response = alice.get(f"/api/stats?wallet_id={portfolio.broker.id}")
    assert response.status_code == 200
    assert response.json == {"wallet_id": str(portfolio.broker.id), **BROKER_FIGURES}


def test_stats_over_all_wallets_sum_them_and_list_each(alice, portfolio):
    response = alice.get("/api/stats")
    assert response.status_code == 200
    assert response.json == {
        "wallet_id": None,
        "wallet_name": None,
        "balance": Decimal("1373"),
        "total_count": 16,
        "deposits": Decimal("2540"),
        "withdrawals": Decimal("300"),
        "income": Decimal("256.5"),
        "fees": Decimal("6"),
        "by_currency": {"EUR": Decimal("1952.5"), "USD": Decimal("-579.5")},
        "wallet_count": 2,
        "wallets": [  # newest wallet first; Bob's is not among them
            {"wallet_id": str(portfolio.savings.id), **SAVINGS_FIGURES},
            {"wallet_id": str(portfolio.broker.id), **BROKER_FIGURES},
        ],
    }


def test_money_leaves_as_json_numbers(alice, portfolio):
    body = alice.get(f"/api/stats?wallet_id={portfolio.broker.id}").get_data(as_text=True)
    assert '"balance":871.75,' in body
    assert '"total_count":14,' in body
    assert '"by_currency":{"EUR":1451.25,"USD":-579.5}' in body
    body = alice.get(f"/api/stats/allocation?wallet_id={portfolio.broker.id}").get_data(
        as_text=True
    )
    assert '"percentage":47.57' in body


def test_a_user_without_wallets_gets_zeros_and_empty_lists(client, tokens, portfolio):
    carol = ApiUser(client, tokens, "carol-uid", "carol@example.com")
    assert carol.get("/api/stats").json == {
        "wallet_id": None,
        "wallet_name": None,
        "balance": 0,
        "total_count": 0,
        "deposits": 0,
        "withdrawals": 0,
        "income": 0,
        "fees": 0,
        "by_currency": {},
        "wallet_count": 0,
        "wallets": [],
    }
    assert carol.get("/api/stats/allocation").json == {
        "wallet_id": None,
        "total_value": 0,
        "allocation": [],
    }
    assert carol.get("/api/stats/holdings").json == {"wallet_id": None, "holdings": [], "count": 0}
    assert carol.get("/api/stats/balance-history").json == {
        "wallet_id": None,
        "date_from": None,
        "date_to": None,
        "opening_balance": 0,
        "closing_balance": 0,
        "months": [],
    }


@pytest.mark.parametrize("path", ENDPOINTS)
def test_another_users_wallet_is_not_found_on_every_endpoint(alice, bob, portfolio, path):
    for wallet_id in (portfolio.bobs.id, ObjectId()):
        response = alice.get(f"{path}?wallet_id={wallet_id}")
        assert response.status_code == 404
        assert response.json == {
            "detail": "Wallet not found.",
            "code": 404,
            "status": "Not Found",
            "request_id": response.headers["X-Request-ID"],
        }
    # ... while Bob sees his own wallet.
    assert bob.get(f"{path}?wallet_id={portfolio.bobs.id}").status_code == 200


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_malformed_wallet_id_is_a_validation_error(alice, path):
    response = alice.get(f"{path}?wallet_id=not-an-id")
    assert response.status_code == 422
    assert response.json["detail"] == "Invalid value for wallet_id."
    assert response.json["errors"] == {"wallet_id": ["Must be a 24-character id."]}


@pytest.mark.parametrize("path", ENDPOINTS)
def test_stats_need_a_token(client, path):
    response = client.get(path)
    assert response.status_code == 401
    assert response.json["detail"]


def test_allocation_of_a_wallet(alice, portfolio):
    response = alice.get(f"/api/stats/allocation?wallet_id={portfolio.broker.id}")
    assert response.status_code == 200
    # AAPL: no price, 12 left at average cost 801/15 -> 640.80; IWDA: 4 at the latest price
    # 80 (not the older 70) -> 320; cash: the positive balance 871.75. Total 1832.55.
    # Exact shares 47.5703.., 34.9677.., 17.4620..: floors add to 99.99, and the missing
    # hundredth goes to the largest remainder (stock).
    assert response.json == {
        "wallet_id": str(portfolio.broker.id),
        "total_value": Decimal("1832.55"),
        "allocation": [
            {
                "asset_type": "cash",
                "value": Decimal("871.75"),
                "percentage": Decimal("47.57"),
                "holdings_count": 0,
                "priced_count": 0,
            },
            {
                "asset_type": "stock",
                "value": Decimal("640.80"),
                "percentage": Decimal("34.97"),
                "holdings_count": 1,
                "priced_count": 0,
            },
            {
                "asset_type": "etf",
                "value": Decimal("320.00"),
                "percentage": Decimal("17.46"),
                "holdings_count": 1,
                "priced_count": 1,
            },
        ],
    }


def test_allocation_over_all_wallets_adds_every_positive_balance_as_cash(alice, portfolio):
    body = alice.get("/api/stats/allocation").json
    assert body["wallet_id"] is None
    assert body["total_value"] == Decimal("2333.80")
    assert [(i["asset_type"], i["value"], i["percentage"]) for i in body["allocation"]] == [
        ("cash", Decimal("1373.00"), Decimal("58.83")),
        ("stock", Decimal("640.80"), Decimal("27.46")),
        ("etf", Decimal("320.00"), Decimal("13.71")),
    ]
    assert sum(i["percentage"] for i in body["allocation"]) == 100


def test_a_negative_balance_is_no_cash(alice, portfolio):
    rows = [
        {
            "owner": portfolio.broker.owner,
            "wallet": portfolio.broker.id,
            "date": dt.datetime(2024, 7, 1, tzinfo=dt.UTC),
            "transaction_type": "WITHDRAWAL",
            "transaction_amount": Decimal128("-1000"),
            "fee": Decimal128("0"),
            "currency": "EUR",
            "fingerprint": "overdraw",
        }
    ]
    Transaction._get_collection().insert_many(rows)
    totals.apply(rows, +1)
    body = alice.get(f"/api/stats/allocation?wallet_id={portfolio.broker.id}").json
    assert [(i["asset_type"], i["percentage"]) for i in body["allocation"]] == [
        ("stock", Decimal("66.69")),  # 640.80 / 960.80
        ("etf", Decimal("33.31")),
    ]


AAPL = {
    "asset_key": "AAPL",
    "asset_id": None,
    "asset_name": "Apple Inc.",
    "asset_symbol": "AAPL",
    "asset_type": "stock",
    "net_volume": 12,
    "buy_volume": 15,
    "sell_volume": 3,
    "buy_amount": 801,
    "average_cost": Decimal("53.40000000"),
    "invested": Decimal("640.80"),
    "realised": 209,
    "realised_gain": Decimal("48.80"),  # 209 - 801 * 3 / 15
    "income": Decimal("12.5"),
    "fees": 2,
    "current_price": None,
    "price_date": None,
    "current_value": None,
    "unrealised_gain": None,
    "transaction_count": 4,
    "closed": False,
}
XYZ = {
    "asset_key": "XYZ",
    "asset_id": None,
    "asset_name": "XYZ Corp",
    "asset_symbol": "XYZ",
    "asset_type": "stock",
    "net_volume": 0,
    "buy_volume": 2,
    "sell_volume": 2,
    "buy_amount": 20,
    "average_cost": 10,
    "invested": 0,
    "realised": 30,
    "realised_gain": 10,
    "income": 0,
    "fees": 0,
    "current_price": None,
    "price_date": None,
    "current_value": None,
    "unrealised_gain": None,
    "transaction_count": 2,
    "closed": True,
}


def _iwda(portfolio):
    return {
        "asset_key": str(portfolio.iwda),
        "asset_id": str(portfolio.iwda),
        "asset_name": "iShares Core MSCI World",
        "asset_symbol": "IWDA",
        "asset_type": "etf",
        "net_volume": 4,
        "buy_volume": 4,
        "sell_volume": 0,
        "buy_amount": 300,
        "average_cost": 75,
        "invested": 300,
        "realised": 0,
        "realised_gain": 0,
        "income": 0,
        "fees": 0,
        "current_price": 80,
        "price_date": "2024-05-01",
        "current_value": 320,
        "unrealised_gain": 20,
        "transaction_count": 1,
        "closed": False,
    }


def test_holdings_of_a_wallet_leave_closed_positions_out_by_default(alice, portfolio):
    response = alice.get(f"/api/stats/holdings?wallet_id={portfolio.broker.id}")
    assert response.status_code == 200
    # " AAPL", "aapl" and "AAPL" are one holding; the dividend naming no security is none.
    assert response.json == {
        "wallet_id": str(portfolio.broker.id),
        "holdings": [AAPL, _iwda(portfolio)],  # largest value (or cost) first
        "count": 2,
    }


def test_holdings_with_closed_positions(alice, portfolio):
    response = alice.get(f"/api/stats/holdings?wallet_id={portfolio.broker.id}&include_closed=true")
    assert response.json["holdings"] == [AAPL, _iwda(portfolio), XYZ]
    assert response.json["count"] == 3
    invalid = alice.get("/api/stats/holdings?include_closed=maybe")
    assert invalid.status_code == 422
    assert set(invalid.json["errors"]) == {"include_closed"}


def test_deleted_transactions_leave_no_ghost_holdings_or_months(alice, portfolio):
    """Removing rows (apply(rows, -1), as a delete does) empties, not removes, kept docs."""
    collection = Transaction._get_collection()
    xyz_rows = list(collection.find({"wallet": portfolio.broker.id, "asset_symbol": "XYZ"}))
    collection.delete_many({"_id": {"$in": [r["_id"] for r in xyz_rows]}})
    totals.apply(xyz_rows, -1)

    wallet = f"wallet_id={portfolio.broker.id}"
    holdings = alice.get(f"/api/stats/holdings?{wallet}&include_closed=true").json
    assert [h["asset_key"] for h in holdings["holdings"]] == ["AAPL", str(portfolio.iwda)]
    stats = alice.get(f"/api/stats?{wallet}").json
    assert (stats["balance"], stats["total_count"]) == (Decimal("861.75"), 12)
    history = alice.get(f"/api/stats/balance-history?{wallet}").json
    assert [m["month"] for m in history["months"]] == ["2024-01", "2024-02", "2024-03", "2024-04"]


def _month(month, net, balance, count, deposits=0, withdrawals=0, income=0, fees=0):
    return {
        "month": month,
        "net": Decimal(net),
        "balance": Decimal(balance),
        "count": count,
        "deposits": Decimal(deposits),
        "withdrawals": Decimal(withdrawals),
        "income": Decimal(income),
        "fees": Decimal(fees),
    }


def test_balance_history_of_a_wallet_fills_empty_months(alice, portfolio):
    response = alice.get(f"/api/stats/balance-history?wallet_id={portfolio.broker.id}")
    assert response.status_code == 200
    assert response.json == {
        "wallet_id": str(portfolio.broker.id),
        "date_from": None,
        "date_to": None,
        "opening_balance": 0,
        "closing_balance": Decimal("871.75"),
        "months": [
            _month("2024-01", "1499", "1499", 2, deposits="2000", fees="1"),
            _month("2024-02", "0", "1499", 0),
            _month("2024-03", "-78.5", "1420.5", 3, income="221.5", fees="1"),
            _month(
                "2024-04",
                "-558.75",
                "861.75",
                7,
                deposits="40",
                withdrawals="300",
                income="3.75",
                fees="4",
            ),
            _month("2024-05", "10", "871.75", 2, income="30"),
        ],
    }


def test_balance_history_range_over_all_wallets_opens_with_earlier_months(alice, portfolio):
    response = alice.get("/api/stats/balance-history?date_from=2024-03-01&date_to=2024-04")
    assert response.status_code == 200
    assert response.json == {
        "wallet_id": None,
        "date_from": "2024-03",
        "date_to": "2024-04",
        "opening_balance": Decimal("1999"),  # Savings' 500 in 2023-12 + Broker's 1499 in 2024-01
        "closing_balance": Decimal("1361.75"),
        "months": [
            _month("2024-03", "-78.5", "1920.5", 3, income="221.5", fees="1"),
            _month(
                "2024-04",
                "-558.75",
                "1361.75",
                7,
                deposits="40",
                withdrawals="300",
                income="3.75",
                fees="4",
            ),
        ],
    }


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("date_from=2024-05&date_to=2024-04-30", {"date_to": ["Must not be before date_from."]}),
        ("date_from=2024-13", {"date_from": ["Must be a date (YYYY-MM-DD) or a month (YYYY-MM)."]}),
        ("date_to=31.12.2024", {"date_to": ["Must be a date (YYYY-MM-DD) or a month (YYYY-MM)."]}),
        ("date_to=2024-02-30", {"date_to": ["Must be a date (YYYY-MM-DD) or a month (YYYY-MM)."]}),
    ],
)
def test_balance_history_rejects_bad_ranges(alice, query, errors):
    response = alice.get(f"/api/stats/balance-history?{query}")
    assert response.status_code == 422
    assert response.json["errors"] == errors
    assert isinstance(response.json["detail"], str)


def test_openapi_documents_the_stats_endpoints_with_examples(client):
    spec = client.get("/api/openapi.json").json
    for path in ENDPOINTS:
        operation = spec["paths"][path]["get"]
        assert set(operation["responses"]) >= {"200", "404", "422"}
        assert operation["responses"]["200"]["content"]["application/json"]["example"]
        assert "wallet_id" in [p["name"] for p in operation["parameters"]]
    stats = spec["components"]["schemas"]["Stats"]["properties"]
    assert {"balance", "total_count", "deposits"} <= set(stats)
    assert stats["balance"]["type"] == "number"
