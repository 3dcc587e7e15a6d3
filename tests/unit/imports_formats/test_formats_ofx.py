"""OFX 1 (SGML) / OFX 2 (XML) / QFX reader: bank, credit-card and investment statements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from finance.imports.formats import ofx
from finance.imports.types import ImportOptions, ImportRejected

DATA = Path(__file__).resolve().parent / "data"
SAMPLE = (
    Path(__file__).resolve().parents[3].parent
    / "shared"
    / "samples"
    / "statements"
    / "38_ofx_us_checking.ofx"
)

SGML_HEADER = (
    b"OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\n"
    b"CHARSET:1252\r\nCOMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
)


def bank(transactions: bytes, curdef: bytes = b"<CURDEF>USD") -> bytes:
    return (
        SGML_HEADER
        + b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>"
        + curdef
        + b"<BANKTRANLIST>"
        + transactions
        + b"</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )


def summary(result):
    return [
        (r.row_number, r.date.isoformat(), r.transaction_type, r.transaction_amount, r.currency)
        for r in result.rows
    ]


def test_sample_header_encoding_and_lines():
    result = ofx.parse(SAMPLE.read_bytes(), ImportOptions())
    assert (result.format, result.encoding, result.currency) == ("ofx", "cp1252", "USD")
    assert result.mapping_source == "format"
    first = result.rows[0]
    assert first.raw["line"] == "43"  # the physical line of its <STMTTRN>
    assert first.raw["DTPOSTED"] == "20240401120000.000[-5:EST]"
    assert first.raw["FITID"] == "2024000130525"


def test_ofx2_xml_statement():
    result = ofx.parse((DATA / "ofx2_checking.ofx").read_bytes(), ImportOptions())
    assert result.format == "ofx"
    assert result.currency == "EUR"
    assert result.total_rows == 7
    assert summary(result) == [
        (1, "2024-06-03", "WITHDRAWAL", Decimal("-42.50"), "EUR"),
        (2, "2024-06-05", "DEPOSIT", Decimal("1850.00"), "EUR"),  # "1850,00": decimal comma
        (3, "2024-06-10", "WITHDRAWAL", Decimal("-15.99"), "USD"),  # <CURRENCY><CURSYM>USD
        (4, "2024-06-12", "TRANSFER_OUT", Decimal("-300.00"), "EUR"),  # to own savings
        (7, "2024-06-30", "FEE", Decimal("-3.10"), "EUR"),  # negative interest = a charge
    ]
    assert result.rows[0].asset_name == "Marks & Spencer"  # &amp; unescaped
    assert result.rows[0].description == "CB 01/06 PARIS"
    assert result.rows[1].asset_name == "SOCIETE GENERALE DES EAUX"  # <PAYEE><NAME>
    assert result.rows[2].description is None  # <MEMO></MEMO>
    bad_date, no_amount = result.errors
    assert (bad_date.row_number, bad_date.error_type, bad_date.field_name, bad_date.value) == (
        5,
        "invalid",
        "DTPOSTED",
        "2024-06-30",
    )
    assert bad_date.suggestion
    assert (no_amount.row_number, no_amount.error_type, no_amount.field_name) == (
        6,
        "missing",
        "TRNAMT",
    )
    # Formula-looking text stays plain text in the raw record.
    assert no_amount.raw["NAME"] == '=HYPERLINK("http://x.example","click")'


def test_credit_card_qfx_from_the_cardholder_side():
    result = ofx.parse((DATA / "cc_statement.qfx").read_bytes(), ImportOptions())
    assert (result.format, result.encoding, result.currency) == ("qfx", "cp1252", "USD")
    assert [(r.transaction_type, r.transaction_amount) for r in result.rows] == [
        ("WITHDRAWAL", Decimal("-64.20")),  # a purchase
        ("DEPOSIT", Decimal("19.99")),  # a refund
        ("TRANSFER_IN", Decimal("1250.00")),  # the bill paid from the holder's own account
        ("FEE", Decimal("-95.00")),
        ("FEE", Decimal("-12.34")),  # interest charged
        ("WITHDRAWAL", Decimal("-8.50")),
    ]
    assert result.rows[5].asset_name == "CAF&Eacute; BRÛLÉ"  # cp1252 bytes decoded
    assert result.rows[5].description is None  # empty SGML <MEMO> before </STMTTRN>


def test_investment_statement():
    result = ofx.parse((DATA / "invest_statement.ofx").read_bytes(), ImportOptions())
    rows = [
        (
            r.row_number,
            r.date.isoformat(),
            r.transaction_type,
            r.transaction_amount,
            r.fee,
            r.volume,
            r.item_price,
            r.asset_symbol,
        )
        for r in result.rows
    ]
    d = Decimal
    assert rows == [
        (1, "2024-06-03", "BUY", d("-1907.45"), d("4.95"), d("10"), d("190.25"), "AAPL"),
        (2, "2024-06-10", "SELL", d("1373.75"), d("1.25"), d("5.5"), d("250.00"), "VTSAX"),
        (3, "2024-06-14", "DIVIDEND", d("2.50"), d(0), None, None, "AAPL"),
        (4, "2024-06-20", "DIVIDEND", d("12.00"), d(0), None, None, "VTSAX"),
        (4, "2024-06-20", "BUY", d("-12.00"), d(0), d("0.048"), d("250.00"), "VTSAX"),
        (5, "2024-06-28", "FEE", d("-7.50"), d(0), None, None, "AAPL"),
        (6, "2024-06-01", "DEPOSIT", d("5000.00"), d(0), None, None, None),
        (7, "2024-06-12", "TRANSFER_IN", d(0), d(0), d("3"), None, "US0378331005"),
    ]
    assert result.rows[0].asset_name == "Apple Inc."
    assert result.rows[0].description == "Buy Apple"
    assert {r.currency for r in result.rows} == {"USD"}
    [error] = result.errors
    assert (error.row_number, error.field_name, error.value) == (8, "UNITPRICE", "abc")
    assert result.total_rows == 8
    assert any("Skipped 1 investment record" in w for w in result.warnings)  # the SPLIT


def test_headerless_lowercase_and_missing_end_tags_are_tolerated():
    body = (
        b"<ofx><bankmsgsrsv1><stmttrnrs><stmtrs><curdef>CAD<banktranlist>"
        b"<stmttrn><trntype>DEBIT<dtposted>20240105<trnamt>-5.00<name>A"
        # lost </stmttrn>: the next <stmttrn> closes the previous record
        b"<stmttrn><trntype>CREDIT<dtposted>20240106<trnamt>7<memo><name>B</stmttrn>"
        b"</banktranlist></stmtrs></stmttrnrs></bankmsgsrsv1></ofx>"
    )
    result = ofx.parse(body, ImportOptions())
    assert summary(result) == [
        (1, "2024-01-05", "WITHDRAWAL", Decimal("-5.00"), "CAD"),
        (2, "2024-01-06", "DEPOSIT", Decimal("7"), "CAD"),
    ]
    # The empty <memo> did not swallow <name>: it moved back to the record.
    assert result.rows[1].asset_name == "B"
    assert result.rows[1].description is None


def test_currency_falls_back_to_the_form_then_the_wallet():
    trn = b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-5.00</STMTTRN>"
    assert ofx.parse(bank(trn, b""), ImportOptions(currency="EUR")).rows[0].currency == "EUR"
    assert ofx.parse(bank(trn, b""), ImportOptions(wallet_currency="GBP")).rows[0].currency == (
        "GBP"
    )
    result = ofx.parse(bank(trn, b""), ImportOptions())
    assert result.rows[0].currency is None
    assert result.currency is None


def test_formula_like_text_is_kept_verbatim():
    trn = (
        b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-5.00"
        b"<NAME>=SUM(A1:A9)<MEMO>@cmd +1 -2</STMTTRN>"
    )
    row = ofx.parse(bank(trn), ImportOptions()).rows[0]
    assert (row.asset_name, row.description) == ("=SUM(A1:A9)", "@cmd +1 -2")


def test_truncated_file_keeps_complete_records_and_flags_the_cut_one():
    data = SAMPLE.read_bytes()
    cut = data[: data.index(b"<TRNAMT>-89.99") + 10]  # inside the 6th record's amount
    result = ofx.parse(cut, ImportOptions())
    assert len(result.rows) == 5
    [error] = result.errors
    assert (error.row_number, error.error_type) == (6, "format")
    assert "truncated" in error.message


def test_utf8_bytes_under_a_cp1252_header_are_read_as_utf8():
    trn = "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-5.00<NAME>Café Zürich</STMTTRN>"
    result = ofx.parse(bank(trn.encode("utf-8")), ImportOptions())
    assert result.rows[0].asset_name == "Café Zürich"
    assert result.encoding == "utf-8"
    assert result.warnings


def test_xml_declaration_and_cdata():
    data = (
        '<?xml version="1.0" encoding="utf8"?><OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS>'
        "<CURDEF>EUR</CURDEF><BANKTRANLIST><STMTTRN><TRNTYPE>DEBIT</TRNTYPE>"
        "<DTPOSTED>20240105</DTPOSTED><TRNAMT>-5.00</TRNAMT>"
        "<NAME><![CDATA[Café & Co <Berlin>]]></NAME><MEMO><!-- none --></MEMO></STMTTRN>"
        "</BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    ).encode()
    result = ofx.parse(data, ImportOptions())
    assert (result.encoding, result.warnings) == ("utf-8", [])
    assert result.rows[0].asset_name == "Café & Co <Berlin>"
    assert result.rows[0].description is None


def test_explicit_encoding_wins():
    trn = "<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-5.00<NAME>Żabka</STMTTRN>"
    result = ofx.parse(bank(trn.encode("cp1250")), ImportOptions(encoding="cp1250"))
    assert result.rows[0].asset_name == "Żabka"
    assert result.encoding == "cp1250"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Date,Amount\n2024-01-01,5\n",
        b"\x00\x01\x02\xff" * 50,
        SGML_HEADER + b"<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</STATUS></SONRS>"
        b"</SIGNONMSGSRSV1></OFX>",
    ],
    ids=["empty", "csv", "binary", "no-statement"],
)
def test_files_without_statements_are_rejected(data):
    with pytest.raises(ImportRejected) as caught:
        ofx.parse(data, ImportOptions())
    assert caught.value.status == 422
    assert caught.value.detail.endswith(".")


def test_an_error_response_is_explained():
    data = SGML_HEADER + (
        b"<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500<SEVERITY>ERROR"
        b"<MESSAGE>Signon invalid</STATUS></SONRS></SIGNONMSGSRSV1></OFX>"
    )
    with pytest.raises(ImportRejected, match="status 15500: Signon invalid"):
        ofx.parse(data, ImportOptions())


def test_dtd_and_entities_are_refused():
    data = (
        b'<?xml version="1.0"?><!DOCTYPE OFX [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<OFX><BANKMSGSRSV1><STMTTRNRS><STMTRS><BANKTRANLIST><STMTTRN><NAME>&x;"
        b"</STMTTRN></BANKTRANLIST></STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>"
    )
    with pytest.raises(ImportRejected, match="DTD") as caught:
        ofx.parse(data, ImportOptions())
    assert caught.value.status == 422


def test_row_cap_is_a_413():
    trn = b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240105<TRNAMT>-5.00</STMTTRN>"
    with pytest.raises(ImportRejected) as caught:
        ofx.parse(bank(trn * 3), ImportOptions(max_rows=2))
    assert caught.value.status == 413


def test_dates_ignore_time_zone():
    trn = b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240131233000.000[-8:PST]<TRNAMT>-5</STMTTRN>"
    assert ofx.parse(bank(trn), ImportOptions()).rows[0].date == dt.date(2024, 1, 31)
