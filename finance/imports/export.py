"""Exporting transactions as CSV or XLSX, in a layout the importer reads back exactly.

Text cells that a spreadsheet would evaluate (starting with = + - @, tab or CR)
are prefixed with an apostrophe in CSV and written as plain strings in XLSX,
so an exported description can never run as a formula. Numbers are written as
numbers, with their exact digits. XLSX is XML, which cannot hold most control
characters (U+0000-U+001F but tab, LF, CR): those are left out of XLSX cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from bson import Decimal128

from ..common.decimals import decimal_from_128

COLUMNS = (
    ("Date", "date"),
    ("Type", "transaction_type"),
    ("Asset", "asset_name"),
    ("Symbol", "asset_symbol"),
    ("Asset Type", "asset_type"),
    ("Quantity", "volume"),
    ("Price", "item_price"),
    ("Net Amount", "transaction_amount"),
    ("Fee", "fee"),
    ("Currency", "currency"),
    ("Description", "description"),
)
TEXT_FIELDS = frozenset({"asset_name", "asset_symbol", "description"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def escape_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: Any) -> Decimal | None:
    if value is None:
        return None
    return decimal_from_128(value) if isinstance(value, Decimal128) else value


def cells(doc: dict[str, Any], *, escape: bool) -> list[Any]:
    """One export row from a stored transaction (raw pymongo document)."""
    row: list[Any] = []
    for _title, field in COLUMNS:
        value = doc.get(field)
        if field == "date":
            row.append(value.date().isoformat() if value else None)
        elif field in TEXT_FIELDS:
            row.append((escape_text(value) if escape else value) if value else None)
        elif isinstance(value, Decimal128 | Decimal):
            row.append(_number(value))
        else:
            row.append(value)
    return row


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def csv_chunks(docs: Iterable[dict[str, Any]], rows_per_chunk: int = 500) -> Iterator[bytes]:
    """The CSV, a few hundred rows at a time (UTF-8 with BOM, so Excel reads accents)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(title for title, _field in COLUMNS)
    pending = 0
    for doc in docs:
        writer.writerow(_plain(v) for v in cells(doc, escape=True))
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode()


def xlsx_bytes(docs: Iterable[dict[str, Any]]) -> bytes:
    """The workbook, built in openpyxl's write-only (streaming) mode."""
    from openpyxl import Workbook  # only exports pay for the import
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    sheet.append([title for title, _field in COLUMNS])
    for doc in docs:
        row = []
        for value in cells(doc, escape=False):
            if isinstance(value, str):
                value = ILLEGAL_CHARACTERS_RE.sub("", value)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
            row.append(cell)
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
