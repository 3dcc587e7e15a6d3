"""Column mapping from header words in nine languages, confirmed by the cell values."""

from __future__ import annotations

import pytest

from finance.imports.mapping import (
    FIELDS,
    header_currency,
    header_signature,
    header_words,
    heuristic_mapping,
)

ROWS_BANK = [
    ["31.03.2024", "Lidl", "-12,30", "EUR"],
    ["30.03.2024", "Employer GmbH", "2.500,00", "EUR"],
    ["29.03.2024", "Vattenfall", "-78,00", "EUR"],
]


@pytest.mark.parametrize(
    "header",
    [
        ["Date", "Description", "Amount", "Currency"],  # EN
        ["Buchungstag", "Verwendungszweck", "Betrag", "Währung"],  # DE
        ["Date d'opération", "Libellé", "Montant", "Devise"],  # FR
        ["Fecha operación", "Concepto", "Importe", "Divisa"],  # ES
        ["Data contabile", "Descrizione", "Importo", "Divisa"],  # IT
        ["Boekdatum", "Omschrijving", "Bedrag", "Valuta"],  # NL
        ["Data księgowania", "Tytuł", "Kwota", "Waluta"],  # PL
        ["Data movimento", "Descrição", "Montante", "Moeda"],  # PT
        ["Bokföringsdag", "Beskrivning", "Belopp", "Valuta"],  # SV
    ],
)
def test_bank_headers_in_every_language(header):
    result = heuristic_mapping(header, ROWS_BANK)
    assert result.mapping == dict(
        zip(header, ["date", "description", "transaction_amount", "currency"], strict=True)
    )
    assert result.confidence > 0.8
    assert set(result.per_column) == set(header)


def test_broker_headers_with_fees_and_unnamed_columns():
    header = [
        "Date",
        "Product",
        "ISIN",
        "Quantity",
        "Price",
        "Column 6",
        "Value EUR",
        "AutoFX Fee",
        "Transaction and/or third party fees EUR",
        "Total EUR",
    ]
    rows = [
        [
            "21-05-2024",
            "APPLE INC.",
            "US0378331005",
            "-1",
            "191.04",
            "USD",
            "176.01",
            "-0.44",
            "-2.00",
            "173.57",
        ]
    ] * 3
    mapping = heuristic_mapping(header, rows).mapping
    assert mapping == {
        "Date": "date",
        "Product": "asset_name",
        "ISIN": "asset_symbol",
        "Quantity": "volume",
        "Price": "item_price",
        "AutoFX Fee": "fee",
        "Transaction and/or third party fees EUR": "fee",
        "Total EUR": "transaction_amount",
    }


def test_booking_date_beats_start_and_value_dates():
    header = ["Started Date", "Completed Date", "Wertstellung", "Amount"]
    rows = [["2024-07-02 18:03", "2024-07-03 07:41", "03.07.2024", "-23.87"]] * 3
    mapping = heuristic_mapping(header, rows).mapping
    assert mapping["Completed Date"] == "date"
    assert list(mapping.values()).count("date") == 1
    assert "value_date" in (mapping.get("Started Date"), mapping.get("Wertstellung"))


def test_local_amount_and_balance_are_not_the_amount():
    header = ["Date", "Local amount", "Amount", "Balance", "Local currency", "Currency"]
    rows = [["01/04/2024", "-29.50", "-25.31", "100.00", "EUR", "GBP"]] * 3
    mapping = heuristic_mapping(header, rows).mapping
    assert mapping["Amount"] == "transaction_amount"
    assert mapping["Balance"] == "balance"
    assert mapping["Currency"] == "currency"
    assert "Local amount" not in mapping
    assert "Local currency" not in mapping


def test_debit_credit_pair_and_indicator_columns():
    header = ["Datum", "Af Bij", "Bedrag (EUR)", "Soll", "Haben"]
    rows = [["20240531", "Af", "3,95", "", "1,00"], ["20240530", "Bij", "10,00", "2,00", ""]]
    mapping = heuristic_mapping(header, rows).mapping
    assert mapping["Af Bij"] == "dc_indicator"
    assert mapping["Soll"] == "debit"
    assert mapping["Haben"] == "credit"


def test_an_unknown_header_holding_debit_credit_marks_is_an_indicator():
    rows = [["2024-01-02", "D", "10.00"], ["2024-01-03", "C", "5.00"]]
    mapping = heuristic_mapping(["Date", "X", "Amount"], rows).mapping
    assert mapping["X"] == "dc_indicator"


def test_values_veto_a_header_that_does_not_fit():
    # "Valuta" is a currency in Italian and Dutch but a value date in German.
    as_date = heuristic_mapping(["Datum", "Valuta", "Betrag"], [["01.02.2024", "02.02.2024", "1"]])
    as_code = heuristic_mapping(["Data", "Valuta", "Importo"], [["01.02.2024", "EUR", "1"]])
    assert as_date.mapping["Valuta"] == "value_date"
    assert as_code.mapping["Valuta"] == "currency"


def test_a_constant_text_column_is_not_the_security():
    header = ["Type", "Product", "Date", "Amount"]
    rows = [["CARD_PAYMENT", "Current", "2024-07-02", "-1"]] * 6
    assert "Product" not in heuristic_mapping(header, rows).mapping


def test_no_date_or_amount_means_no_confidence():
    result = heuristic_mapping(["Name", "Notes"], [["a", "b"]])
    assert result.confidence == 0.0


def test_header_words_and_currency():
    assert header_words("Zahlungsempfänger*in") == ("zahlungsempfanger", "in")
    assert header_words("Betrag (€)") == ("betrag",)
    assert header_currency("Betrag (€)") == "EUR"
    assert header_currency("Total EUR") == "EUR"
    assert header_currency("Bedrag (EUR)") == "EUR"
    assert header_currency("Amount") is None


def test_header_signature_is_stable_and_discriminating():
    a = header_signature(["Date", "Betrag (€)"], "csv", ";")
    assert a == header_signature([" date ", "Betrag (EUR)"], "csv", ";")
    assert len(a) == 64
    assert a != header_signature(["Date", "Betrag (€)"], "csv", ",")
    assert a != header_signature(["Date", "Betrag (€)"], "xlsx", None)
    assert a != header_signature(["Betrag (€)", "Date"], "csv", ";")


def test_every_mapped_field_is_a_known_field():
    header = ["Date", "Type", "Symbol", "Comment", "Amount", "Fee", "Balance", "Notes"]
    rows = [["2024-01-01", "BUY", "SAP.DE", "OPEN BUY 4 @ 175.5", "-702", "1", "5", "x"]]
    assert set(heuristic_mapping(header, rows).mapping.values()) <= set(FIELDS)
