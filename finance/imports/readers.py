"""Bytes → rows of cells, numbered by the physical line or sheet row users see.

Text rows are produced lazily, so a large file is walked once and never held
as a list of rows: it is decoded in chunks straight into the ``csv`` module.
Spreadsheets are read by calamine's Rust reader in a child process (see
:class:`SpreadsheetLimits`), so neither it nor its import ever touches the
web worker.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import pickle
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from finance.imports.sniff import codec_for, encoding_label
from finance.imports.types import ImportRejected

Row = tuple[int, list[Any]]


@dataclass(frozen=True, slots=True)
class SpreadsheetLimits:
    """Caps for reading a workbook.

    The ZIP directory of an XLSX is checked before anything is inflated (real
    workbooks inflate 5-30x, a zip bomb thousands of times). The reader then
    runs in a child process held to ``max_memory`` bytes of address space and
    ``timeout`` seconds: a crafted workbook can make the native reader reserve
    hundreds of gigabytes (one cell at XFD1048576, a shared-string count of
    four billion), and the allocation failure aborts the whole process, which
    must be a child and not the web worker.
    """

    max_uncompressed: int = 256 * 1024 * 1024
    max_ratio: int = 200
    max_entries: int = 10_000
    max_memory: int = 1024 * 1024 * 1024
    timeout: float = 20.0  # under API Gateway's 29 s, so the caller still gets a clear 4xx


# No statement line is this long, nor this wide (Excel's own column limit): a file that is
# (a 50 MB single line, a million separators) is refused before the csv module builds a
# row of millions of cells from it.
MAX_LINE_CHARS = 1 << 20
MAX_CELLS = 16_384


class _LineTooLong(Exception):
    pass


def _lines(stream: io.TextIOWrapper) -> Iterator[str]:
    """The stream's physical lines, each read at most :data:`MAX_LINE_CHARS` at a time."""
    readline = stream.readline
    while line := readline(MAX_LINE_CHARS):
        if len(line) == MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


def text_rows(data: bytes, encoding: str, delimiter: str) -> Iterator[Row]:
    """``(line, cells)`` for each record; ``line`` is where the record starts. Blank lines
    are skipped here (they are never rows), so a file of a million of them costs little."""
    codec, skip = codec_for(data, encoding)
    source = io.BytesIO(data)
    source.seek(skip)
    stream = io.TextIOWrapper(source, encoding=codec, newline="")
    reader = csv.reader(_lines(stream), delimiter=delimiter)
    previous = 0
    try:
        for cells in reader:
            if not cells:  # a blank line: nothing to find a table in or to import
                previous = reader.line_num
                continue
            if len(cells) > MAX_CELLS:
                raise ImportRejected(
                    f"Line {previous + 1} has {len(cells):,} values, more than the "
                    f"{MAX_CELLS:,} columns a spreadsheet can hold; the file was refused.",
                    422,
                )
            yield previous + 1, cells
            previous = reader.line_num
    except _LineTooLong:
        raise ImportRejected(
            f"Line {previous + 1} is longer than {MAX_LINE_CHARS:,} characters, far more than "
            "any statement line; the file was refused.",
            422,
        ) from None
    except UnicodeDecodeError:
        raise ImportRejected(
            f"Line {_bad_line(data[skip:], codec)} cannot be read as {encoding_label(encoding)} "
            "text; the file mixes encodings or is damaged.",
            422,
        ) from None
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise ImportRejected(
                f"Line {previous + 1} is not valid delimited text: it has a value longer than "
                f"{csv.field_size_limit():,} characters, far more than any statement field "
                "(or a quote that is never closed).",
                422,
            ) from None
        raise ImportRejected(
            f"Line {previous + 1} is not valid delimited text ({exc}).", 422
        ) from None


def _bad_line(data: bytes, codec: str) -> int:
    """The line holding the first undecodable byte (text is decoded in chunks, so where the
    reader stood when a chunk failed can be many lines earlier)."""
    try:
        data.decode(codec)
    except UnicodeDecodeError as exc:
        return data[: exc.start].decode(codec, errors="replace").count("\n") + 1
    return 1  # pragma: no cover - only called after a decoding error


def check_zip(data: bytes, limits: SpreadsheetLimits) -> None:
    """Refuse an archive whose directory promises more than a statement could need."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError):
        raise ImportRejected(
            "The workbook is a damaged ZIP archive and cannot be read.", 422
        ) from None
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


# Runs in a fresh interpreter (-I -S: no site hooks, no PYTHON* variables) with the parent's
# sys.path (one argument per entry). It answers with a pickle: ("ok", [(sheet, first row,
# rows), ...]) or ("error", reason). The address-space cap is enforced on Linux (our servers
# and Lambda); platforms that refuse RLIMIT_AS still get the process boundary and the
# timeout. It imports as little as it can: a small file's read is mostly the child's start
# (``json`` and ``pickle`` would import ``re`` and ``enum``, ~10 ms; ``_pickle`` is the C
# pickler ``pickle`` itself uses, writing the same format).
_READER = r"""
import io, resource, sys, _pickle
cap = int(sys.argv[1])
try:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
except (ValueError, OSError):
    pass
sys.path[:0] = sys.argv[2:]

def read(data):
    from python_calamine import CalamineWorkbook, SheetTypeEnum
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheets = []
    for meta in book.sheets_metadata:
        if meta.typ == SheetTypeEnum.WorkSheet:
            sheet = book.get_sheet_by_name(meta.name)
            first = sheet.start[0] if sheet.start else 0
            sheets.append((meta.name, first, sheet.to_python()))
    return sheets

try:
    answer = ("ok", read(sys.stdin.buffer.read()))
except BaseException as exc:  # calamine errors and Rust panics alike
    answer = ("error", type(exc).__name__)
sys.stdout.buffer.write(_pickle.dumps(answer, protocol=5))
"""


def workbook_sheets(
    data: bytes, sheet: str | None = None, limits: SpreadsheetLimits | None = None
) -> Iterator[tuple[str, Iterator[Row]]]:
    """``(sheet name, rows)`` for each worksheet in workbook order, or the one asked for.

    ``sheet`` may be a name (case-insensitive) or a 1-based position. Rows are
    numbered by their sheet row, so a header on row 11 is reported as 11.
    """
    sheets = _read_isolated(data, limits or SpreadsheetLimits())
    names = [name for name, _, _ in sheets]
    if sheet is not None:
        wanted = _pick_sheet(names, sheet)
        sheets = [entry for entry in sheets if entry[0] == wanted]
    for name, first, rows in sheets:
        yield name, _numbered(first, rows)


def _read_isolated(data: bytes, limits: SpreadsheetLimits) -> list[tuple[str, int, list]]:
    """Read every worksheet with calamine in a child process (see :class:`SpreadsheetLimits`)."""
    command = [
        sys.executable,
        "-I",
        "-S",
        "-c",
        _READER,
        str(limits.max_memory),
        *sys.path,
    ]
    try:
        done = subprocess.run(  # noqa: S603 - our interpreter and our script, no shell
            command,
            input=data,
            capture_output=True,
            timeout=limits.timeout,
            check=False,
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
    except subprocess.TimeoutExpired:
        raise ImportRejected(
            f"The spreadsheet took longer than {limits.timeout:.0f} s to read and was refused.",
            422,
        ) from None
    if done.returncode != 0 or not done.stdout:
        raise _unreadable("the reader stopped on its contents")
    status, payload = pickle.loads(done.stdout)  # noqa: S301 - written by our own child
    if status != "ok":
        raise _unreadable(_REASONS.get(payload, "its contents could not be decoded"))
    return payload


# What the reader's exception says about the file, in words (never a class name).
_REASONS = {
    "XmlError": "a part of it is not well-formed XML",
    "ZipError": "its ZIP structure is broken",
    "CalamineError": "its internal structure is broken",
    "PanicException": "the reader stopped on its contents",
    "MemoryError": "the reader stopped on its contents",
}


def _unreadable(reason: str) -> ImportRejected:
    return ImportRejected(
        f"The spreadsheet could not be read ({reason}); it may be damaged or password-protected.",
        422,
    )


def _pick_sheet(names: list[str], wanted: str) -> str:
    for name in names:
        if name.casefold() == wanted.strip().casefold():
            return name
    position = wanted.strip()
    if position.isascii() and position.isdigit() and 1 <= int(position) <= len(names):
        return names[int(position) - 1]
    raise ImportRejected(
        f"The workbook has no sheet named {wanted[:100]!r}; its sheets are: {', '.join(names)}.",
        422,
    )


_AS_READ = frozenset({str, float, int, dt.datetime, dt.date})


def _numbered(first: int, rows: list[list[Any]]) -> Iterator[Row]:
    for number, cells in enumerate(rows, start=first + 1):
        yield number, [c if type(c) in _AS_READ else _plain(c) for c in cells]


def _plain(cell: Any) -> str:
    """Times, durations and booleans become text: they are never dates or amounts."""
    if type(cell) is bool:
        return str(cell).upper()
    return str(cell)
