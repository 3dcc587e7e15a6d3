"""Manual entry, reading, editing and deleting transactions through the real app."""

import datetime as dt
from decimal import Decimal

import pytest

from finance.assets.models import Asset
from finance.transactions.models import Transaction
from finance.wallets.models import Wallet
from tests.unit.transactions.helpers import assert_kept_totals_match

MISSING_ID = "65f1c0ffee0123456789abcd"


def volatile(item):
    """Split what the server invents (ids, clocks) from what the test can predict."""
    rest = dict(item)
    for name in ("id", "asset_id", "created_at", "updated_at"):
        rest.pop(name)
    return rest


def test_create_returns_the_whole_item_and_keeps_totals(alice, wallet):
    response = alice.post(
        "/api/transactions",
        json={
            "wallet_id": wallet,
            "date": "2024-03-15",
            "transaction_type": "deposit",
            "transaction_amount": 1250.75,
            "description": "  Salary March ",
        },
    )
    assert response.status_code == 201
    item = response.json
    assert volatile(item) == {
        "wallet_id": wallet,
        "date": "2024-03-15",
        "asset_name": None,
        "asset_symbol": None,
        "asset_type": "other",
        "transaction_type": "DEPOSIT",
        "volume": None,
        "item_price": None,
        "transaction_amount": 1250.75,
        "currency": "EUR",
        "fee": 0,
        "description": "Salary March",
        "import_id": None,
        "row_number": None,
        "source": "manual",
    }
    assert item["asset_id"] is None
    assert len(item["id"]) == 24
    fetched = alice.get(f"/api/transactions/{item['id']}").json
    assert volatile(fetched) == volatile(item)
    assert (fetched["id"], fetched["asset_id"]) == (item["id"], None)
    assert fetched["created_at"][:23] == item["created_at"][:23]  # stored to the millisecond
    stored = Transaction.objects.get(id=item["id"])
    assert stored.fingerprint.startswith("manual:") and len(stored.fingerprint) == 39
    assert stored.transaction_amount == Decimal("1250.75")
    wallet_item = alice.get(f"/api/wallets/{wallet}").json
    assert (wallet_item["balance"], wallet_item["deposits"], wallet_item["transaction_count"]) == (
        1250.75,
        1250.75,
        1,
    )
    assert_kept_totals_match(wallet)


def test_a_buy_gets_its_amount_computed_and_its_asset_linked(alice, wallet):
    response = alice.post(
        "/api/transactions",
        json={
            "wallet_id": wallet,
            "date": "2024-03-15",
            "transaction_type": "BUY",
            "asset_name": "Apple Inc.",
            "asset_symbol": "aapl",
            "volume": 10,
            "item_price": "170.5",
            "fee": 1.5,
            "currency": "usd",
        },
    )
    assert response.status_code == 201, response.json
    item = response.json
    assert (item["transaction_amount"], item["currency"], item["asset_type"]) == (
        -1706.5,
        "USD",
        "stock",
    )
    asset = Asset.objects.get(id=item["asset_id"])
    assert (asset.key, asset.name, asset.asset_type) == ("AAPL", "Apple Inc.", "stock")
    explicit = alice.post(
        "/api/transactions",
        json={
            "wallet_id": wallet,
            "date": "2024-03-16",
            "transaction_type": "BUY",
            "asset_symbol": "AAPL",
            "transaction_amount": -10,
            "asset_type": "ETF",
        },
    ).json
    assert explicit["asset_id"] == item["asset_id"]
    assert explicit["asset_type"] == "etf"
    assert Asset.objects.count() == 1
    assert_kept_totals_match(wallet)


def test_manual_duplicates_are_intentional(add, wallet):
    first, second = add(), add()
    assert first["id"] != second["id"]
    assert assert_kept_totals_match(wallet)["count"] == 2


def test_a_wrong_sign_is_rejected_and_nothing_is_stored(alice, wallet):
    response = alice.post(
        "/api/transactions",
        json={
            "wallet_id": wallet,
            "date": "2024-03-15",
            "transaction_type": "WITHDRAWAL",
            "transaction_amount": 50,
        },
    )
    assert response.status_code == 422
    message = (
        "A WITHDRAWAL moves cash out of the wallet, so transaction_amount must be "
        "negative (got 50)."
    )
    assert response.json["detail"] == message
    assert response.json["errors"] == {"transaction_amount": [message]}
    assert Transaction.objects.count() == 0
    assert alice.get(f"/api/wallets/{wallet}").json["transaction_count"] == 0


def test_body_types_are_checked_before_the_rules(alice, wallet):
    response = alice.post(
        "/api/transactions",
        json={
            "wallet_id": {"$ne": None},
            "date": "15/03/2024",
            "transaction_amount": "lots",
            "currency": "EURO",
            "surprise": 1,
        },
    )
    assert response.status_code == 422
    assert response.json["errors"] == {
        "wallet_id": ["Not a valid string."],
        "date": ["Not a valid date."],
        "transaction_type": ["Missing data for required field."],
        "transaction_amount": ["Not a valid number."],
        "currency": ["Must be a 3-letter ISO-4217 code."],
        "surprise": ["Unknown field."],
    }
    assert Transaction.objects.count() == 0


def test_currency_is_required_when_the_wallet_has_none(alice):
    bare = alice.post("/api/wallets", json={"name": "No currency"}).json["id"]
    response = alice.post(
        "/api/transactions",
        json={
            "wallet_id": bare,
            "date": "2024-03-15",
            "transaction_type": "DEPOSIT",
            "transaction_amount": 5,
        },
    )
    assert response.status_code == 422
    assert response.json["errors"] == {
        "currency": [
            "currency is required: the wallet has no base currency, so give a 3-letter ISO-4217 "
            "code."
        ]
    }


def test_dates_in_the_far_future_are_rejected(alice, wallet):
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    later = tomorrow + dt.timedelta(days=1)
    body = {"wallet_id": wallet, "transaction_type": "DEPOSIT", "transaction_amount": 5}
    assert alice.post("/api/transactions", json={**body, "date": str(tomorrow)}).status_code == 201
    response = alice.post("/api/transactions", json={**body, "date": str(later)})
    assert response.status_code == 422
    assert response.json["errors"] == {
        "date": [f"date {later} is in the future; the latest allowed is {tomorrow}."]
    }


def test_another_users_wallet_and_transactions_are_404(alice, bob, wallet, add):
    mine = add()
    bobs_wallet = bob.post("/api/wallets", json={"name": "Bob", "base_currency": "EUR"}).json["id"]
    into_bob = alice.post(
        "/api/transactions",
        json={
            "wallet_id": bobs_wallet,
            "date": "2024-03-15",
            "transaction_type": "DEPOSIT",
            "transaction_amount": 5,
        },
    )
    assert into_bob.status_code == 404
    assert into_bob.json["detail"] == "Wallet not found."
    for call in (
        lambda: bob.get(f"/api/transactions/{mine['id']}"),
        lambda: bob.patch(f"/api/transactions/{mine['id']}", json={"description": "mine now"}),
        lambda: bob.delete(f"/api/transactions/{mine['id']}"),
        lambda: alice.get(f"/api/transactions/{MISSING_ID}"),
    ):
        response = call()
        assert response.status_code == 404
        assert response.json["detail"] == "Transaction not found."
    moved = alice.patch(f"/api/transactions/{mine['id']}", json={"wallet_id": bobs_wallet})
    assert moved.status_code == 404
    assert moved.json["detail"] == "Wallet not found."
    assert alice.get(f"/api/transactions/{mine['id']}").json["description"] is None
    assert Transaction.objects.count() == 1
    assert Wallet.objects.get(id=bobs_wallet).totals.count == 0


def test_non_id_paths_are_not_read_as_ids(alice):
    for path in (
        "/api/transactions/not-an-id",
        "/api/transactions/65f1c0ffee0123456789abcz",
        "/api/wallets/123",
    ):
        response = alice.get(path)
        assert response.status_code == 404
        assert response.json == {
            "detail": "The requested resource was not found.",
            "code": 404,
            "status": "Not Found",
            "request_id": response.json["request_id"],
        }
    assert alice.get("/api/transactions/errors").status_code == 200
    upload = alice.get("/api/transactions/upload")
    assert upload.status_code == 405
    assert "POST" in upload.headers["Allow"]


def test_patch_validates_the_merged_result(alice, add, wallet):
    deposit = add(transaction_amount=100)
    created_at = alice.get(f"/api/transactions/{deposit['id']}").json["created_at"]
    flipped = alice.patch(
        f"/api/transactions/{deposit['id']}", json={"transaction_type": "withdrawal"}
    )
    assert flipped.status_code == 422
    assert flipped.json["errors"] == {
        "transaction_amount": [
            "A WITHDRAWAL moves cash out of the wallet, so transaction_amount must be negative "
            "(got 100)."
        ]
    }
    fixed = alice.patch(
        f"/api/transactions/{deposit['id']}",
        json={"transaction_type": "withdrawal", "transaction_amount": -100},
    )
    assert fixed.status_code == 200
    assert (fixed.json["transaction_type"], fixed.json["transaction_amount"]) == (
        "WITHDRAWAL",
        -100,
    )
    assert fixed.json["created_at"] == created_at
    assert fixed.json["updated_at"] > deposit["updated_at"]
    unknown = alice.patch(f"/api/transactions/{deposit['id']}", json={"owner": "x"})
    assert unknown.status_code == 422
    assert unknown.json["errors"] == {"owner": ["Unknown field."]}
    assert_kept_totals_match(wallet)


def test_patch_can_recompute_a_trade_amount(alice, add, wallet):
    buy = add(
        transaction_type="BUY",
        transaction_amount=None,
        asset_symbol="VWCE",
        volume=2,
        item_price=100,
        fee=1,
    )
    assert buy["transaction_amount"] == -201
    kept = alice.patch(f"/api/transactions/{buy['id']}", json={"volume": 3}).json
    assert (kept["volume"], kept["transaction_amount"]) == (3, -201)
    recomputed = alice.patch(
        f"/api/transactions/{buy['id']}", json={"volume": 3, "transaction_amount": None}
    ).json
    assert recomputed["transaction_amount"] == -301
    assert assert_kept_totals_match(wallet)["balance"] == Decimal(-301)
    holding = alice.get(f"/api/wallets/{wallet}").json
    assert (holding["balance"], holding["fees"]) == (-301, 1)


def test_patch_renaming_the_asset_relinks_it(alice, add):
    buy = add(transaction_type="BUY", transaction_amount=-10, asset_name="Apple Inc.")
    renamed = alice.patch(
        f"/api/transactions/{buy['id']}", json={"asset_name": "Bitcoin", "asset_symbol": "BTC"}
    ).json
    assert renamed["asset_id"] != buy["asset_id"]
    assert (renamed["asset_type"], Asset.objects.get(id=renamed["asset_id"]).key) == (
        "crypto",
        "BTC",
    )


def test_moving_between_wallets_keeps_both_totals(alice, add, wallet):
    other = alice.post("/api/wallets", json={"name": "Savings", "base_currency": "EUR"}).json["id"]
    buy = add(
        transaction_type="BUY", transaction_amount=-40, asset_symbol="VWCE", volume=1, item_price=40
    )
    add(transaction_amount=100)
    moved = alice.patch(f"/api/transactions/{buy['id']}", json={"wallet_id": other})
    assert moved.status_code == 200
    assert moved.json["wallet_id"] == other
    assert assert_kept_totals_match(wallet) == {
        "balance": Decimal(100),
        "deposits": Decimal(100),
        "withdrawals": 0,
        "income": 0,
        "fees": 0,
        "count": 1,
    }
    assert assert_kept_totals_match(other)["balance"] == Decimal(-40)
    listed = alice.get(f"/api/transactions?wallet_id={other}").json
    assert [t["id"] for t in listed["transactions"]] == [buy["id"]]


def test_delete_removes_it_and_its_totals(alice, add, wallet):
    first, second = (
        add(transaction_amount=100),
        add(transaction_type="FEE", transaction_amount=-2.5),
    )
    response = alice.delete(f"/api/transactions/{first['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert alice.get(f"/api/transactions/{first['id']}").status_code == 404
    again = alice.delete(f"/api/transactions/{first['id']}")
    assert again.status_code == 404
    assert again.json["detail"] == "Transaction not found."
    kept = assert_kept_totals_match(wallet)
    assert (kept["balance"], kept["fees"], kept["count"]) == (Decimal("-2.5"), Decimal("2.5"), 1)
    assert alice.get(f"/api/transactions/{second['id']}").status_code == 200


@pytest.mark.parametrize("steps", ["create", "patch", "delete", "mixed"])
def test_kept_totals_always_equal_the_sums_of_the_transactions(alice, add, wallet, steps):
    created = [
        add(transaction_amount=1000),
        add(
            transaction_type="BUY",
            transaction_amount=None,
            asset_symbol="VWCE",
            volume="3.5",
            item_price="101.37",
            fee="0.99",
            date="2024-02-01",
        ),
        add(
            transaction_type="SELL",
            transaction_amount=150.25,
            asset_symbol="VWCE",
            volume=1.5,
            item_price=100.5,
            fee=0.5,
            date="2024-04-01",
        ),
        add(transaction_type="DIVIDEND", transaction_amount=3.21, asset_symbol="VWCE"),
        add(transaction_type="TRANSFER", transaction_amount=-20, currency="USD"),
        add(transaction_type="FEE", transaction_amount=-1),
        add(transaction_type="INTEREST", transaction_amount="0.07", date="2023-12-31"),
    ]
    if steps in ("patch", "mixed"):
        alice.patch(
            f"/api/transactions/{created[1]['id']}",
            json={"volume": 4, "transaction_amount": None, "date": "2024-05-05"},
        )
        alice.patch(f"/api/transactions/{created[4]['id']}", json={"transaction_amount": 30})
    if steps in ("delete", "mixed"):
        alice.delete(f"/api/transactions/{created[2]['id']}")
        alice.delete(f"/api/transactions/{created[0]['id']}")
    kept = assert_kept_totals_match(wallet)
    listed = alice.get(f"/api/wallets/{wallet}").json
    assert Decimal(str(listed["balance"])) == kept["balance"]
    assert listed["transaction_count"] == kept["count"]
    currencies = Wallet.objects.get(id=wallet).totals.by_currency
    assert currencies["USD"].to_decimal() == Decimal(30 if steps in ("patch", "mixed") else -20)
