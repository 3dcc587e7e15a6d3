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
        results = list(pool.map(lambda _: post_file(real_app, real_alice, wallet_id, CSV),
                                range(10)))
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
            data={"file": (io.BytesIO(path.read_bytes()), path.name), "wallet_id": wallet_id,
                  **form},
            content_type="multipart/form-data",
        )
        assert response.status_code == 200, (path.name, response.json)
        assert response.json["data"]["imported"] == want["transaction_count"], path.name
        total += want["transaction_count"]
    wallet = Wallet.objects.get(id=wallet_id)
    assert wallet.totals.count == total
    amounts = [d["transaction_amount"].to_decimal()
               for d in Transaction._get_collection().find({"wallet": ObjectId(wallet_id)})]
    assert wallet.totals.balance == sum(amounts, Decimal(0))
