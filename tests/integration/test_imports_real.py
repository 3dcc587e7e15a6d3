"""Imports against the real server: concurrent uploads, kept totals vs. a recomputation."""

import io
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from bson import ObjectId

from finance.stats.models import MonthlyTotal
from finance.transactions.models import Transaction
from finance.wallets.models import Wallet
from tests.support.samples import expected, sample_files

ROWS = "\n".join(
    f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},Row {i % 40},{(i % 17) - 8}.{i % 100:02d},EUR"
    for i in range(600)
)
CSV = ("Date,Description,Amount,Currency\n" + ROWS + "\n").encode()


def new_wallet(user, name="Main"):
    wallet = Wallet(owner=ObjectId(user.id), name=name)
    wallet.save()
    return str(wallet.id)


def post_file(app, user, wallet_id, content, name="s.csv"):
    with app.test_client() as client:
        response = client.post(
            "/api/transactions/upload",
            data={"file": (io.BytesIO(content), name), "wallet_id": wallet_id},
            content_type="multipart/form-data",
            headers=user.headers,
        )
        return response.status_code, response.json


def test_ten_parallel_uploads_of_one_file_store_it_once(real_app, real_alice):
    wallet_id = new_wallet(real_alice)
    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(
            pool.map(lambda _: post_file(real_app, real_alice, wallet_id, CSV), range(10))
        )
    assert [status for status, _ in results] == [200] * 10, results
    imported = sum(body["data"]["imported"] for _, body in results)
    duplicates = sum(body["data"]["duplicates"] for _, body in results)
    assert imported == 600
    assert duplicates == 600 * 9
    docs = list(Transaction._get_collection().find({"wallet": ObjectId(wallet_id)}))
    assert len(docs) == 600
    wallet = Wallet.objects.get(id=wallet_id)
    assert wallet.totals.count == 600
    assert wallet.totals.balance == sum(d["transaction_amount"].to_decimal() for d in docs)
    months = MonthlyTotal.objects(wallet=ObjectId(wallet_id))
    assert sum(m.count for m in months) == 600


def test_samples_import_on_the_real_server(real_alice):
    wallet_id = new_wallet(real_alice)
    total = 0
    for path in sample_files():
        want = expected(path)
        if want["expect"] != "import":
            continue
        currencies = {t["currency"] for t in want["transactions"]}
        form = {"currency": currencies.pop()} if len(currencies) == 1 else {}
        response = real_alice.post(
            "/api/transactions/upload",
            data={
                "file": (io.BytesIO(path.read_bytes()), path.name),
                "wallet_id": wallet_id,
                **form,
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 200, (path.name, response.json)
        assert response.json["data"]["imported"] == want["transaction_count"], path.name
        total += want["transaction_count"]
    wallet = Wallet.objects.get(id=wallet_id)
    assert wallet.totals.count == total
    amounts = [
        d["transaction_amount"].to_decimal()
        for d in Transaction._get_collection().find({"wallet": ObjectId(wallet_id)})
    ]
    assert wallet.totals.balance == sum(amounts, Decimal(0))


def _rebuild_differences(wallet_id):
    from finance.stats import rebuild

    wallet = Wallet._get_collection().find_one({"_id": ObjectId(wallet_id)})
    return rebuild.compare(rebuild.kept(wallet), rebuild.recompute(wallet))


TRADES = "\n".join(
    f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},{('Buy', 'Sell', 'Dividend')[i % 3]},"
    f"{('AAPL', 'MSFT', 'Pinewood Global Balanced Accumulation')[i % 3]},"
    f"{1 + i % 5},{10 + i % 7}.50,{(-1, 1, 1)[i % 3] * (10 + i % 97)}.{i % 100:02d},USD"
    for i in range(700)
)
TRADES_CSV = ("Date,Type,Security,Quantity,Price,Amount,Currency\n" + TRADES + "\n").encode()


def test_parallel_uploads_in_many_batches_store_once_and_keep_totals(
    real_app, real_alice, monkeypatch
):
    """Seven transactions per upload (batches of 100), four uploads at once into an empty
    wallet: the fingerprint look-up is skipped, the unique index and the retried batches
    keep one copy, and the kept totals equal a rebuild from the stored rows."""
    from finance.imports import store

    monkeypatch.setattr(store, "BATCH_SIZE", 100)
    wallet_id = new_wallet(real_alice)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: post_file(real_app, real_alice, wallet_id, TRADES_CSV), range(4))
        )
    assert [status for status, _ in results] == [200] * 4, results
    assert sum(body["data"]["imported"] for _, body in results) == 700
    assert sum(body["data"]["duplicates"] for _, body in results) == 700 * 3
    docs = list(Transaction._get_collection().find({"wallet": ObjectId(wallet_id)}))
    assert len(docs) == len({d["fingerprint"] for d in docs}) == 700
    assert _rebuild_differences(wallet_id) == []
    assert Wallet.objects.get(id=wallet_id).totals.count == 700


def test_a_reupload_in_batches_adds_nothing_and_keeps_totals(real_app, real_alice, monkeypatch):
    from finance.imports import store

    monkeypatch.setattr(store, "BATCH_SIZE", 128)
    wallet_id = new_wallet(real_alice)
    status, first = post_file(real_app, real_alice, wallet_id, TRADES_CSV)
    assert status == 200, first
    assert (first["data"]["imported"], first["data"]["duplicates"]) == (700, 0)
    status, again = post_file(real_app, real_alice, wallet_id, TRADES_CSV)
    assert status == 200, again
    assert (again["data"]["imported"], again["data"]["duplicates"]) == (0, 700)
    assert again["data"]["duplicate_rows"] == list(range(2, 702))
    assert _rebuild_differences(wallet_id) == []
    # Trades name assets (the rules type the tickers); a dividend naming no symbol is cash.
    kinds = {
        (d["asset_name"], d["asset_type"], d["asset"] is not None)
        for d in Transaction._get_collection().find({"wallet": ObjectId(wallet_id)})
    }
    assert kinds == {
        ("AAPL", "stock", True),
        ("MSFT", "stock", True),
        ("Pinewood Global Balanced Accumulation", "cash", False),
    }
