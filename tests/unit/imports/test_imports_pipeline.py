"""parse_statement end to end: overrides, limits, hostile input, types, signs and currencies."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from finance.imports.mapping import MappingResult
from finance.imports.pipeline import detect_currency, parse_statement
from finance.imports.readers import SpreadsheetLimits
from finance.imports.types import CanonicalRow, ImportOptions, ImportRejected, RowError


def _csv(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _rejected(data: bytes, **kwargs) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        parse_statement(data, **kwargs)
    return caught.value


def _xlsx(sheets: dict[str, list[list]]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- quoting and row numbers -------------------------------------------------------------------


def test_quoted_fields_with_embedded_newlines_keep_physical_line_numbers():
    data = _csv(
        "Date,Description,Amount",
        '2024-01-02,"Line one',
        'line two, with a comma",-1.50',
        "2024-01-03,Plain,2.00",
    )
    result = parse_statement(data, options=ImportOptions(currency="EUR"))
    assert [row.row_number for row in result.rows] == [2, 4]
    assert result.rows[0].description == "Line one\nline two, with a comma"
    assert result.rows[0].transaction_amount == Decimal("-1.50")


# --- spreadsheets --------------------------------------------------------------------------------


def test_xlsx_first_sheet_with_a_table_wins_and_cells_are_typed():
    data = _xlsx(
        {
            "Summary": [["Report"], ["Date", "Amount"]],  # a header but no rows
            "Movements": [
                ["Account", "123"],
                ["Currency", "CHF"],
                [],
                ["Booking date", "Text", "Amount"],
                [dt.datetime(2024, 2, 1, 9, 30), "Coffee", -4.2],
                [dt.datetime(2024, 2, 2), "Salary", 5000],
                ["Total", None, 4995.8],
            ],
        }
    )
    result = parse_statement(data, "movements.xls")
    assert (result.format, result.sheet, result.header_row) == ("xlsx", "Movements", 4)
    assert [(r.date, r.transaction_amount, r.currency) for r in result.rows] == [
        (dt.date(2024, 2, 1), Decimal("-4.2"), "CHF"),
        (dt.date(2024, 2, 2), Decimal("5000"), "CHF"),
    ]
    assert result.rows[0].raw is None  # a good row keeps no copy of its cells: only errors do
    assert any("named '.xls' but its content is XLSX" in w for w in result.warnings)


def test_sheet_rows_keep_their_numbers_when_the_sheet_starts_lower_down():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row, values in ((3, ("Date", "Amount")), (4, ("2024-01-01", 1)), (6, ("2024-01-03", 3))):
        for column, value in zip("CD", values, strict=True):
            sheet[f"{column}{row}"] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = parse_statement(buffer.getvalue())
    assert result.header_row == 3
    assert [row.row_number for row in result.rows] == [4, 6]
    forced = parse_statement(buffer.getvalue(), options=ImportOptions(header_row=3))
    assert forced.header == ["Date", "Amount"]


def test_sheet_override_by_name_or_position():
    data = _xlsx(
        {
            "A": [["Date", "Amount"], ["2024-01-01", 1]],
            "B": [["Date", "Amount"], ["2024-02-01", 2]],
        }
    )
    assert parse_statement(data, options=ImportOptions(sheet="b")).rows[0].transaction_amount == 2
    assert parse_statement(data, options=ImportOptions(sheet="2")).sheet == "B"
    error = _rejected(data, options=ImportOptions(sheet="C"))
    assert error.status == 422
    assert "its sheets are: A, B" in error.detail


def test_header_only_workbook_is_refused():
    error = _rejected(_xlsx({"S": [["Date", "Description", "Amount"]]}))
    assert error.status == 422
    assert "header row (row 1 of sheet 'S') but no transaction rows" in error.detail


def _zip_bomb(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * size)
    return buffer.getvalue()


def test_zip_bomb_xlsx_is_refused_by_its_compression_ratio():
    bomb = _zip_bomb(16 * 1024 * 1024)
    assert len(bomb) < 100_000
    error = _rejected(bomb, filename="statement.xlsx")
    assert error.status == 422
    assert "zip bomb" in error.detail


def test_zip_bomb_xlsx_is_refused_by_its_unpacked_size():
    limits = SpreadsheetLimits(max_uncompressed=2 * 1024 * 1024, max_ratio=10_000)
    error = _rejected(_zip_bomb(3 * 1024 * 1024), spreadsheet_limits=limits)
    assert error.status == 413
    assert "over the 2 MB limit" in error.detail


def test_xlsx_whose_directory_lies_about_sizes_is_refused():
    data = bytearray(_xlsx({"S": [["Date", "Amount"], ["2024-01-01", 1]]}))
    # Central-directory entries: signature PK\x01\x02, size at +24, name length at +28,
    # name at +46. Declare the sheet 10 bytes long; it really inflates to more.
    entry = data.find(b"PK\x01\x02")
    while not data[entry + 46 :].startswith(b"xl/worksheets/sheet1.xml"):
        entry = data.find(b"PK\x01\x02", entry + 4)
    data[entry + 24 : entry + 28] = (10).to_bytes(4, "little")
    error = _rejected(bytes(data))
    assert error.status == 422
    assert "could not be read" in error.detail


def _rewrite(workbook: bytes, part: str, change) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(workbook))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            body = source.read(name)
            archive.writestr(name, change(body.decode()).encode() if name == part else body)
    return buffer.getvalue()


def test_a_cell_at_the_far_corner_cannot_take_the_process_down():
    # calamine allocates the dense range A1:XFD1048576 (about 550 GB) and the
    # failed allocation aborts its process: the reader's child, not this one.
    good = _xlsx({"S": [["Date", "Amount"], ["2024-01-01", 1]]})
    corner = _rewrite(
        good, "xl/worksheets/sheet1.xml", lambda xml: xml.replace('r="B2"', 'r="XFD1048576"')
    )
    error = _rejected(corner)
    assert (error.status, "could not be read" in error.detail) == (422, True)


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def _shared_strings_xlsx(unique_count: int) -> bytes:
    """A minimal workbook whose one text cell points into sharedStrings.xml."""
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            "</Types>"
        ),
        "_rels/.rels": f'<Relationships xmlns="{_RELS}"><Relationship Id="r1" '
        f'Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC}"><sheets>'
        '<sheet name="S" sheetId="1" r:id="r1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_RELS}"><Relationship Id="r1" Type="{_DOC}/worksheet" '
            f'Target="worksheets/sheet1.xml"/><Relationship Id="r2" Type="{_DOC}/sharedStrings" '
            'Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/sharedStrings.xml": f'<sst xmlns="{_MAIN}" count="{unique_count}" '
        f'uniqueCount="{unique_count}"><si><t>Date</t></si></sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}"><sheetData><row r="1">'
        '<c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return buffer.getvalue()


def test_an_absurd_shared_string_count_cannot_take_the_process_down():
    # The honest workbook is read (one cell is no table, but the reader got that far) ...
    assert "No transaction table" in _rejected(_shared_strings_xlsx(1)).detail
    # ... and four billion promised strings make calamine reserve ~96 GB and abort.
    error = _rejected(_shared_strings_xlsx(4_000_000_000))
    assert (error.status, "could not be read" in error.detail) == (422, True)


def test_a_reader_that_takes_too_long_is_stopped():
    data = _xlsx({"S": [["Date", "Amount"], ["2024-01-01", 1]]})
    error = _rejected(data, spreadsheet_limits=SpreadsheetLimits(timeout=0.001))
    assert error.status == 422
    assert "took longer than" in error.detail


def test_xlsx_with_xml_entity_expansion_is_refused_quickly():
    laughs = (
        '<!DOCTYPE z [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>"
    )
    source = zipfile.ZipFile(
        io.BytesIO(_xlsx({"S": [["Date", "Text", "Amount"], ["2024-01-01", "x", 1]]}))
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            part = source.read(name)
            if name.endswith("sheet1.xml"):
                xml = part.decode()
                body = xml[xml.index("?>") + 2 :] if xml.startswith("<?xml") else xml
                part = (laughs + body).replace(">x<", ">&i;<").encode()
            archive.writestr(name, part)
    error = _rejected(buffer.getvalue())
    assert error.status == 422
    assert "could not be read" in error.detail


def test_a_text_field_beyond_the_csv_field_limit_is_a_clear_422():
    data = _csv("Date,Description,Amount", '2024-01-01,"' + "x" * 200_000 + '",1')
    error = _rejected(data)
    assert error.status == 422
    assert "Line 2 is not valid delimited text" in error.detail


# --- overrides ---------------------------------------------------------------------------------


def test_delimiter_and_header_row_overrides():
    data = _csv("Report for March;x", "Date|Amount|Note", "2024-03-01|5|a;b", "2024-03-02|6|c;d")
    result = parse_statement(data, options=ImportOptions(delimiter="|", header_row=2))
    assert (result.delimiter, result.format, result.header_row) == ("|", "txt", 2)
    assert [row.transaction_amount for row in result.rows] == [5, 6]
    assert _rejected(data, options=ImportOptions(delimiter="||")).status == 422


def test_date_format_and_decimal_mark_overrides():
    data = _csv("Date,Amount", '2024/31/01,"1.000"', '2024/29/02,"2,5"')
    result = parse_statement(data, options=ImportOptions(date_format="%Y/%d/%m", decimal_mark=","))
    assert [(r.date, r.transaction_amount) for r in result.rows] == [
        (dt.date(2024, 1, 31), Decimal("1000")),
        (dt.date(2024, 2, 29), Decimal("2.5")),
    ]


def test_mapping_override_wins_and_is_merged_with_the_heuristic():
    data = _csv("When,What,Sum,Memo", "2024-01-01,Coffee,-3.5,x", "2024-01-02,Tea,-2.5,y")
    result = parse_statement(
        data, options=ImportOptions(mapping={"when": "date", "3": "transaction_amount"})
    )
    assert result.mapping_source == "override"
    assert result.mapping["When"] == "date"
    assert result.mapping["Sum"] == "transaction_amount"
    assert result.mapping["Memo"] == "description"  # kept from the heuristic
    assert [r.transaction_amount for r in result.rows] == [Decimal("-3.5"), Decimal("-2.5")]
    assert _rejected(data, options=ImportOptions(mapping={"Nope": "date"})).status == 422
    assert _rejected(data, options=ImportOptions(mapping={"When": "colour"})).status == 422


def test_resolve_mapping_hook_gets_the_layout_and_decides():
    data = _csv("Datum,Betrag,Notiz", '01.02.2024,"-1,00",a', '02.02.2024,"2,00",b')
    calls = []

    def resolve(signature, header, sample_rows, heuristic):
        calls.append((signature, header, sample_rows, heuristic))
        return {"Datum": "date", "Betrag": "transaction_amount"}, "cache", 0.99

    result = parse_statement(data, options=ImportOptions(currency="EUR"), resolve_mapping=resolve)
    signature, header, sample_rows, heuristic = calls[0]
    assert len(signature) == 64
    assert header == ["Datum", "Betrag", "Notiz"]
    assert sample_rows == [["01.02.2024", "-1,00", "a"], ["02.02.2024", "2,00", "b"]]
    assert isinstance(heuristic, MappingResult)
    assert (result.mapping_source, result.confidence) == ("cache", 0.99)
    assert result.mapping == {"Datum": "date", "Betrag": "transaction_amount"}


def test_without_a_resolver_the_heuristic_decides():
    result = parse_statement(_csv("Date,Amount", "2024-01-01,1"))
    assert result.mapping_source == "heuristic"
    assert 0 < result.confidence <= 1


# --- limits and unusable files ------------------------------------------------------------------


def test_max_bytes_is_a_413_naming_the_cap():
    error = _rejected(_csv("Date,Amount", "2024-01-01,1"), options=ImportOptions(max_bytes=10))
    assert error.status == 413
    assert "10 bytes upload limit" in error.detail


def test_max_rows_is_a_413_naming_the_cap():
    lines = ["Date,Amount"] + [f"2024-01-{d:02d},{d}" for d in range(1, 29)]
    assert len(parse_statement(_csv(*lines), options=ImportOptions(max_rows=28)).rows) == 28
    error = _rejected(_csv(*lines), options=ImportOptions(max_rows=27))
    assert error.status == 413
    assert "more than 27 transaction rows" in error.detail


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        (("Description,Amount", "Coffee,-1.00", "Tea,-2.00"), "No date column"),
        (("Date,Description,Note", "2024-01-01,Coffee,x", "2024-01-02,Tea,y"), "No amount column"),
        (("Date,Amount",), "header row (row 1) but no transaction rows"),
        (("Some;words", "more;words"), "No transaction table"),
    ],
)
def test_files_without_what_a_statement_needs_are_422(lines, words):
    error = _rejected(_csv(*lines))
    assert error.status == 422
    assert words in error.detail


def test_missing_date_column_is_named():
    error = _rejected(
        _csv("When,Amount", "2024-01-01,1"), options=ImportOptions(mapping={"When": "description"})
    )
    assert "No date column" in error.detail


# --- bad rows and formula-looking text ----------------------------------------------------------


def test_bad_rows_become_error_rows_with_a_suggestion():
    data = _csv(
        "Date,Description,Amount,Currency",
        '31.01.2024,Good,"-1,50",EUR',
        '32.01.2024,Bad date,"-2,00",EUR',
        ',No date,"-3,00",EUR',
        "01.02.2024,Bad amount,abc,EUR",
        "02.02.2024,Formula,=1+2,EUR",
        "03.02.2024,No amount,,EUR",
        '04.02.2024,Bad currency,"1,00",EURO',
    )
    result = parse_statement(data)
    assert [row.description for row in result.rows] == ["Good"]
    found = [(e.row_number, e.error_type, e.field_name, e.value) for e in result.errors]
    assert found == [
        (3, "format", "date", "32.01.2024"),
        (4, "missing", "date", None),
        (5, "format", "transaction_amount", "abc"),
        (6, "invalid", "transaction_amount", "=1+2"),
        (7, "missing", "transaction_amount", None),
        (8, "validation", "currency", "EURO"),
    ]
    assert result.total_rows == 7
    first = result.errors[0]
    assert isinstance(first, RowError)
    assert "31.12.2024" in first.suggestion
    assert first.raw["Description"] == "Bad date"
    assert result.errors[2].partial == {"date": dt.date(2024, 2, 1)}
    assert "never evaluated" in result.errors[3].message


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)"]
)
def test_formula_looking_text_is_kept_as_plain_text(text):
    quoted = '"' + text.replace('"', '""') + '"'
    result = parse_statement(_csv("Date,Description,Amount", f"2024-01-01,{quoted},-1"))
    assert result.rows[0].description == text


# --- types, signs, fees ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("Kauf", "BUY"),
        ("Verkauf", "SELL"),
        ("Achat", "BUY"),
        ("Vente", "SELL"),
        ("Compra", "BUY"),
        ("Venta", "SELL"),
        ("Acquisto", "BUY"),
        ("Vendita", "SELL"),
        ("Koop", "BUY"),
        ("Verkoop", "SELL"),
        ("Kupno", "BUY"),
        ("Sprzedaż", "SELL"),
        ("Köp", "BUY"),
        ("Sälj", "SELL"),
        ("BUY", "BUY"),
        ("Sell", "SELL"),
    ],
)
def test_trade_types_in_every_language_get_the_sign_convention(word, kind):
    data = _csv(
        "Date,Type,Symbol,Quantity,Price,Amount", f"2024-01-02,{word},AAPL,10,150.00,1500.00"
    )
    row = parse_statement(data, options=ImportOptions(currency="USD")).rows[0]
    assert row.transaction_type == kind
    assert row.transaction_amount == (Decimal("-1500.00") if kind == "BUY" else Decimal("1500"))
    assert (row.volume, row.item_price, row.asset_symbol) == (10, Decimal("150.00"), "AAPL")


@pytest.mark.parametrize(
    ("word", "amount", "kind", "signed"),
    [
        ("Dividende", "12.00", "DIVIDEND", "12.00"),
        ("Zinsen", "0.50", "INTEREST", "0.50"),
        ("Gebühr", "2.00", "FEE", "-2.00"),
        ("Quellensteuer", "3.00", "TAX", "-3.00"),
        ("Einzahlung", "100", "DEPOSIT", "100"),
        ("Auszahlung", "100", "WITHDRAWAL", "-100"),
        ("Prelievo", "50", "WITHDRAWAL", "-50"),
        ("Dywidenda", "7", "DIVIDEND", "7"),
    ],
)
def test_cash_types_on_unsigned_amounts_get_their_sign(word, amount, kind, signed):
    data = _csv("Date,Type,Amount", f"2024-01-02,{word},{amount}", f"2024-01-03,{word},{amount}")
    row = parse_statement(data, options=ImportOptions(currency="EUR")).rows[0]
    assert (row.transaction_type, row.transaction_amount) == (kind, Decimal(signed))


def test_type_from_sign_and_quantity_when_the_file_has_no_type_column():
    data = _csv(
        "Date,Product,Quantity,Price,Total EUR",
        "2024-01-02,ACME,5,10.00,-50.00",
        "2024-01-03,ACME,-2,11.00,22.00",
        "2024-01-04,,,,-3.00",
        "2024-01-05,,,,4.00",
    )
    kinds = [r.transaction_type for r in parse_statement(data).rows]
    assert kinds == ["BUY", "SELL", "WITHDRAWAL", "DEPOSIT"]


def test_a_stated_type_contradicting_a_signed_amount_is_its_reversal():
    data = _csv("Date,Type,Amount", "2024-01-02,Fee,-2.00", "2024-01-03,Fee,2.00")
    kinds = [r.transaction_type for r in parse_statement(data).rows]
    assert kinds == ["FEE", "DEPOSIT"]  # a refunded fee


def test_fee_column_is_taken_out_of_a_gross_amount():
    data = _csv("Date,Description,Amount,Fee", "2024-01-02,ATM,-100,2", "2024-01-03,In,50,0")
    rows = parse_statement(data).rows
    assert [(r.transaction_amount, r.fee) for r in rows] == [(Decimal(-102), 2), (50, 0)]


def test_fee_already_in_a_net_total_is_not_taken_twice():
    data = _csv("Date,Product,Quantity,Price,Fee,Net amount", "2024-01-02,ACME,5,10.00,1.00,-51.00")
    row = parse_statement(data).rows[0]
    assert (row.transaction_amount, row.fee) == (Decimal("-51.00"), Decimal("1.00"))


def test_debit_credit_columns_and_indicator_and_minor_units():
    pair = parse_statement(_csv("Date,Debit,Credit", "2024-01-02,12.50,", "2024-01-03,,3.00"))
    assert [r.transaction_amount for r in pair.rows] == [Decimal("-12.50"), Decimal("3.00")]
    marked = parse_statement(_csv("Date,D/C,Amount", "2024-01-02,D,12.50", "2024-01-03,C,3.00"))
    assert [r.transaction_amount for r in marked.rows] == [Decimal("-12.50"), Decimal("3.00")]
    cents = parse_statement(
        _csv("Date,Amount in cents,Currency", "2024-01-02,-1250,EUR", "2024-01-03,500,JPY")
    )
    assert [r.transaction_amount for r in cents.rows] == [Decimal("-12.50"), Decimal(500)]


# --- currency ------------------------------------------------------------------------------------


def test_currency_precedence_column_symbol_preamble_form_wallet():
    header = "Date,Description,Amount"
    wallet = ImportOptions(wallet_currency="CHF")
    form = ImportOptions(currency="USD", wallet_currency="CHF")
    plain = _csv(header, "2024-01-02,A,1.00")
    assert parse_statement(plain, options=wallet).rows[0].currency == "CHF"
    assert parse_statement(plain, options=form).rows[0].currency == "USD"
    preamble = _csv("Currency,GBP,", ",,", header, "2024-01-02,A,1.00")
    assert parse_statement(preamble, options=form).rows[0].currency == "GBP"
    symbol = _csv(header, "2024-01-02,A,€1.00")
    assert parse_statement(symbol, options=form).rows[0].currency == "EUR"
    column = _csv(header + ",Currency", "2024-01-02,A,€1.00,SEK")
    assert parse_statement(column, options=form).rows[0].currency == "SEK"


def test_detect_currency_returns_only_what_the_file_states():
    options = ImportOptions(currency="USD", wallet_currency="CHF")
    assert detect_currency(_csv("Date,Amount", "2024-01-02,1"), "a.csv", options) is None
    assert detect_currency(_csv("Date,Betrag (€)", "2024-01-02,1"), "a.csv", options) == "EUR"
    assert detect_currency(_csv("Date,Amount,Currency", "2024-01-02,1,PLN")) == "PLN"
    assert (
        detect_currency(_csv("Date,Amount,Currency", "2024-01-02,1,PLN", "2024-01-03,1,EUR"))
        is None
    )
    assert detect_currency(_csv("Date,Amount", "2024-01-02,£1.00")) == "GBP"


def test_rows_are_canonical_and_exact():
    result = parse_statement(_csv("Date,Amount", "2024-01-02,0.10", "2024-01-03,0.20"))
    assert all(isinstance(row, CanonicalRow) for row in result.rows)
    assert sum(row.transaction_amount for row in result.rows) == Decimal("0.30")
