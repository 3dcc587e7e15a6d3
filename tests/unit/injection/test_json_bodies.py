"""Request bodies parse with the app's JSON provider, and the OpenAPI document says what fails.

Numbers in a body arrive as the exact decimals the client wrote (never via a binary
float, never rounded to 28 digits); NaN/Infinity, repeated keys and absurd nesting
are refused by the provider itself. The document gives every protected operation its
bearer requirement with 401/403, every path id a 404, every JSON body its 400/415/422.
"""

import json
import re
import sys
from decimal import Decimal, localcontext

import pytest
from flask import Flask

from finance.common.schemas import BLANK, NOT_BLANK
from finance.json import FinanceJSONProvider
from finance.transactions.models import Transaction
from tests.unit.injection.helpers import assert_error_contract

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def wallet(alice):
    return alice.post("/api/wallets", json={"name": "Exact", "base_currency": "EUR"}).json["id"]


def raw_json(fields: dict, **literals: str) -> str:
    """``fields`` as JSON, with each of ``literals`` written in verbatim (``NaN``, ``1E-7000``)."""
    text = json.dumps({**fields, **{name: f"@{name}@" for name in literals}})
    for name, literal in literals.items():
        text = text.replace(f'"@{name}@"', literal)
    return text


def deposit(alice, wallet, amount_literal: str, kind: str = "DEPOSIT"):
    fields = {"wallet_id": wallet, "date": "2024-01-02", "transaction_type": kind}
    body = raw_json(fields, transaction_amount=amount_literal)
    return alice.post("/api/transactions", data=body, headers=JSON)


def test_decimal_fractions_add_up_exactly(alice, wallet):
    for literal in ("0.1", "0.2"):
        assert deposit(alice, wallet, literal).status_code == 201
    response = alice.get(f"/api/wallets/{wallet}")
    assert '"balance":0.3,' in response.get_data(as_text=True)  # not 0.30000000000000004
    assert sorted(t.transaction_amount for t in Transaction.objects) == [
        Decimal("0.1"),
        Decimal("0.2"),
    ]


@pytest.mark.parametrize(
    "literal",
    [
        "12345678901234.1234567890123456",  # 30 significant digits
        "0.300000000000000000000000000001",  # 30 digits, where a float or 28 digits round
        "999999999999999.9999999999999999999",  # 34 digits, the most Decimal128 holds
        "1E-6000",
        "-0.000000000000000000000000000000000123",
    ],
)
def test_a_long_amount_arrives_and_leaves_exactly_as_written(alice, wallet, literal):
    kind = "WITHDRAWAL" if literal.startswith("-") else "DEPOSIT"
    response = deposit(alice, wallet, literal, kind)
    assert response.status_code == 201, response.json
    (stored,) = Transaction.objects
    assert stored.transaction_amount == Decimal(literal)
    assert str(stored.transaction_amount) == str(Decimal(literal))
    assert f'"transaction_amount":{Decimal(literal)},' in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("literal", "status"),
    [
        ("NaN", 400),
        ("Infinity", 400),
        ("-Infinity", 400),
        ("1E-7000", 422),  # finite, but Decimal128 cannot hold it exactly
        ("1.0000000000000000000000000000000001", 422),  # 35 digits
        ("1E+15", 422),
        ('"NaN"', 422),
        ("true", 422),
    ],
)
def test_amounts_that_cannot_be_stored_exactly_are_refused(alice, wallet, literal, status):
    body = assert_error_contract(deposit(alice, wallet, literal), status)
    if status == 400:
        assert body["detail"] == "The request body is not valid JSON."
        assert body["errors"] == {"json": [f"{literal} is not a valid JSON number."]}
    else:
        assert list(body["errors"]) == ["transaction_amount"]
    assert Transaction.objects.count() == 0


def test_a_filter_that_cannot_be_stored_exactly_is_a_422_not_a_500(alice, wallet):
    response = alice.get("/api/transactions?min_amount=1E-7000")
    assert assert_error_contract(response, 422)["errors"] == {
        "min_amount": ["Must be between -1e15 and 1e15 with at most 34 significant digits."]
    }


def test_a_computed_trade_amount_keeps_34_digits(alice, wallet):
    volume, price, fee = "1.234567890123456789", "9.87654321098765432", "0.01"
    fields = {"wallet_id": wallet, "date": "2024-01-02", "transaction_type": "BUY"}
    body = raw_json({**fields, "asset_symbol": "X"}, volume=volume, item_price=price, fee=fee)
    response = alice.post("/api/transactions", data=body, headers=JSON)
    assert response.status_code == 201, response.json
    with localcontext(prec=34):
        expected = -(Decimal(volume) * Decimal(price) + Decimal(fee))
    assert len(expected.as_tuple().digits) == 34
    assert Transaction.objects.get().transaction_amount == expected


def test_prices_arrive_exact(alice):
    asset = alice.post("/api/assets", json={"name": "Exact Fund"}).json["id"]
    response = alice.post(
        f"/api/assets/{asset}/prices",
        data='{"date": "2024-01-02", "price": 101.100000000000000001, "currency": "EUR"}',
        headers=JSON,
    )
    assert response.status_code == 201, response.json
    assert '"price":101.100000000000000001,' in response.get_data(as_text=True)


# ------------------------------------------------------------------ the provider itself


@pytest.fixture
def provider():
    return FinanceJSONProvider(Flask(__name__))


def test_the_provider_parses_numbers_as_decimals(provider):
    assert provider.loads('{"a": 0.1, "b": [1, 2.50]}') == {
        "a": Decimal("0.1"),
        "b": [1, Decimal("2.50")],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 1, "a": 2}', "The key 'a' appears more than once in one object."),
        ('[{"b": {"c": 1, "c": 1}}]', "The key 'c' appears more than once in one object."),
        ("[" * 100_000 + "]" * 100_000, "The JSON is nested too deeply."),
        ('{"a": NaN}', "NaN is not a valid JSON number."),
    ],
)
def test_the_provider_refuses_what_parsers_disagree_on(provider, text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        provider.loads(text)


# ------------------------------------------------------------------ the OpenAPI document

PUBLIC = {"/health", "/api/health", "/api/health/ready", "/api/logs/file"}


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").json


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield path, method, operation


def test_protected_operations_document_their_token_and_its_errors(spec):
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    for path, method, operation in _operations(spec):
        if path in PUBLIC:
            assert not operation.get("security"), (method, path)
            assert "401" not in operation["responses"], (method, path)
        elif not path.startswith("/api/stats"):  # until stats uses finance.common.blueprint
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)


def test_path_ids_and_json_bodies_document_their_errors(spec):
    for path, method, operation in _operations(spec):
        codes = set(operation["responses"])
        if "{" in path:
            assert "404" in codes, (method, path)
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content:
            assert {"400", "415", "422"} <= codes, (method, path)
            assert operation["requestBody"]["required"] is True


def test_blank_query_values_are_documented_as_absent(spec):
    (wallet_id,) = [
        p
        for p in spec["paths"]["/api/transactions"]["get"]["parameters"]
        if p["name"] == "wallet_id"
    ]
    assert wallet_id["allowEmptyValue"] is True
    assert wallet_id["schema"]["anyOf"][1] == {"type": "string", "pattern": BLANK}


def test_the_whitespace_patterns_agree_with_str_strip():
    """NOT_BLANK/BLANK spell out str.isspace(): Python, ECMA-262 and Rust disagree on \\s."""
    not_blank, blank = re.compile(NOT_BLANK), re.compile(BLANK)
    assert max(c for c in range(sys.maxunicode + 1) if chr(c).isspace()) == 0x3000
    for code in [*range(0x3001), 0xFEFF, 0x10FFFF]:
        char = chr(code)
        assert bool(not_blank.search(char)) is not char.isspace(), hex(code)
        assert bool(blank.match(char)) is char.isspace(), hex(code)
    jsonschema_rs = pytest.importorskip("jsonschema_rs")  # what schemathesis validates with
    pattern = jsonschema_rs.validator_for({"type": "string", "pattern": NOT_BLANK})
    for code in [*range(0x3001), 0xFEFF, 0x10FFFF]:
        assert pattern.is_valid(chr(code)) is not chr(code).isspace(), hex(code)


NOT_A_CURRENCY = "Must be a 3-letter ISO-4217 code."


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"name": "   "}, {"name": ["Length must be between 1 and 100."]}),
        ({"name": "x" * 100 + " "}, {"name": ["Length must be between 1 and 100."]}),
        (
            {"name": "W", "base_currency": "ßa"},
            {"base_currency": ["Must be a 3-letter ISO-4217 code."]},
        ),
        (
            {"name": "W", "base_currency": "EURO"},
            {"base_currency": ["Must be a 3-letter ISO-4217 code."]},
        ),
    ],
)
def test_strings_are_checked_as_documented(alice, body, errors):
    assert assert_error_contract(alice.post("/api/wallets", json=body), 422)["errors"] == errors


def test_trimmed_and_any_case_values_are_accepted_as_documented(alice):
    response = alice.post("/api/wallets", json={"name": " W ", "base_currency": " usd\t"})
    assert response.status_code == 201
    assert (response.json["name"], response.json["base_currency"]) == ("W", "USD")
