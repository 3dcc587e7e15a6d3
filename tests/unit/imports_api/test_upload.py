"""Statement upload through the API: every sample end to end, de-duplication, reports, undo."""

import io

import pytest
from bson import ObjectId

from finance.imports.models import Import
from finance.stats.models import Holding
from finance.transactions.models import Transaction, TransactionError
from finance.wallets.models import Wallet
from tests.support.samples import expected, sample_files, unmatched

IMPORTABLE = [p for p in sample_files() if expected(p)["expect"] == "import"]
REJECTED = [p for p in sample_files() if expected(p)["expect"] == "reject"]

CSV = (
    b"Date,Description,Amount,Currency\n"
    b"2024-01-02,Salary,2500.00,EUR\n"
    b"2024-01-03,Rent,-900.00,EUR\n"
    b"2024-01-03,Rent,-900.00,EUR\n"
    b"not a date,Broken,12.00,EUR\n"
)


def make_wallet(user, name="Main", currency=None):
    wallet = Wallet(owner=ObjectId(user.id), name=name, base_currency=currency)
    wallet.save()
    return str(wallet.id)


def upload(user, wallet_id, content, name="statement.csv", query="", **form):
    data = {"file": (io.BytesIO(content), name), "wallet_id": wallet_id, **form}
    return user.post(
        f"/api/transactions/upload{query}", data=data, content_type="multipart/form-data"
    )


def stored(wallet_id):
    docs = Transaction.objects(wallet=ObjectId(wallet_id))
    return [
        {
            "date": d.date.isoformat(),
            "transaction_type": d.transaction_type,
            "transaction_amount": d.transaction_amount,
            "currency": d.currency,
            "fee": d.fee,
            "volume": d.volume,
            "item_price": d.item_price,
            "asset_symbol": d.asset_symbol,
            "asset_name": d.asset_name,
        }
        for d in docs
    ]


@pytest.mark.parametrize("path", IMPORTABLE, ids=lambda p: p.name)
def test_every_sample_imports_exactly_through_the_api(alice, path):
    """The web client's flow: detect-currency, ask the user when needed, then upload."""
    wallet_id = make_wallet(alice)
    want = expected(path)
    detected = alice.post(
        "/api/transactions/detect-currency",
        data={"file": (io.BytesIO(path.read_bytes()), path.name), "wallet_id": wallet_id},
        content_type="multipart/form-data",
    ).json
    form = {}
    if detected["needs_currency"]:
        [form["currency"]] = {t["currency"] for t in want["transactions"]}
    else:
        assert {t["currency"] for t in want["transactions"]} == {detected["detected_currency"]}
    response = upload(alice, wallet_id, path.read_bytes(), name=path.name, **form)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "success"
    assert body["data"]["failed_transactions"] == []
    assert body["data"]["imported"] == want["transaction_count"]
    assert body["data"]["format"] == want["format"].split()[0]
    missing, extra = unmatched(want["transactions"], stored(wallet_id))
    assert missing == [] and extra == []
    wallet = Wallet.objects.get(id=wallet_id)
    assert wallet.totals.count == want["transaction_count"]
    assert wallet.totals.balance == sum(
        (t["transaction_amount"] for t in stored(wallet_id)), start=0
    )


@pytest.mark.parametrize("path", REJECTED, ids=lambda p: p.name)
def test_non_statements_are_rejected_and_nothing_is_stored(alice, path):
    wallet_id = make_wallet(alice)
    response = upload(alice, wallet_id, path.read_bytes(), name=path.name)
    assert response.status_code in (415, 422)
    assert "statement" in response.json["detail"]
    assert Transaction.objects.count() == 0
    assert Import.objects.count() == 0


def test_reupload_adds_nothing_and_reports_the_duplicates(alice):
    wallet_id = make_wallet(alice)
    first = upload(alice, wallet_id, CSV).json["data"]
    assert (first["imported"], first["duplicates"], first["failed"]) == (3, 0, 1)
    second = upload(alice, wallet_id, CSV).json["data"]
    assert (second["imported"], second["duplicates"], second["failed"]) == (0, 3, 1)
    assert second["duplicate_rows"] == [2, 3, 4]
    assert Transaction.objects.count() == 3  # both identical Rent rows survive, once each


def test_failed_rows_are_returned_under_data_and_stored(alice):
    wallet_id = make_wallet(alice)
    body = upload(alice, wallet_id, CSV).json
    [failed] = body["data"]["failed_transactions"]
    assert failed["row_number"] == 5
    assert failed["field_name"] == "date"
    assert failed["value"] == "not a date"
    assert failed["error_type"] in ("format", "validation", "invalid")
    assert failed["processed"] is False
    assert failed["wallet_id"] == wallet_id
    assert failed["import_id"] == body["data"]["import_id"]
    assert isinstance(failed["suggestion"], str) and failed["suggestion"]
    stored_error = TransactionError.objects.get(id=failed["id"])
    assert stored_error.raw
    assert "1 could not be read" in body["message"]


def test_dry_run_previews_and_stores_nothing(alice):
    wallet_id = make_wallet(alice)
    response = upload(alice, wallet_id, CSV, query="?dry_run=true")
    data = response.json["data"]
    assert data["dry_run"] is True
    assert len(data["preview"]) == 3
    assert data["preview"][0]["transaction_type"] == "DEPOSIT"
    assert data["mapping"]["Date"] == "date"
    assert Transaction.objects.count() == 0
    assert TransactionError.objects.count() == 0
    assert Import.objects.count() == 0
    assert "Dry run" in response.json["message"]


def test_report_and_import_resources(alice):
    wallet_id = make_wallet(alice)
    data = upload(alice, wallet_id, CSV, name="../../etc/jan.csv").json["data"]
    assert data["file_name"] == "jan.csv"
    assert data["format"] == "csv"
    assert data["delimiter"] == ","
    assert data["header_row"] == 1
    assert data["mapping_source"] == "heuristic"
    assert len(data["sha256"]) == 64
    listing = alice.get("/api/imports").json
    assert listing["total_count"] == 1
    assert listing["imports"][0]["id"] == data["import_id"]
    record = alice.get(f"/api/imports/{data['import_id']}").json
    assert record["status"] == "completed"
    assert (record["imported"], record["failed"], record["rows"]) == (3, 1, 4)
    assert record["wallet_id"] == wallet_id


def test_undo_removes_the_imports_rows_and_moves_totals_back(alice):
    wallet_id = make_wallet(alice)
    import_id = upload(alice, wallet_id, CSV).json["data"]["import_id"]
    assert Wallet.objects.get(id=wallet_id).totals.count == 3
    assert alice.delete(f"/api/imports/{import_id}").status_code == 204
    assert Transaction.objects.count() == 0
    assert TransactionError.objects.count() == 0
    wallet = Wallet.objects.get(id=wallet_id)
    assert (wallet.totals.count, wallet.totals.balance) == (0, 0)
    assert alice.get(f"/api/imports/{import_id}").json["status"] == "undone"
    again = upload(alice, wallet_id, CSV).json["data"]
    assert again["imported"] == 3


def test_trades_create_assets_and_holdings(alice):
    wallet_id = make_wallet(alice)
    path = next(p for p in IMPORTABLE if p.name.startswith("22_degiro"))
    upload(alice, wallet_id, path.read_bytes(), name=path.name)
    trades = Transaction.objects(wallet=ObjectId(wallet_id), transaction_type__in=["BUY", "SELL"])
    assert trades and all(t.asset is not None for t in trades)
    assert Holding.objects(wallet=ObjectId(wallet_id)).count() >= 1


def test_another_users_wallet_is_404_and_nothing_is_stored(alice, bob):
    wallet_id = make_wallet(alice)
    response = upload(bob, wallet_id, CSV)
    assert response.status_code == 404
    assert response.json["detail"] == "Wallet not found."
    assert Transaction.objects.count() == 0
    imp = upload(alice, wallet_id, CSV).json["data"]["import_id"]
    assert bob.get(f"/api/imports/{imp}").status_code == 404
    assert bob.delete(f"/api/imports/{imp}").status_code == 404
    assert Transaction.objects.count() == 3


def test_upload_validation(alice):
    wallet_id = make_wallet(alice)
    missing_file = alice.post(
        "/api/transactions/upload",
        data={"wallet_id": wallet_id},
        content_type="multipart/form-data",
    )
    assert missing_file.status_code == 422
    assert "file" in missing_file.json["errors"]
    bad = upload(alice, wallet_id, CSV, currency="euro", delimiter="x", mapping="{not json")
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"currency", "delimiter", "mapping"}
    no_wallet = upload(alice, "", CSV)
    assert no_wallet.status_code == 422


def test_over_the_size_cap_is_413_naming_the_cap(auth_environ, tokens):
    from tests.conftest import ApiUser, make_app

    app = make_app(environ=dict(auth_environ, MAX_UPLOAD_BYTES="1000"))
    user = ApiUser(app.test_client(), tokens, "alice-uid", "alice@example.com")
    wallet_id = make_wallet(user)
    response = upload(user, wallet_id, CSV * 20)
    assert response.status_code == 413
    assert "1.0 KB" in response.json["detail"] or "1000" in response.json["detail"]
    huge = upload(user, wallet_id, b"x" * 200_000)
    assert huge.status_code == 413
    assert Transaction.objects.count() == 0


def test_detect_currency(alice):
    wallet_id = make_wallet(alice)
    stated = alice.post(
        "/api/transactions/detect-currency",
        data={"file": (io.BytesIO(CSV), "s.csv"), "wallet_id": wallet_id},
        content_type="multipart/form-data",
    )
    assert stated.json == {
        "needs_currency": False,
        "detected_currency": "EUR",
        "wallet_currency": None,
    }
    silent = b"Date,Description,Amount\n2024-01-02,Salary,2500.00\n"
    unknown = alice.post(
        "/api/transactions/detect-currency",
        data={"file": (io.BytesIO(silent), "s.csv"), "wallet_id": wallet_id},
        content_type="multipart/form-data",
    )
    assert unknown.json == {
        "needs_currency": True,
        "detected_currency": None,
        "wallet_currency": None,
    }


def test_currency_form_field_fills_in_for_silent_files(alice):
    wallet_id = make_wallet(alice)
    silent = b"Date,Description,Amount\n2024-01-02,Salary,2500.00\n"
    upload(alice, wallet_id, silent, currency="pln")
    assert Transaction.objects.get().currency == "PLN"


def test_trades_without_a_security_name_do_not_break_the_import(alice):
    wallet_id = make_wallet(alice)
    content = b"Date,Type,Quantity,Price,Amount,Currency\n2024-01-02,Buy,2,10.00,-20.00,EUR\n"
    response = upload(alice, wallet_id, content)
    assert response.status_code == 200, response.json
    [tx] = Transaction.objects(wallet=ObjectId(wallet_id))
    assert (tx.transaction_type, tx.asset, tx.volume) == ("BUY", None, 2)
