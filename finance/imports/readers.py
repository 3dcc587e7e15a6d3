"""Bytes → rows of cells, numbered by the physical line or sheet row users see.

Rows are produced lazily so a large file is walked once and never held as
a list of rows: text is decoded in chunks straight into the ``csv`` module,
and spreadsheet rows come one at a time from calamine's Rust reader (imported
only when a spreadsheet arrives, to keep it off the service's import path).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from finance.imports.sniff import codec_for
from finance.imports.types import ImportRejected

Row = tuple[int, list[Any]]


@dataclass(frozen=True, slots=True)
class ZipLimits:
    """Caps checked on an XLSX's ZIP directory before the spreadsheet reader opens it.

    Real workbooks inflate 5-30x; a zip bomb inflates thousands of times.
    """

    max_uncompressed: int = 256 * 1024 * 1024
    max_ratio: int = 200
    max_entries: int = 10_000


def text_rows(data: bytes, encoding: str, delimiter: str) -> Iterator[Row]:
    """``(line, cells)`` for each record; ``line`` is where the record starts."""
    codec, skip = codec_for(encoding)
    source = io.BytesIO(data)
    source.seek(skip)
    stream = io.TextIOWrapper(source, encoding=codec, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    previous = 0
    try:
        for cells in reader:
            yield previous + 1, cells
            previous = reader.line_num
    except UnicodeDecodeError:
        raise ImportRejected(
            f"Line {previous + 1} cannot be read as {encoding} text; "
            "the file mixes encodings or is damaged.",
            422,
        ) from None
    except csv.Error as exc:
        raise ImportRejected(
            f"Line {previous + 1} is not valid delimited text ({exc}).", 422
        ) from None


def check_zip(data: bytes, limits: ZipLimits) -> None:
    """Refuse an archive whose directory promises more than a statement could need.

    Every member is then inflated once in small chunks: ``zipfile`` stops at
    the declared size and verifies the CRC, so a directory that lies about
    sizes is caught here rather than inside the spreadsheet reader.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > limits.max_entries:
                raise ImportRejected(
                    f"The workbook has {len(members)} parts, more than the {limits.max_entries} "
                    "a spreadsheet needs; it was refused as a possible zip bomb.",
                    422,
                )
            total = sum(m.file_size for m in members)
            if total > limits.max_uncompressed:
                raise ImportRejected(
                    f"The workbook would unpack to {total // 2**20} MB, over the "
                    f"{limits.max_uncompressed // 2**20} MB limit.",
                    413,
                )
            for member in members:
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > 1 << 20 and ratio > limits.max_ratio:
                    raise ImportRejected(
                        f"The workbook part {member.filename!r} is compressed {ratio:.0f}:1, "
                        f"beyond the {limits.max_ratio}:1 limit; it was refused as a possible "
                        "zip bomb.",
                        422,
                    )
            for member in members:
                with archive.open(member) as part:
                    while part.read(1 << 16):
                        pass
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError):
        raise ImportRejected(
            "The workbook is a damaged ZIP archive and cannot be read.", 422
        ) from None


def workbook_sheets(
    data: bytes, sheet: str | None = None
) -> Iterator[tuple[str, Iterator[Row]]]:
    """``(sheet name, rows)`` for each worksheet in workbook order, or the one asked for.

    ``sheet`` may be a name (case-insensitive) or a 1-based position.
    """
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    with _unreadable_as_rejected():
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [
            m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet
        ]
    if sheet is not None:
        names = [_pick_sheet(names, sheet)]
    for name in names:
        with _unreadable_as_rejected():
            rows = workbook.get_sheet_by_name(name)
        yield name, _sheet_rows(rows)


@contextmanager
def _unreadable_as_rejected() -> Iterator[None]:
    """calamine's errors, and the Rust panics a damaged file can trigger, become a 422.

    A panic surfaces as pyo3's ``PanicException``, which derives from
    ``BaseException``, so it is matched by name; anything else propagates.
    """
    from python_calamine import CalamineError

    try:
        yield
    except CalamineError as exc:
        raise _unreadable(type(exc).__name__) from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise _unreadable("the reader failed on its contents") from None


def _unreadable(reason: str) -> ImportRejected:
    return ImportRejected(
        f"The spreadsheet could not be read ({reason}); it may be damaged or "
        "password-protected.",
        422,
    )


def _pick_sheet(names: list[str], wanted: str) -> str:
    for name in names:
        if name.casefold() == wanted.strip().casefold():
            return name
    if wanted.strip().isdigit() and 1 <= int(wanted) <= len(names):
        return names[int(wanted) - 1]
    raise ImportRejected(
        f"The workbook has no sheet named {wanted!r}; its sheets are: {', '.join(names)}.", 422
    )


_AS_READ = frozenset({str, float, int, dt.datetime, dt.date})


def _sheet_rows(sheet: Any) -> Iterator[Row]:
    # calamine starts rows at the sheet's first row, so the position is the sheet row.
    with _unreadable_as_rejected():
        for number, cells in enumerate(sheet.iter_rows(), start=1):
            yield number, [c if type(c) in _AS_READ else _plain(c) for c in cells]


def _plain(cell: Any) -> str:
    """Times, durations and booleans become text: they are never dates or amounts."""
    if type(cell) is bool:
        return str(cell).upper()
    return str(cell)
