"""Export: the listing's filters, escaped cells, and an exact export → import round trip."""

import csv
import io

import pytest
from bson import ObjectId

from finance.transactions.models import Transaction
from finance.wallets.models import Wallet
from tests.support.samples import expected, sample_files

FIELDS = (
    "date",
    "transaction_type",
    "transaction_amount",
    "currency",
    "fee",
    "volume",
    "item_price",
    "asset_name",
    "asset_symbol",
    "description",
)


def wallet(user, name):
    doc = Wallet(owner=ObjectId(user.id), name=name)
    doc.save()
    return str(doc.id)


def upload(user, wallet_id, content, name, **form):
    response = user.post(
        "/api/transactions/upload",
        data={"file": (io.BytesIO(content), name), "wallet_id": wallet_id, **form},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.json
    return response.json["data"]


def snapshot(wallet_id):
    rows = [
        tuple(getattr(t, f) for f in FIELDS)
        for t in Transaction.objects(wallet=ObjectId(wallet_id))
    ]
    return sorted(rows, key=repr)


def fill(user, wallet_id):
    for path in sample_files():
        want = expected(path)
        if want["expect"] != "import":
            continue
        currencies = {t["currency"] for t in want["transactions"]}
        form = {"currency": currencies.pop()} if len(currencies) == 1 else {}
        upload(user, wallet_id, path.read_bytes(), path.name, **form)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_then_import_into_a_new_wallet_reproduces_every_transaction(alice, fmt):
    source = wallet(alice, "Source")
    fill(alice, source)
    exported = alice.get(f"/api/transactions/export?wallet_id={source}&format={fmt}")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == f'attachment; filename="transactions.{fmt}"'
    target = wallet(alice, "Copy")
    report = upload(alice, target, exported.data, f"transactions.{fmt}")
    assert report["failed_transactions"] == []
    assert report["imported"] == Wallet.objects.get(id=source).totals.count
    assert snapshot(target) == snapshot(source)
    assert (
        Wallet.objects.get(id=target).totals.balance == Wallet.objects.get(id=source).totals.balance
    )


def test_formula_text_is_escaped_in_csv_and_restored_on_import(alice):
    source = wallet(alice, "Source")
    content = (
        b"Date,Description,Amount,Currency\n"
        b'2024-01-02,=HYPERLINK("http://evil"),-5.00,EUR\n'
        b"2024-01-03,@SUM(A1),7.00,EUR\n"
    )
    upload(alice, source, content, "a.csv")
    stored = {t.description for t in Transaction.objects(wallet=ObjectId(source))}
    assert stored == {'=HYPERLINK("http://evil")', "@SUM(A1)"}
    exported = alice.get(f"/api/transactions/export?wallet_id={source}").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert {r["Description"] for r in rows} == {'\'=HYPERLINK("http://evil")', "'@SUM(A1)"}
    assert {r["Net Amount"] for r in rows} == {"-5.00", "7.00"}  # numbers are never escaped
    target = wallet(alice, "Copy")
    upload(alice, target, exported.encode(), "t.csv")
    assert snapshot(target) == snapshot(source)


def test_export_uses_the_listing_filters_and_ownership(alice, bob):
    source = wallet(alice, "Source")
    fill(alice, source)
    exported = alice.get(
        f"/api/transactions/export?wallet_id={source}&transaction_type=BUY,SELL"
    ).data
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert rows and {r["Type"] for r in rows} <= {"BUY", "SELL"}
    assert (
        len(rows)
        == Transaction.objects(
            wallet=ObjectId(source), transaction_type__in=["BUY", "SELL"]
        ).count()
    )
    assert bob.get(f"/api/transactions/export?wallet_id={source}").status_code == 404
    assert alice.get("/api/transactions/export?format=pdf").status_code == 422
