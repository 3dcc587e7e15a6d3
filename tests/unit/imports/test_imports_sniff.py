"""Format and encoding from the bytes alone; anything that is not a statement is refused."""

from __future__ import annotations

import codecs
import io
import os
import zipfile
from decimal import Decimal

import pytest

from finance.imports.pipeline import parse_statement
from finance.imports.sniff import detect_delimiter, detect_encoding, sniff
from finance.imports.types import ImportOptions, ImportRejected

POLISH = (
    "Data operacji;Opis;Kwota;Waluta\n"
    "2024-05-02;Sprzedaż akcji PKN Orlen;1 234,56;PLN\n"
    "2024-05-03;Opłata za prowadzenie rachunku;-12,00;PLN\n"
    "2024-05-04;Wpłata własna — przelew;500,00;PLN\n"
    "2024-05-05;Zakup: Żabka Łódź, ul. Piotrkowska;-23,45;PLN\n"
)
FRENCH = (
    "Date;Libellé;Montant;Devise\n"
    "02/05/2024;Crédit intérêts créditeurs;1,23;EUR\n"
    "03/05/2024;Frais de tenue de compte à débit;-2,50;EUR\n"
    "14/05/2024;Café crème — Gare de l'Est;-3,80;EUR\n"
    "15/05/2024;Dépôt espèces, règlement;100,00;EUR\n"
)
GERMAN = (
    "Datum;Verwendungszweck;Betrag\n"
    "01.05.2024;Überweisung Müller, Gebühr;-1,00\n"
    "02.05.2024;Straße, Größe € 5;2,00\n"
)


def _descriptions(data: bytes) -> list[str]:
    return [
        row.description for row in parse_statement(data, options=ImportOptions(currency="EUR")).rows
    ]


def test_cp1250_polish_is_detected_and_read():
    data = POLISH.encode("cp1250")
    assert detect_encoding(data) == "cp1250"
    result = parse_statement(data)
    assert result.encoding == "cp1250"
    assert result.rows[0].description == "Sprzedaż akcji PKN Orlen"
    assert result.rows[0].transaction_amount == Decimal("1234.56")
    assert result.rows[3].description == "Zakup: Żabka Łódź, ul. Piotrkowska"
    assert {row.currency for row in result.rows} == {"PLN"}


def test_cp1252_french_is_detected_and_read():
    data = FRENCH.encode("cp1252")
    assert detect_encoding(data) == "cp1252"
    assert _descriptions(data)[2] == "Café crème — Gare de l'Est"


def test_cp1252_german_reads_correctly():
    data = GERMAN.encode("cp1252")
    assert detect_encoding(data) == "cp1252"
    assert _descriptions(data) == ["Überweisung Müller, Gebühr", "Straße, Größe € 5"]


@pytest.mark.parametrize(
    ("encoding", "bom", "name"),
    [
        ("utf-8", codecs.BOM_UTF8, "utf-8-sig"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
        ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks(encoding, bom, name):
    data = bom + GERMAN.encode(encoding)
    assert detect_encoding(data) == name
    result = parse_statement(data)
    assert result.encoding == name
    assert result.header[0] == "Datum"  # the BOM is not part of the first header cell
    assert result.rows[1].description == "Straße, Größe € 5"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised_by_its_zero_bytes(encoding):
    data = GERMAN.encode(encoding)
    assert detect_encoding(data) == encoding
    result = parse_statement(data)
    assert result.header[0] == "Datum"
    assert result.rows[0].description == "Überweisung Müller, Gebühr"


def test_latin1_fallback_for_bytes_no_windows_code_page_has():
    # 0x81 and 0x8d are unassigned in cp1252 and cp1250; latin-1 reads every byte.
    data = "Date,Description,Amount\n2024-01-01,A\x81B\x8d,1.00\n".encode("latin-1")
    assert detect_encoding(data) == "latin-1"


def test_encoding_override():
    data = FRENCH.encode("cp1252")
    result = parse_statement(data, options=ImportOptions(encoding="latin-1"))
    assert result.encoding == "iso8859-1"
    with pytest.raises(ImportRejected) as caught:
        parse_statement(data, options=ImportOptions(encoding="no-such-codec"))
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("delimiter", "fmt"), [(",", "csv"), (";", "csv"), ("\t", "tsv"), ("|", "txt")]
)
def test_delimiters(delimiter, fmt):
    rows = [
        ["Date", "Description", "Amount"],
        ["2024-01-02", 'Shop, "big"; a|b\tc', "-1.50"],
        ["2024-01-03", "Other", "2.00"],
    ]
    text = "\n".join(
        delimiter.join(
            '"' + c.replace('"', '""') + '"' if any(ch in c for ch in ',;|\t"') else c for c in row
        )
        for row in rows
    )
    sniffed = sniff(text.encode())
    assert (sniffed.format, sniffed.delimiter) == (fmt, delimiter)
    result = parse_statement(text.encode())
    assert result.rows[0].description == 'Shop, "big"; a|b\tc'


def test_detect_delimiter_ignores_separators_inside_quotes():
    head = 'a;b;c\n"1,5";"x, y, z";"2"\n"3,5";"p, q";"4"\n'
    assert detect_delimiter(head) == ";"


def _minimal_xlsx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"OFXHEADER:100\nDATA:OFXSGML\n<OFX><BANKMSGSRSV1></BANKMSGSRSV1></OFX>", "ofx"),
        (b'<?xml version="1.0"?>\n<OFX><SIGNONMSGSRSV1><SONRS><INTU.BID>1</INTU.BID>', "qfx"),
        (b"!Type:Bank\nD03/04/2024\nT-12.00\n^\n", "qif"),
        (b":20:STARTUMSE\n:25:10020030/1234567\n:28C:00001/001\n:60F:C240301EUR1000,00\n", "mt940"),
        (
            b'<?xml version="1.0"?>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            b"<BkToCstmrStmt/></Document>",
            "camt.053",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "Workbook".encode("utf-16-le"),
            "xls",
        ),
    ],
)
def test_structured_and_binary_formats_are_sniffed_from_bytes(data, fmt):
    assert sniff(data).format == fmt


def test_xlsx_is_recognised_whatever_the_name():
    assert sniff(_minimal_xlsx()).format == "xlsx"


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"", 422, "empty"),
        (b"   \n\n", 422, "empty"),
        (b"\x89PNG\r\n\x1a\n" + os.urandom(64), 415, "PNG image"),
        (b"%PDF-1.7\n", 415, "PDF"),
        (b"\x1f\x8b\x08\x00" + os.urandom(32), 415, "gzip"),
        (b"PK\x03\x04garbage", 422, "damaged ZIP"),
        (b"<!DOCTYPE html><html><table></table></html>", 415, "HTML"),
        (
            b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001"/>',
            415,
            "CAMT.053",
        ),
        (b'{"transactions": []}', 415, "JSON"),
        (b"\x00\x01\x02\x03\xfe\xff" * 200, 415, "binary"),
        (b"just one column\nof words\n", 422, "no columns"),
    ],
)
def test_non_statements_are_refused_with_a_sentence(data, status, words):
    with pytest.raises(ImportRejected) as caught:
        sniff(data)
    assert caught.value.status == status
    assert words in caught.value.detail
    assert caught.value.detail.endswith(".")


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ImportRejected) as caught:
        sniff(buffer.getvalue())
    assert caught.value.status == 415
    assert "ZIP archive" in caught.value.detail
