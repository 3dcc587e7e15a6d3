"""The web client's calls to wallets, transactions and error rows, replayed as it makes them.

Every request carries what the React client sends: ``Authorization: Bearer``,
``X-User-ID``, ``Content-Type: application/json`` (also on GET and DELETE) and the
``Origin`` of the page; the query strings are the client's own. Responses are read
the way the client reads them: the raw body through a plain JSON parser, so a
number sent as a string (``"12.5"``) fails here exactly as it would break ``+`` there.
"""

import json
import re

import pytest
from bson import ObjectId

from finance.transactions.models import TransactionError
from tests.unit.transactions.helpers import ERROR_MUST, TRANSACTION_MUST

ORIGIN = "http://localhost:3000"  # the testing configuration's default CORS origin
ENVELOPE = ("transactions", "total_count", "total_pages", "page", "limit", "has_next", "has_prev")


def client_call(user, method, path, **kwargs):
    """One fetch() of the web client; returns (status, parsed body or None, response)."""
    headers = {"Content-Type": "application/json", "Origin": ORIGIN}
    response = getattr(user, method)(path, headers=headers, **kwargs)
    assert response.headers.get("Access-Control-Allow-Origin") == ORIGIN
    text = response.get_data(as_text=True)
    return response.status_code, (json.loads(text) if text else None), response


def is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_or_null(value):
    return value is None or is_number(value)


def seed(user, wallet_id):
    """Transactions the client will list (entered through the API, as an import would)."""
    rows = [
        {"date": "2024-01-02", "transaction_type": "DEPOSIT", "transaction_amount": 5000},
        {
            "date": "2024-01-03",
            "transaction_type": "BUY",
            "asset_name": "Vanguard FTSE All-World",
            "asset_symbol": "VWCE",
            "volume": "12.5",
            "item_price": "101.37",
            "fee": "1.99",
        },
        {
            "date": "2024-02-10",
            "transaction_type": "DIVIDEND",
            "asset_symbol": "VWCE",
            "transaction_amount": "7.31",
        },
        {"date": "2024-03-01", "transaction_type": "WITHDRAWAL", "transaction_amount": "-250.5"},
    ]
    for row in rows:
        status, body, _ = client_call(
            user,
            "post",
            "/api/transactions",
            json={"wallet_id": wallet_id, "currency": "EUR", **row},
        )
        assert status == 201, body


def store_error_rows(user, wallet_id):
    """Failed rows of an import, stored as the importer stores them."""
    import_id = ObjectId()
    common = {"owner": ObjectId(user.id), "wallet": ObjectId(wallet_id), "import_id": import_id}
    TransactionError(
        **common,
        row_number=4,
        error_type="format",
        field_name="date",
        value="31.02.2024",
        error_message="31.02.2024 is not a calendar date.",
        suggestion="Check the day and month.",
        transaction_amount=12.5,
        currency="EUR",
        raw={"Datum": "31.02.2024", "Betrag": "12,50"},
    ).save()
    TransactionError(
        **common,
        row_number=9,
        error_type="missing",
        field_name="transaction_amount",
        value=None,
        error_message="The amount is empty.",
        processed=True,
        raw={"Datum": "01.03.2024", "Betrag": ""},
    ).save()


@pytest.fixture
def wallet_id(alice):
    status, body, _ = client_call(alice, "post", "/api/wallets", json={"name": "  Girokonto  "})
    assert status == 201
    created = body.get("data") or body
    assert created == {k: v for k, v in body.items() if k != "data"}
    assert created["name"] == "Girokonto"
    return created["id"]


def test_wallet_list_is_an_object_even_when_empty(alice):
    status, body, _ = client_call(alice, "get", "/api/wallets")
    assert (status, body) == (200, {"wallets": [], "count": 0})


def test_created_wallet_both_shapes(alice):
    status, body, _ = client_call(alice, "post", "/api/wallets", json={"name": "Broker"})
    assert status == 201
    for shape in (body, body["data"]):
        assert set(shape) >= {"id", "name", "balance", "created_at", "updated_at"}
        assert shape["balance"] == 0 and is_number(shape["balance"])


def test_wallet_list_the_client_reads(alice, wallet_id):
    seed(alice, wallet_id)
    status, body, response = client_call(alice, "get", "/api/wallets")
    assert status == 200
    assert isinstance(body, dict) and body["count"] == 1
    (wallet,) = body["wallets"]
    assert wallet["id"] == wallet_id
    assert wallet["name"] == "Girokonto"
    for name in ("balance", "transaction_count", "deposits", "withdrawals", "income", "fees"):
        assert is_number(wallet[name]), name
    # 5000 - (12.5 * 101.37 + 1.99) + 7.31 - 250.5 = 3487.695
    assert wallet["balance"] == 3487.695
    assert re.search(r'"balance":3487\.695[,}]', response.get_data(as_text=True))
    assert wallet["created_at"].startswith("20") and wallet["updated_at"].startswith("20")


@pytest.mark.parametrize("limit", [10, 100, 1000])
def test_transaction_page_the_client_reads(alice, wallet_id, limit):
    seed(alice, wallet_id)
    status, body, _ = client_call(
        alice, "get", f"/api/transactions?wallet_id={wallet_id}&page=1&limit={limit}"
    )
    assert status == 200
    assert set(ENVELOPE) <= set(body)
    assert (
        body["total_count"],
        body["total_pages"],
        body["page"],
        body["limit"],
        body["has_next"],
        body["has_prev"],
    ) == (4, 1, 1, limit, False, False)
    assert [t["date"] for t in body["transactions"]] == [
        "2024-03-01",
        "2024-02-10",
        "2024-01-03",
        "2024-01-02",
    ]
    for item in body["transactions"]:
        assert set(TRANSACTION_MUST) <= set(item)
        assert item["wallet_id"] == wallet_id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", item["date"])
        assert item["transaction_type"] in ("BUY", "SELL", "DEPOSIT", "WITHDRAWAL", "DIVIDEND")
        assert item["currency"] == "EUR"
        assert is_number(item["transaction_amount"]) and is_number(item["fee"])
        assert number_or_null(item["volume"]) and number_or_null(item["item_price"])
    buy = body["transactions"][2]
    assert (buy["volume"], buy["item_price"], buy["fee"], buy["transaction_amount"]) == (
        12.5,
        101.37,
        1.99,
        -1269.115,
    )
    assert buy["asset_name"] == "Vanguard FTSE All-World"
    deposit = body["transactions"][3]
    assert (deposit["volume"], deposit["item_price"]) == (None, None)


def test_paging_through_the_client_way(alice, wallet_id):
    seed(alice, wallet_id)
    seen = []
    page = 1
    while True:
        _, body, _ = client_call(
            alice, "get", f"/api/transactions?wallet_id={wallet_id}&page={page}&limit=3"
        )
        seen += [t["id"] for t in body["transactions"]]
        if not body["has_next"]:
            break
        page += 1
    assert page == 2 and len(seen) == len(set(seen)) == 4


def test_the_four_step_error_probe(alice, wallet_id):
    store_error_rows(alice, wallet_id)
    base = f"/api/transactions/errors?wallet_id={wallet_id}"
    counts = []
    for query in (
        base,
        base + "&processed=false",
        base + "&unprocessed=true",
        base + "&resolved=false",
    ):
        status, body, _ = client_call(alice, "get", query)
        assert status == 200, query
        assert isinstance(body["errors"], list) and is_number(body["total_count"])
        for item in body["errors"]:
            assert set(ERROR_MUST) <= set(item)
            assert item["error_type"] in ("validation", "format", "missing", "duplicate", "invalid")
            assert isinstance(item["processed"], bool)
            assert isinstance(item["error_message"], str) and item["error_message"]
            for name in ("volume", "item_price", "transaction_amount", "fee"):
                assert number_or_null(item[name]), name
        counts.append(body["total_count"])
    assert counts == [2, 1, 1, 1]
    _, body, _ = client_call(alice, "get", base + "&processed=false")
    (row,) = body["errors"]
    assert (
        row["row_number"],
        row["field_name"],
        row["value"],
        row["transaction_amount"],
        row["processed"],
    ) == (4, "date", "31.02.2024", 12.5, False)


def test_probe_without_a_wallet_and_with_empty_wallet_id(alice, wallet_id):
    store_error_rows(alice, wallet_id)
    for path in ("/api/transactions/errors", "/api/transactions/errors?wallet_id="):
        status, body, _ = client_call(alice, "get", path)
        assert (status, body["total_count"]) == (200, 2)


def test_delete_wallet_then_the_list_no_longer_shows_it(alice, wallet_id):
    seed(alice, wallet_id)
    status, body, response = client_call(alice, "delete", f"/api/wallets/{wallet_id}")
    assert (status, body) == (204, None)
    assert response.get_data() == b""
    _, body, _ = client_call(alice, "get", "/api/wallets")
    assert body == {"wallets": [], "count": 0}
    status, body, _ = client_call(alice, "get", f"/api/transactions?wallet_id={wallet_id}")
    assert status == 404
    assert body["detail"] == "Wallet not found."


def test_errors_the_client_shows_are_sentences(alice, bob, wallet_id):
    for user, method, path, kwargs in (
        (alice, "post", "/api/wallets", {"json": {"name": " "}}),
        (alice, "post", "/api/wallets", {"json": {"name": "girokonto"}}),
        (bob, "delete", f"/api/wallets/{wallet_id}", {}),
        (bob, "get", f"/api/transactions?wallet_id={wallet_id}&page=1&limit=1000", {}),
        (alice, "get", f"/api/transactions?wallet_id={wallet_id}&page=1&limit=5000", {}),
    ):
        status, body, _ = client_call(user, method, path, **kwargs)
        assert status in (404, 409, 422)
        assert isinstance(body["detail"], str) and body["detail"].endswith(".")
        assert body["code"] == status


ENDPOINTS = [
    ("/api/wallets", ("GET", "POST")),
    ("/api/wallets/65f1c0ffee0123456789abcd", ("GET", "PATCH", "DELETE")),
    ("/api/transactions?wallet_id=65f1c0ffee0123456789abcd&page=1&limit=1000", ("GET", "POST")),
    ("/api/transactions/65f1c0ffee0123456789abcd", ("GET", "PATCH", "DELETE")),
    ("/api/transactions/errors?wallet_id=65f1c0ffee0123456789abcd&resolved=false", ("GET",)),
    ("/api/transactions/errors/65f1c0ffee0123456789abcd", ("PATCH", "DELETE")),
]


@pytest.mark.parametrize(("path", "methods"), ENDPOINTS)
def test_cors_preflight_for_every_endpoint(client, path, methods):
    for method in methods:
        response = client.options(
            path,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,content-type,x-user-id",
            },
        )
        assert response.status_code == 200, (path, method)
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        allowed_methods = {
            m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")
        }
        assert {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} <= allowed_methods
        allowed_headers = {
            h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
        }
        assert {"authorization", "content-type", "x-user-id"} <= allowed_headers


def test_other_origins_get_no_cors_grant(client):
    response = client.options(
        "/api/wallets",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "Access-Control-Allow-Origin" not in response.headers
