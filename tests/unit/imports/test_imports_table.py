"""Finding the table under a preamble and stopping above totals or a second section."""

from __future__ import annotations

import pytest

from finance.imports.pipeline import parse_statement
from finance.imports.readers import text_rows
from finance.imports.table import (
    find_table,
    header_labels,
    is_end_of_table,
    preamble_currency,
)

PREAMBLE_AND_TOTALS = """\
Kontoauszug;;;
Kontoinhaber;Erika Mustermann;;
IBAN;DE02120300001020304055;;
Zeitraum;01.03.2024 - 31.03.2024;;
Anfangssaldo;1.000,00 EUR;;
;;;
Buchungstag;Verwendungszweck;Betrag;Saldo
01.03.2024;Miete;-500,00;500,00
02.03.2024;Gehalt;2.000,00;2.500,00
03.03.2024;REWE;-12,34;2.487,66
Summe;;1.487,66;
;;;
Umsatzübersicht nach Kategorie;;;
Kategorie;Betrag;;
Wohnen;-500,00;;
"""


def _table(text: str, **kwargs):
    return find_table(text_rows(text.encode(), "utf-8", ";"), **kwargs)


def test_header_is_found_below_the_preamble():
    table = _table(PREAMBLE_AND_TOTALS)
    assert table is not None
    assert table.header_row == 7
    assert table.header == ["Buchungstag", "Verwendungszweck", "Betrag", "Saldo"]
    assert table.currency == "EUR"  # from the opening balance cell
    assert [number for number, _ in table.sample] == [8, 9, 10]  # the totals line is not data


def test_reading_stops_at_the_totals_line():
    result = parse_statement(PREAMBLE_AND_TOTALS.encode())
    assert [row.description for row in result.rows] == ["Miete", "Gehalt", "REWE"]
    assert result.errors == []
    assert result.currency == "EUR"
    assert any("stopped at row 11" in w for w in result.warnings)


def test_a_blank_line_inside_the_rows_does_not_end_the_table():
    text = "Date,Description,Amount\n2024-01-01,A,1.00\n\n2024-01-02,B,2.00\n"
    result = parse_statement(text.encode(), options=None)
    assert [row.description for row in result.rows] == ["A", "B"]
    assert result.warnings == [
        "The file does not state its currency; send the 'currency' "
        "field so the transactions get one."
    ]


def test_a_second_section_after_a_blank_line_ends_the_table():
    text = (
        "Date,Description,Amount\n2024-01-01,A,1.00\n\n"
        "Pending transactions\nDate,Description,Amount\n2024-01-05,C,3.00\n"
    )
    result = parse_statement(text.encode())
    assert [row.description for row in result.rows] == ["A"]


def test_an_explicit_header_row_skips_the_search():
    table = _table(PREAMBLE_AND_TOTALS, header_row=7)
    assert table.header[0] == "Buchungstag"
    assert _table(PREAMBLE_AND_TOTALS, header_row=99) is None


def test_no_table_at_all():
    assert _table("just;some;words\nand;more;words\n") is None


def test_header_labels_are_unique_and_never_blank():
    assert header_labels(["Date", "", "Amount", "amount", None]) == [
        "Date",
        "Column 2",
        "Amount",
        "amount (2)",
        "Column 5",
    ]


@pytest.mark.parametrize(
    ("cells", "ends"),
    [
        (["Total", "", "", -506.88], True),
        (["", "Summe", "1.487,66"], True),
        (["Closing balance", "4.318,06"], True),
        (["Pending transactions", "", ""], True),
        (["Date", "Description", "Amount"], True),
        (["n/a", "Coffee", "-3.50"], False),  # a transaction with a bad date is an error row
        (["", "", ""], False),
    ],
)
def test_is_end_of_table(cells, ends):
    assert is_end_of_table(cells) is ends


def test_preamble_currency_prefers_an_explicit_key():
    rows = [["Name and surname", "Jan Kowalski"], ["Currency", "EUR"], ["Balance", "12,00 zł"]]
    assert preamble_currency(rows) == "EUR"
    assert preamble_currency([["Waluta: PLN"]]) == "PLN"
    assert preamble_currency([["Account", "51234567"]]) is None
