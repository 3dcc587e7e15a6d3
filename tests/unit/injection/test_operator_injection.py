"""MongoDB operator injection through every JSON body and query string.

Every value reaches a query only after a schema typed it, so ``{"$gt": ""}`` in a body,
``wallet_id[$ne]=x`` or ``wallet_id={"$ne":1}`` in a query is a 4xx in the one error
contract, with nothing stored or changed; regex metacharacters in searches are text.
"""

import json
from urllib.parse import quote

import pytest

from finance.edge import OPERATOR_NAME_DETAIL
from tests.unit.injection.helpers import assert_error_contract, snapshot

GT = {"$gt": ""}
NE = {"$ne": None}
WHERE = {"$where": "sleep(1000) || true"}
REGEX = {"$regex": ".*"}

# (method, path, body, the fields the 422 names). Paths name alice's own resources.
BODIES = [
    ("POST", "/api/users/register", {"oauth_id": GT}, {"oauth_id"}),
    ("POST", "/api/users/register", {"oauth_id": "alice-uid", "email": NE}, {"email"}),
    ("POST", "/api/users/register", {"oauth_id": "alice-uid", "username": REGEX}, {"username"}),
    ("POST", "/api/users/register", {"oauth_id": "alice-uid", "$where": "1"}, {"$where"}),
    ("PATCH", "/api/users/me", {"username": GT}, {"username"}),
    ("PATCH", "/api/users/me", {"full_name": WHERE}, {"full_name"}),
    ("POST", "/api/wallets", {"name": GT}, {"name"}),
    ("POST", "/api/wallets", {"name": "W", "base_currency": NE}, {"base_currency"}),
    ("POST", "/api/wallets", {"name": "W", "description": REGEX}, {"description"}),
    ("POST", "/api/wallets", {"name": "W", "owner": NE}, {"owner"}),
    ("PATCH", "/api/wallets/{wallet}", {"name": REGEX}, {"name"}),
    ("PATCH", "/api/wallets/{wallet}", {"$set": {"owner": "x"}}, {"$set"}),
    ("POST", "/api/transactions", {"wallet_id": NE}, {"wallet_id", "date", "transaction_type"}),
    (
        "POST",
        "/api/transactions",
        {
            "wallet_id": "{wallet}",
            "date": {"$gte": "2000-01-01"},
            "transaction_type": {"$in": ["BUY"]},
            "transaction_amount": GT,
            "currency": NE,
        },
        {"date", "transaction_type", "transaction_amount", "currency"},
    ),
    (
        "POST",
        "/api/transactions",
        {
            "wallet_id": "{wallet}",
            "date": "2024-01-01",
            "transaction_type": "DEPOSIT",
            "transaction_amount": 1,
            "asset_name": WHERE,
            "description": REGEX,
        },
        {"asset_name", "description"},
    ),
    ("PATCH", "/api/transactions/{transaction}", {"wallet_id": NE}, {"wallet_id"}),
    ("PATCH", "/api/transactions/{transaction}", {"fee": GT, "volume": [1]}, {"fee", "volume"}),
    ("PATCH", "/api/transactions/{transaction}", {"owner": "x"}, {"owner"}),
    ("PATCH", "/api/transactions/errors/{error}", {"processed": NE}, {"processed"}),
    ("PATCH", "/api/transactions/errors/{error}", {"processed": "true"}, {"processed"}),
    ("POST", "/api/assets", {"name": GT}, {"name"}),
    ("POST", "/api/assets", {"name": "X", "isin": REGEX, "symbol": NE}, {"isin", "symbol"}),
    ("PATCH", "/api/assets/{asset}", {"asset_type": {"$ne": "stock"}}, {"asset_type"}),
    ("PATCH", "/api/assets/{asset}", {"key": "x"}, {"key"}),
    ("POST", "/api/assets/{asset}/prices", {"date": GT, "price": 1}, {"date"}),
    (
        "POST",
        "/api/assets/{asset}/prices",
        {"prices": [{"date": "2024-01-01", "price": GT}]},
        {"prices"},
    ),
    ("POST", "/api/assets/{asset}/prices", {"prices": WHERE}, {"prices"}),
    ("POST", "/api/logs/file", {"logs": GT}, {"logs"}),
    ("POST", "/api/logs/file", {"logs": [{"message": NE}]}, {"logs"}),
    ("POST", "/api/logs/file", {"logs": [{"message": "m", "level": REGEX}]}, {"logs"}),
]


def _fill(value, ids):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {key: _fill(item, ids) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, ids) for item in value]
    return value


def _ids(world):
    a = world.alice
    return {
        "wallet": a.wallet,
        "transaction": a.transaction,
        "error": a.error,
        "asset": world.asset,
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "fields"),
    BODIES,
    ids=[f"{m} {p} {'+'.join(sorted(f))}" for m, p, _, f in BODIES],
)
def test_operators_in_json_bodies_are_refused_and_change_nothing(world, method, path, body, fields):
    ids = _ids(world)
    before = snapshot()
    response = getattr(world.alice.user, method.lower())(_fill(path, ids), json=_fill(body, ids))
    errors = assert_error_contract(response, 422)["errors"]
    assert set(errors) == fields
    assert snapshot() == before


def test_operators_inside_a_log_context_are_text_that_is_logged_not_stored(world, capsys):
    before = snapshot()
    context = {"$where": "sleep(1000)", "filter": {"owner": {"$ne": None}}}
    response = world.client.post(
        "/api/logs/file", json={"logs": [{"message": "hi", "context": context}]}
    )
    assert response.json == {"status": "success", "message": "Logged 1 entry.", "count": 1}
    assert snapshot() == before
    (line,) = [
        json.loads(text)
        for text in capsys.readouterr().out.splitlines()
        if '"finance.client"' in text
    ]
    assert line["context"] == context


# --------------------------------------------------------------------------- query strings


def q(value) -> str:
    """A JSON value as one URL-encoded query value."""
    return quote(json.dumps(value, separators=(",", ":")))


OBJECT = q({"$ne": 1})
# (path and query, status, the parameters the error names)
QUERIES = [
    ("/api/transactions?wallet_id[$ne]=x", 400, {"wallet_id[$ne]"}),
    ("/api/transactions?wallet_id[%24ne]=x", 400, {"wallet_id[$ne]"}),
    (f"/api/transactions?wallet_id={OBJECT}", 422, {"wallet_id"}),
    ("/api/transactions?asset[$regex]=.*", 400, {"asset[$regex]"}),
    ("/api/transactions?transaction_type[$in]=BUY", 400, {"transaction_type[$in]"}),
    ("/api/transactions?transaction_type[]=BUY", 400, {"transaction_type[]"}),
    ("/api/transactions?transaction_type=" + q({"$in": ["BUY"]}), 422, {"transaction_type"}),
    ("/api/transactions?sort=" + q({"$natural": 1}), 422, {"sort"}),
    ("/api/transactions?sort=$natural", 422, {"sort"}),
    ("/api/transactions?min_amount[$gt]=0", 400, {"min_amount[$gt]"}),
    ("/api/transactions?min_amount=" + q({"$gt": 0}), 422, {"min_amount"}),
    ("/api/transactions?date_from=" + q({"$gt": ""}), 422, {"date_from"}),
    ("/api/transactions?$where=1", 400, {"$where"}),
    ("/api/transactions/errors?wallet_id[$ne]=x", 400, {"wallet_id[$ne]"}),
    (f"/api/transactions/errors?wallet_id={OBJECT}", 422, {"wallet_id"}),
    ("/api/transactions/errors?processed[$ne]=true", 400, {"processed[$ne]"}),
    ("/api/transactions/errors?processed=" + q({"$ne": True}), 422, {"processed"}),
    (f"/api/transactions/export?wallet_id={OBJECT}", 422, {"wallet_id"}),
    ("/api/transactions/export?format[$ne]=csv", 400, {"format[$ne]"}),
    ("/api/imports?wallet_id[$ne]=x", 400, {"wallet_id[$ne]"}),
    (f"/api/imports?wallet_id={OBJECT}", 422, {"wallet_id"}),
    ("/api/assets?q[$regex]=.*", 400, {"q[$regex]"}),
    ("/api/assets?asset_type=" + q({"$ne": "stock"}), 422, {"asset_type"}),
    (f"/api/stats?wallet_id={OBJECT}", 422, {"wallet_id"}),
    ("/api/stats?wallet_id[$ne]=x", 400, {"wallet_id[$ne]"}),
    (f"/api/stats/allocation?wallet_id={OBJECT}", 422, {"wallet_id"}),
    (f"/api/stats/holdings?wallet_id={OBJECT}", 422, {"wallet_id"}),
    (f"/api/stats/balance-history?wallet_id={OBJECT}", 422, {"wallet_id"}),
    ("/api/wallets?name[$ne]=x", 400, {"name[$ne]"}),
    ("/api/mappings?signature[$exists]=true", 400, {"signature[$exists]"}),
]
# Pagination beyond its bounds, on every paginated listing.
LISTINGS = [
    "/api/transactions",
    "/api/transactions/errors",
    "/api/imports",
    "/api/assets",
    "/api/assets/{asset}/prices",
    "/api/mappings",
]
PAGES = [
    ("limit=1000000000", {"limit"}),
    ("limit=1001", {"limit"}),
    ("limit=0", {"limit"}),
    ("limit=-1", {"limit"}),
    ("page=-1", {"page"}),
    ("page=0", {"page"}),
    ("page=1e9", {"page"}),
    ("page=1000001", {"page"}),
    ("page=1.5", {"page"}),
    ("page=99999999999999999999999", {"page"}),
]
QUERIES += [(f"{listing}?{query}", 422, names) for listing in LISTINGS for query, names in PAGES]


@pytest.mark.parametrize(("url", "status", "names"), QUERIES, ids=[q[0] for q in QUERIES])
def test_operators_and_out_of_range_values_in_query_strings_are_refused(world, url, status, names):
    before = snapshot()
    response = world.alice.user.get(url.format(asset=world.asset))
    body = assert_error_contract(response, status)
    assert set(body["errors"]) == names
    if status == 400:
        assert body["detail"] == OPERATOR_NAME_DETAIL
    assert snapshot() == before


@pytest.mark.parametrize(
    "query",
    [
        "q=.*",
        "q=%24where",
        "q=%5E",
        "q=%7B%22%24ne%22%3A1%7D",
        "asset=.*",
        "asset=%5E",
        "asset=A.*",
    ],
)
def test_regex_and_operator_text_in_searches_matches_only_itself(world, query):
    """``.*`` is three characters to look for, not "everything"."""
    response = world.alice.user.get(f"/api/transactions?{query}")
    assert response.status_code == 200
    assert (response.json["transactions"], response.json["total_count"]) == ([], 0)
    assets = world.alice.user.get(f"/api/assets?q={query.split('=', 1)[1]}")
    assert (assets.status_code, assets.json["assets"]) == (200, [])


def test_a_search_finds_only_the_callers_own_rows(world):
    """Both users have a "... main salary" transaction; each search sees only its owner's."""
    for owner in (world.alice, world.bob):
        response = owner.user.get("/api/transactions?q=main%20salary")
        assert [t["id"] for t in response.json["transactions"]] == [owner.transaction]
        assert response.json["transactions"][0]["description"] == f"{owner.name} salary"
