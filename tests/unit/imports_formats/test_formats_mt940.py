"""MT940 reader: messages, booking vs value date, year roll-over, :86: layouts, damage."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from finance.imports.formats import mt940
from finance.imports.types import ImportOptions, ImportRejected

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "samples"
    / "statements"
    / "45_mt940_de_sparkasse.sta"
)


def message(*lines: str, opening: str = ":60F:C240101EUR100,00") -> bytes:
    return "\r\n".join([":20:REF", ":25:ACC", ":28C:1/1", opening, *lines, "-"]).encode()


def test_two_statements_with_year_roll_over():
    result = mt940.parse((DATA / "mt940_two_statements_rollover.sta").read_bytes(), ImportOptions())
    assert (result.format, result.encoding, result.currency) == ("mt940", "cp1252", "EUR")
    assert result.total_rows == 8
    assert result.warnings == []  # both statements balance
    got = [
        (r.row_number, r.date.isoformat(), r.transaction_type, r.transaction_amount)
        for r in result.rows
    ]
    assert got == [
        (1, "2023-12-28", "WITHDRAWAL", Decimal("-25.00")),
        (2, "2023-12-29", "DEPOSIT", Decimal("1500")),  # "1500," = 1500.00
        (3, "2024-01-02", "FEE", Decimal("-12.50")),  # value 2023-12-31, booked 01-02
        (4, "2023-12-31", "WITHDRAWAL", Decimal("-100.00")),  # RC: reversal of a credit
        (5, "2024-01-02", "TRANSFER_IN", Decimal("250.00")),  # from the holder's savings
        (7, "2024-01-04", "DEPOSIT", Decimal("5.00")),  # RD: reversal of a debit
        (8, "2023-12-31", "WITHDRAWAL", Decimal("-10.00")),  # value 2024-01-02, booked 12-31
    ]
    tagged, unstructured = result.rows[0], result.rows[1]
    assert (tagged.asset_name, tagged.description) == ("J. Janssen", "Cadeau kerst")
    assert unstructured.description == "Salaris december 2023 Müller BV"
    assert result.rows[4].asset_name == "Own savings"
    assert result.rows[4].raw[":25:"] == "NL91ABNA0417164300"
    [error] = result.errors
    assert (error.row_number, error.error_type, error.field_name) == (6, "format", ":61:")
    assert error.raw[":86:"] == "broken"
    assert error.raw["line"] == "22"
    assert error.suggestion


def test_sample_raw_record_and_booking_date():
    result = mt940.parse(SAMPLE.read_bytes(), ImportOptions())
    aldi = result.rows[3]
    assert aldi.raw[":61:"] == "2405040506DR41,37NMSCNONREF"
    assert aldi.date.isoformat() == "2024-05-06"  # booking date, not the value date 05-04
    assert aldi.raw["line"] == "17"


def test_balance_mismatch_is_reported():
    data = message(":61:2401020102D10,00NMSCNONREF", ":62F:C240102EUR95,00")
    result = mt940.parse(data, ImportOptions())
    assert len(result.rows) == 1
    assert any("does not equal the closing balance 95.00" in w for w in result.warnings)


def test_currency_from_intermediate_balance_then_options():
    data = message(
        ":61:2401020102C10,00NMSCNONREF",
        ":62M:C240102CHF110,00",
        opening=":60M:C240101CHF100,00",
    )
    assert mt940.parse(data, ImportOptions()).rows[0].currency == "CHF"
    headless = b":61:2401020102C10,00NMSCNONREF\r\n:86:Hi\r\n-\r\n"
    result = mt940.parse(headless, ImportOptions(currency="PLN"))
    assert result.rows[0].currency == "PLN"
    assert result.currency is None


def test_unstructured_86_rejoins_wrapped_lines():
    text = "Payment reference 2024-000123 invoice number 778899 for consulting services rendered"
    assert text[64:66].isalpha()  # a full 65-character line cut mid-word
    data = message(
        ":61:2401020102D10,00NMSCNONREF",
        ":86:" + text[:65],
        text[65:],  # a shorter line ended where the writer broke it: a space follows
        "in January",
        ":62F:C240102EUR90,00",
    )
    row = mt940.parse(data, ImportOptions()).rows[0]
    assert row.description == text + " in January"
    assert row.asset_name is None


def test_structured_86_with_other_separator_and_no_name():
    data = message(
        ":61:2401020102D3,50NMSCNONREF",
        ":86:805@00KONTOFUEHRUNG@20Entgelt Januar",
        ":62F:C240102EUR96,50",
    )
    row = mt940.parse(data, ImportOptions()).rows[0]
    # NMSC says nothing, the booking text names a charge.
    assert (row.transaction_type, row.asset_name, row.description) == (
        "FEE",
        "KONTOFUEHRUNG",
        "Entgelt Januar",
    )


def test_free_text_starting_with_digits_is_not_taken_for_subfields():
    data = message(
        ":61:2401020102D1,00NMSCNONREF",
        ":86:123-456 Invoice 2024/77",
        ":62F:C240102EUR99,00",
    )
    assert mt940.parse(data, ImportOptions()).rows[0].description == "123-456 Invoice 2024/77"


def test_formula_like_text_is_kept_verbatim():
    data = message(
        ":61:2401020102D1,00NMSCNONREF",
        ":86:166?00+GUTSCHRIFT?20=HYPERLINK(x) -1?32@home",
        ":62F:C240102EUR99,00",
    )
    row = mt940.parse(data, ImportOptions()).rows[0]
    assert (row.asset_name, row.description) == ("@home", "=HYPERLINK(x) -1")


def test_unreadable_balance_is_a_warning():
    data = message(":61:2401020102D1,00NMSCNONREF", ":62F:C240102EUR9,9,9")
    result = mt940.parse(data, ImportOptions())
    assert len(result.rows) == 1
    assert any("balance amount '9,9,9'" in w for w in result.warnings)


def test_truncated_file_flags_the_last_record():
    data = SAMPLE.read_bytes()
    cut = data[: data.index(b":61:2405310531CR0,42") + 16]  # inside the last amount
    result = mt940.parse(cut, ImportOptions())
    assert len(result.rows) == 9
    [error] = result.errors
    assert (error.row_number, error.error_type) == (10, "format")
    assert "cut off" in error.message


def test_invalid_dates_and_amounts_are_row_errors():
    data = message(
        ":61:2402300230D1,00NMSCNONREF",
        ":61:2401020102D1,0,0,NMSCNONREF",
        ":61:2401021399D1,00NMSCNONREF",
        ":62F:C240102EUR100,00",
    )
    result = mt940.parse(data, ImportOptions())
    assert result.rows == []
    assert [(e.row_number, e.error_type, e.field_name) for e in result.errors] == [
        (1, "invalid", "date"),
        (2, "invalid", "amount"),
        (3, "invalid", "date"),
    ]


@pytest.mark.parametrize(
    "data",
    [b"", b"hello world\nthis is not a statement\n", b"\x00\xff" * 100],
    ids=["empty", "text", "binary"],
)
def test_non_mt940_is_rejected(data):
    with pytest.raises(ImportRejected) as caught:
        mt940.parse(data, ImportOptions())
    assert caught.value.status == 422


def test_row_cap_is_a_413():
    data = message(*[":61:2401020102D1,00NMSCNONREF"] * 3)
    with pytest.raises(ImportRejected) as caught:
        mt940.parse(data, ImportOptions(max_rows=2))
    assert caught.value.status == 413
