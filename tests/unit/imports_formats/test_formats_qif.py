"""QIF reader: account sections, Quicken dates, splits, investments, damage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from finance.imports.formats import qif
from finance.imports.types import ImportOptions, ImportRejected

DATA = Path(__file__).resolve().parent / "data"


def parse(text: str, **options) -> object:
    return qif.parse(text.encode("cp1252"), ImportOptions(**options))


def test_several_account_types_in_one_file():
    result = qif.parse((DATA / "qif_multi_account.qif").read_bytes(), ImportOptions(currency="usd"))
    d = Decimal
    got = [
        (
            r.row_number,
            r.date.isoformat(),
            r.transaction_type,
            r.transaction_amount,
            r.fee,
            r.volume,
            r.item_price,
            r.asset_symbol,
            r.raw["section"],
        )
        for r in result.rows
    ]
    assert got == [
        (1, "2024-01-03", "DEPOSIT", d("3100.00"), d(0), None, None, None, "bank"),
        (2, "2024-01-05", "TRANSFER_OUT", d("-250.00"), d(0), None, None, None, "bank"),
        (5, "2024-01-10", "WITHDRAWAL", d("-45.60"), d(0), None, None, None, "ccard"),
        (6, "2024-01-25", "TRANSFER_IN", d("500.00"), d(0), None, None, None, "ccard"),
        (7, "2024-01-31", "FEE", d("-1.50"), d(0), None, None, None, "ccard"),
        (8, "2024-01-12", "WITHDRAWAL", d("-4.20"), d(0), None, None, None, "cash"),
        (9, "2024-01-15", "BUY", d("-1859.95"), d("4.95"), d("10"), d("185.50"), "AAPL", "invst"),
        (10, "2024-01-20", "SELL", d("855.05"), d("4.95"), d("2"), d("430.00"), "VOO", "invst"),
        (11, "2024-01-22", "DIVIDEND", d("2.40"), d(0), None, None, "AAPL", "invst"),
        (12, "2024-01-25", "DIVIDEND", d("12.97"), d(0), None, None, "VOO", "invst"),
        (12, "2024-01-25", "BUY", d("-12.97"), d(0), d("0.0301"), d("431.00"), "VOO", "invst"),
        (13, "2024-01-26", "DEPOSIT", d("1000.00"), d(0), None, None, None, "invst"),
        (14, "2024-01-27", "FEE", d("-15.00"), d(0), None, None, None, "invst"),
        (16, "2024-01-29", "TRANSFER_IN", d(0), d(0), d("5"), d("180.00"), "AAPL", "invst"),
    ]
    assert {r.currency for r in result.rows} == {"USD"}
    assert result.rows[0].asset_name == "ACME Corp"
    assert result.rows[0].description == "Salary January"
    # Formula-looking text stays plain text.
    assert (result.rows[5].asset_name, result.rows[5].description) == (
        "@Coffee stand",
        "+1 extra shot",
    )
    assert [(e.row_number, e.error_type, e.field_name, e.value) for e in result.errors] == [
        (3, "missing", "T", None),
        (4, "invalid", "D", "13/40'24"),
    ]
    assert result.errors[1].raw["P"] == "Bad date"
    assert result.total_rows == 15  # the stock split carries no cash: skipped, with a warning
    assert result.warnings


def test_day_first_is_decided_by_the_whole_file():
    text = "!Type:Bank\nD03/04/2024\nT-1.00\n^\nD25/04/2024\nT-2.00\n^\n"
    assert [r.date.isoformat() for r in parse(text).rows] == ["2024-04-03", "2024-04-25"]
    text = "!Type:Bank\nD03/04/2024\nT-1.00\n^\nD04/25/2024\nT-2.00\n^\n"
    assert [r.date.isoformat() for r in parse(text).rows] == ["2024-03-04", "2024-04-25"]


def test_other_date_styles_and_an_explicit_format():
    text = "!Type:Cash\nD05.04.2024\nT-1.00\n^\nD2024-04-06\nT-2.00\n^\nD12/31' 3\nT-3.00\n^\n"
    dates = [r.date.isoformat() for r in parse(text).rows]
    assert dates == ["2024-04-05", "2024-04-06", "2003-12-31"]
    text = "!Type:Bank\nD2024|04|05\nT1\n^\n"
    assert parse(text, date_format="%Y|%m|%d").rows[0].date.isoformat() == "2024-04-05"


def test_comma_decimal_file_and_missing_header():
    text = "D05.04.2024\nT-1.234,56\nPREWE\n^\nD06.04.2024\nT12,5\n^\n"
    result = parse(text)
    assert [r.transaction_amount for r in result.rows] == [Decimal("-1234.56"), Decimal("12.5")]
    assert parse("D1/2/24\nT-1,234\n^\n", decimal_mark=".").rows[0].transaction_amount == -1234


def test_split_without_total_sums_its_parts():
    text = "!Type:Bank\nD1/ 2'24\nPShop\nSFood\n$-10.00\nSHome\n$-5.50\n^\n"
    [row] = parse(text).rows
    assert (row.transaction_amount, row.transaction_type) == (Decimal("-15.50"), "WITHDRAWAL")
    assert row.raw["S"] == "Food | Home"


def test_truncated_file_flags_the_unterminated_record():
    data = (DATA / "qif_multi_account.qif").read_bytes()
    cut = data[: data.index(b"T1,859.95") + 4]  # inside the buy's total
    result = qif.parse(cut, ImportOptions())
    [*_, last] = result.errors
    assert (last.row_number, last.error_type, last.field_name) == (9, "format", "^")
    assert "truncated" in last.message
    assert len(result.rows) == 6


@pytest.mark.parametrize(
    "data",
    [b"", b"just words\nand more\n", b"!Type:Cat\nNFood\n^\n", b"\x00\xff" * 64],
    ids=["empty", "text", "only-categories", "binary"],
)
def test_files_without_transactions_are_rejected(data):
    with pytest.raises(ImportRejected) as caught:
        qif.parse(data, ImportOptions())
    assert caught.value.status == 422


def test_utf8_and_cp1252_payees():
    text = "!Type:Bank\nD1/2/24\nT-1\nPCafé Müller\n^\n"
    assert qif.parse(text.encode("utf-8"), ImportOptions()).encoding == "utf-8"
    result = qif.parse(text.encode("cp1252"), ImportOptions())
    assert (result.encoding, result.rows[0].asset_name) == ("cp1252", "Café Müller")


def test_row_cap_is_a_413():
    with pytest.raises(ImportRejected) as caught:
        parse("!Type:Bank\n" + "D1/2/24\nT-1\n^\n" * 3, max_rows=2)
    assert caught.value.status == 413
