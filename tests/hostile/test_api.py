"""A representative part of the hostile corpus uploaded through ``POST /api/transactions/upload``.

Refused files answer their 4xx with the error contract and store nothing (no transaction,
no error row, no import record); partial files store exactly the good rows and one error
row per bad row, with field, value and suggestion. Formula-looking text is stored as the
text itself and comes back escaped in the CSV export.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from bson import ObjectId

from finance.imports.models import Import
from finance.transactions.models import Transaction, TransactionError
from finance.wallets.models import Wallet
from tests.hostile.conftest import bounded
from tests.hostile.corpus import CASES, HEADER, Partial, Reject, case_named, sentence

API_CASES = [case for case in CASES if case.api]


def make_wallet(user) -> str:
    wallet = Wallet(owner=ObjectId(user.id), name="Hostile", base_currency="EUR")
    wallet.save()
    return str(wallet.id)


BOUNDARY = "hostile-corpus-boundary-7f3a9c"


def multipart(wallet_id: str, content: bytes, name: str) -> bytes:
    """The request body, built here: werkzeug's test client spools a large form to a
    temporary file it never closes (a ResourceWarning, an error under -W error)."""
    return b"".join(
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="wallet_id"\r\n\r\n'
            f'{wallet_id}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode(),
            content,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        )
    )


def upload(user, wallet_id: str, content: bytes, name: str, path="/api/transactions/upload"):
    return user.post(
        path,
        data=multipart(wallet_id, content, name),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def counts() -> tuple[int, int, int]:
    return Transaction.objects.count(), TransactionError.objects.count(), Import.objects.count()


def test_the_api_subset_covers_every_kind_of_attack():
    assert len(API_CASES) >= 15
    kinds = {name.rsplit(".", 1)[1] for name in (c.name for c in API_CASES)}
    assert {"csv", "xlsx", "xls", "xml", "ofx"} <= kinds


@pytest.mark.parametrize("case", API_CASES, ids=lambda c: c.id)
def test_hostile_upload(alice, corpus_dir, case):
    wallet_id = make_wallet(alice)
    with bounded():
        response = upload(alice, wallet_id, (corpus_dir / case.name).read_bytes(), case.name)
    body = response.json
    expect = case.expect
    if isinstance(expect, Reject):
        assert response.status_code == expect.status, body
        assert set(body) >= {"detail"} and sentence(body["detail"]), body
        assert counts() == (0, 0, 0)
        return
    assert isinstance(expect, Partial)
    assert response.status_code == 200, body
    data = body["data"]
    failed = [(f["row_number"], f["field_name"], f["value"]) for f in data["failed_transactions"]]
    want = [(b.row, b.field, None if b.value is None else b.value[:500]) for b in expect.errors]
    n_failed = len(want) if expect.failed is None else expect.failed
    assert (data["imported"], data["failed"]) == (expect.imported, n_failed)
    assert failed[: len(want)] == want and len(failed) == n_failed
    for item in data["failed_transactions"]:
        assert item["suggestion"] and sentence(item["error_message"]), item
    assert counts() == (expect.imported, n_failed, 1)
    record = Import.objects.get()
    assert (record.status, record.imported, record.failed) == (
        "completed",
        expect.imported,
        n_failed,
    )
    stored = {t.description for t in Transaction.objects}
    for text in expect.descriptions:
        assert text in stored
    for error in TransactionError.objects:  # what an edit of an error row would validate
        error.validate()


def test_header_labels_are_stored_as_keys_mongodb_accepts(alice, corpus_dir):
    """A label starting with '$' (refused as a key by MongoDB/MongoEngine: a 500 before)
    is stored with U+FF04 in its place; a NUL inside a label (not allowed in a BSON key) is
    dropped."""
    wallet_id = make_wallet(alice)
    data = upload(
        alice, wallet_id, (corpus_dir / "dangerous-header.csv").read_bytes(), "dangerous-header.csv"
    ).json["data"]
    assert data["header"] == ["Trans. Date", "\uff04where", "a.b.c", "\uff04Amount", "Currency"]
    assert data["mapping"] == {
        "Trans. Date": "date",
        "\uff04Amount": "transaction_amount",
        "Currency": "currency",
    }
    assert Import.objects.get().mapping == data["mapping"]
    [error] = TransactionError.objects
    assert error.raw == {
        "Trans. Date": "2024-01-03",
        "\uff04where": "x",
        "a.b.c": "y",
        "\uff04Amount": "oops",
        "Currency": "EUR",
    }

    upload(alice, wallet_id, (corpus_dir / "nul-in-late-header.csv").read_bytes(), "n.csv")
    error = TransactionError.objects(row_number=73).get()
    assert list(error.raw) == ["Date", "Description", "Amount", "Currency"]


def test_a_file_over_the_configured_cap_is_413_saying_the_cap(alice):
    """Just over MAX_UPLOAD_BYTES (4,000,000): the pipeline's own sentence names the cap."""
    wallet_id = make_wallet(alice)
    line = b"2024-01-02,Salary,2500.00,EUR\n"
    content = (HEADER + "\n").encode() + line * (4_000_001 // len(line) + 1)
    response = upload(alice, wallet_id, content, "big.csv")
    assert response.status_code == 413
    assert response.json["detail"] == "The file is 3.8 MB, over the 3.8 MB upload limit."
    assert counts() == (0, 0, 0)


def test_a_50_mb_upload_is_413_before_it_is_read(alice, big_csv):
    """Far over the cap, the request body itself is refused (MAX_CONTENT_LENGTH)."""
    wallet_id = make_wallet(alice)
    content = big_csv.read_bytes()
    with bounded():
        response = upload(alice, wallet_id, content, big_csv.name)
    assert response.status_code == 413
    assert sentence(response.json["detail"])
    assert counts() == (0, 0, 0)


def test_formula_text_is_stored_as_text_and_escaped_in_the_csv_export(alice, corpus_dir):
    case = case_named("formula-text.csv")
    wallet_id = make_wallet(alice)
    upload(alice, wallet_id, (corpus_dir / case.name).read_bytes(), case.name)
    exported = alice.get(f"/api/transactions/export?wallet_id={wallet_id}")
    rows = list(csv.DictReader(io.StringIO(exported.data.decode("utf-8-sig"))))
    by_text = {row["Description"]: row for row in rows}
    assert set(by_text) == {"'" + text for text in case.expect.descriptions}
    assert {row["Net Amount"] for row in rows} == {"-1.00"}
    stored = sorted(t.description for t in Transaction.objects)
    assert stored == sorted(case.expect.descriptions)


def test_formula_text_is_a_plain_string_cell_in_the_xlsx_export(alice, corpus_dir):
    from openpyxl import load_workbook

    case = case_named("formula-text.csv")
    wallet_id = make_wallet(alice)
    upload(alice, wallet_id, (corpus_dir / case.name).read_bytes(), case.name)
    exported = alice.get(f"/api/transactions/export?wallet_id={wallet_id}&format=xlsx")
    sheet = load_workbook(io.BytesIO(exported.data)).active
    cells = [row[10] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted(case.expect.descriptions)
    assert {c.data_type for c in cells} == {"s"}


def test_long_text_is_stored_within_the_model_limits(alice, corpus_dir):
    """A 1 MB cell in a workbook: the description is stored clipped, never over the limit
    the transaction model enforces on edits (2000 characters)."""
    wallet_id = make_wallet(alice)
    response = upload(
        alice, wallet_id, (corpus_dir / "long-cell-1mb.xlsx").read_bytes(), "long-cell-1mb.xlsx"
    )
    assert response.status_code == 200, response.json
    longest = max(len(t.description or "") for t in Transaction.objects)
    assert longest == 2000
    for transaction in Transaction.objects:
        transaction.validate()  # what an edit of the row would run


def test_amounts_that_decimal128_cannot_hold_never_reach_storage(alice, corpus_dir):
    wallet_id = make_wallet(alice)
    response = upload(
        alice,
        wallet_id,
        (corpus_dir / "xlsx-huge-numbers.xlsx").read_bytes(),
        "xlsx-huge-numbers.xlsx",
    )
    assert response.status_code == 200, response.json
    amounts = sorted(t.transaction_amount for t in Transaction.objects)
    assert amounts == [Decimal(-5), Decimal(-5), Decimal(2500)]


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("junk.xlsx", 415),
        ("camt-xxe-file.xml", 422),
        ("ofx-deep-nesting.ofx", 422),
        ("bomb-ratio.xlsx", 422),
        ("lookalike-digits.csv", 200),
    ],
)
def test_detect_currency_reads_hostile_files_as_safely(alice, corpus_dir, name, status):
    """The client's first call runs the same pipeline: the same refusals, nothing stored."""
    wallet_id = make_wallet(alice)
    content = (corpus_dir / name).read_bytes()
    with bounded():
        response = upload(alice, wallet_id, content, name, "/api/transactions/detect-currency")
    assert response.status_code == status, response.json
    if status == 200:
        assert response.json == {
            "needs_currency": False,
            "detected_currency": "EUR",
            "wallet_currency": "EUR",
        }
    else:
        assert sentence(response.json["detail"])
    assert counts() == (0, 0, 0)
