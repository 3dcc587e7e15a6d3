"""The pure statement pipeline: bytes → sniff → table → mapping → canonical rows.

No database and no Flask: storage, de-duplication and the AI/cache mapping
layers plug in from outside (``resolve_mapping``), so every stage here can be
tested on bytes alone and benchmarked without a server.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import PurePath

from finance.imports.mapping import (
    FIELDS,
    MULTI_FIELDS,
    MappingResult,
    header_signature,
    heuristic_mapping,
    overall_confidence,
)
from finance.imports.normalise import Plan, RowNormaliser, file_currency, make_plan
from finance.imports.readers import Row, SpreadsheetLimits, check_zip, text_rows, workbook_sheets
from finance.imports.sniff import STRUCTURED_FORMATS, Sniffed, sniff
from finance.imports.table import SCAN_ROWS, Table, find_table, is_end_of_table, safe_label
from finance.imports.types import (
    CanonicalRow,
    ImportOptions,
    ImportRejected,
    ParseResult,
    RowError,
)

MappingResolver = Callable[
    [str, list[str], list[list[str]], MappingResult], tuple[dict[str, str], str, float]
]
PREVIEW_ROWS = 5  # sample rows a resolver (and through it an AI) gets to see

_FORMAT_MODULES = {"ofx": "ofx", "qfx": "ofx", "qif": "qif", "mt940": "mt940", "camt.053": "camt"}
_EXTENSIONS = {
    "csv": {".csv", ".txt"},
    "tsv": {".tsv", ".txt", ".csv", ".tab"},
    "txt": {".txt", ".csv"},
    "xlsx": {".xlsx", ".xlsm"},
    "xls": {".xls"},
}


@dataclass(slots=True)
class _Prepared:
    """A tabular file read up to the point where rows can be normalised."""

    sniffed: Sniffed
    table: Table
    sheet: str | None
    mapping: dict[str, str]
    source: str
    confidence: float
    plan: Plan


def parse_statement(
    data: bytes,
    filename: str | None = None,
    options: ImportOptions | None = None,
    resolve_mapping: MappingResolver | None = None,
    spreadsheet_limits: SpreadsheetLimits | None = None,
) -> ParseResult:
    """Read a statement file into canonical rows and error rows.

    Raises :class:`ImportRejected` (413/415/422) when the file as a whole
    cannot be used; then nothing from it may be stored.
    """
    options = options or ImportOptions()
    _check_size(data, options)
    sniffed = sniff(data, options)
    if sniffed.format in STRUCTURED_FORMATS:
        return _parse_structured(data, sniffed, options)
    prepared = _prepare(data, sniffed, options, resolve_mapping, spreadsheet_limits)
    rows, errors, stopped_at = _normalise_rows(prepared, options.max_rows)
    table, plan = prepared.table, prepared.plan
    if not rows and not errors:
        raise _no_rows(table, prepared.sheet)
    currency = file_currency(plan, table.sample)
    return ParseResult(
        format=sniffed.format,
        rows=rows,
        errors=errors,
        total_rows=len(rows) + len(errors),
        encoding=sniffed.encoding,
        delimiter=sniffed.delimiter,
        sheet=prepared.sheet,
        header_row=table.header_row,
        header=table.header,
        mapping=prepared.mapping,
        mapping_source=prepared.source,
        confidence=prepared.confidence,
        currency=currency,
        warnings=_warnings(filename, sniffed, rows, stopped_at),
    )


def detect_currency(
    data: bytes, filename: str | None = None, options: ImportOptions | None = None
) -> str | None:
    """The currency the file itself states (not the caller's fallback), else ``None``.

    ``filename`` is accepted for the endpoint's call shape; as for parsing, the bytes decide.
    """
    options = replace(options or ImportOptions(), currency=None, wallet_currency=None)
    _check_size(data, options)
    sniffed = sniff(data, options)
    if sniffed.format in STRUCTURED_FORMATS:
        result = _parse_structured(data, sniffed, options)
        codes = {row.currency for row in result.rows}
        if result.currency:
            return result.currency
        return codes.pop() if len(codes) == 1 and None not in codes else None
    prepared = _prepare(data, sniffed, options, None, None)
    return file_currency(prepared.plan, prepared.table.sample)


def _check_size(data: bytes, options: ImportOptions) -> None:
    if options.max_bytes and len(data) > options.max_bytes:
        raise ImportRejected(
            f"The file is {_size(len(data))}, over the {_size(options.max_bytes)} upload limit.",
            413,
        )


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


def _parse_structured(data: bytes, sniffed: Sniffed, options: ImportOptions) -> ParseResult:
    """Hand OFX/QFX, QIF, MT940 and CAMT.053 to their own parsers (imported only when needed)."""
    name = f"finance.imports.formats.{_FORMAT_MODULES[sniffed.format]}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ImportRejected(
            f"{sniffed.format.upper()} files are recognised but cannot be imported yet.", 415
        ) from None
    result: ParseResult = module.parse(data, options)
    _check_rows(len(result.rows) + len(result.errors), options.max_rows)
    return result


def _check_rows(count: int, cap: int | None) -> None:
    if cap and count > cap:
        raise ImportRejected(
            f"The file has more than {cap:,} transaction rows, the most one upload may hold; "
            "split it into smaller files.",
            413,
        )


def _prepare(
    data: bytes,
    sniffed: Sniffed,
    options: ImportOptions,
    resolve_mapping: MappingResolver | None,
    spreadsheet_limits: SpreadsheetLimits | None,
) -> _Prepared:
    table, sheet = _locate(data, sniffed, options, spreadsheet_limits)
    sample_rows = [cells for _, cells in table.sample]
    heuristic = heuristic_mapping(table.header, sample_rows, date_format=options.date_format)
    if options.mapping:
        mapping, per_column = _with_override(heuristic, options.mapping, table.header)
        source, confidence = "override", overall_confidence(mapping, per_column)
    elif resolve_mapping is not None:
        signature = header_signature(table.header, sniffed.format, sniffed.delimiter)
        preview = [[_preview(c) for c in row] for row in sample_rows[:PREVIEW_ROWS]]
        mapping, source, confidence = resolve_mapping(
            signature, list(table.header), preview, heuristic
        )
        _check_mapping(mapping, table.header)
    else:
        mapping, source, confidence = heuristic.mapping, "heuristic", heuristic.confidence
    _require_essentials(mapping, table.header)
    plan = make_plan(table.header, mapping, table.sample, options, table.currency)
    return _Prepared(sniffed, table, sheet, mapping, source, confidence, plan)


def _locate(
    data: bytes,
    sniffed: Sniffed,
    options: ImportOptions,
    spreadsheet_limits: SpreadsheetLimits | None,
) -> tuple[Table, str | None]:
    """The table of a text file, or of the first worksheet that has one."""
    if sniffed.format in ("xlsx", "xls"):
        limits = spreadsheet_limits or SpreadsheetLimits()
        if sniffed.format == "xlsx":
            check_zip(data, limits)
        sources: Iterator[tuple[str | None, Iterator[Row]]] = workbook_sheets(
            data, options.sheet, limits
        )
    else:
        text = text_rows(data, sniffed.encoding or "utf-8", sniffed.delimiter or ",")
        sources = iter([(None, text)])
    header_only: tuple[Table, str | None] | None = None
    for sheet, rows in sources:
        table = find_table(rows, options.header_row)
        if table and table.sample:
            return table, sheet
        if table and header_only is None:
            header_only = (table, sheet)
    if header_only:
        raise _no_rows(*header_only)
    if options.header_row:
        raise ImportRejected(
            f"Row {options.header_row} is empty or beyond the first {SCAN_ROWS} rows, "
            "so it cannot be the header.",
            422,
        )
    raise ImportRejected(
        f"No transaction table was found: none of the first {SCAN_ROWS} rows is a header "
        "followed by rows with a date and an amount.",
        422,
    )


def _no_rows(table: Table, sheet: str | None) -> ImportRejected:
    where = f"row {table.header_row}" + (f" of sheet '{sheet}'" if sheet else "")
    return ImportRejected(
        f"The file has a header row ({where}) but no transaction rows under it.", 422
    )


def _preview(cell: object) -> str:
    return cell if isinstance(cell, str) else str(cell)


def _with_override(
    heuristic: MappingResult, override: dict[str, str], header: list[str]
) -> tuple[dict[str, str], dict[str, float]]:
    """The user's columns win (confidence 1); the heuristic keeps the columns and fields
    they left alone. Returns the mapping and the confidence per mapped column."""
    chosen = {_label(column, header): name for column, name in override.items()}
    _check_mapping(chosen, header)
    claimed = {name for name in chosen.values() if name not in MULTI_FIELDS}
    mapping = {
        label: name
        for label, name in heuristic.mapping.items()
        if label not in chosen and name not in claimed
    }
    per_column = {label: heuristic.per_column[label] for label in mapping}
    mapping.update(chosen)
    per_column.update(dict.fromkeys(chosen, 1.0))
    return mapping, per_column


def _label(column: str, header: list[str]) -> str:
    """A header label named exactly, case-insensitively, or by 1-based position."""
    if column in header:
        return column
    wanted = safe_label(column).casefold()  # "$Amount" names the label "\uff04Amount"
    for label in header:
        if label.casefold() == wanted:
            return label
    if _is_position(column) and 1 <= int(column) <= len(header):
        return header[int(column) - 1]
    raise ImportRejected(
        f"The mapping names column {column[:100]!r}, which the file does not have; its columns "
        f"are: {_listed(header)}.",
        422,
    )


def _is_position(text: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` is true, yet ``int("²")`` fails."""
    text = text.strip()
    return text.isascii() and text.isdigit()


def _listed(header: list[str], most: int = 20) -> str:
    """The column labels for a message; a 10,000-column file does not make a 60 KB one."""
    shown = ", ".join(label[:60] for label in header[:most])
    return shown if len(header) <= most else f"{shown} and {len(header) - most:,} more"


def _check_mapping(mapping: dict[str, str], header: list[str]) -> None:
    for label, name in mapping.items():
        if label not in header:
            raise ImportRejected(f"The mapping names an unknown column {label!r}.", 422)
        if name not in FIELDS:
            raise ImportRejected(
                f"{name!r} is not a field a column can map to; use one of {', '.join(FIELDS)}.",
                422,
            )


def _require_essentials(mapping: dict[str, str], header: list[str]) -> None:
    fields = set(mapping.values())
    columns = _listed(header)
    if "date" not in fields:
        raise ImportRejected(
            f"No date column was found among the columns {columns}; map one to 'date'.", 422
        )
    if not fields & {"transaction_amount", "transaction_amount_minor", "debit", "credit"}:
        raise ImportRejected(
            f"No amount column was found among the columns {columns}; map one to "
            "'transaction_amount' (or 'debit' and 'credit').",
            422,
        )


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cycle collector while building many acyclic rows.

    Each row allocates a handful of objects, and with 100k rows alive the
    collector's full passes cost about a quarter of the run; the rows hold
    no reference cycles, so reference counting alone frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _normalise_rows(
    prepared: _Prepared, max_rows: int | None
) -> tuple[list[CanonicalRow], list[RowError], int | None]:
    """Stream the data rows once; stop at totals or a new section, skip blank lines."""
    with _cyclic_gc_paused():
        return _collect_rows(prepared, max_rows)


def _collect_rows(
    prepared: _Prepared, max_rows: int | None
) -> tuple[list[CanonicalRow], list[RowError], int | None]:
    normalise = RowNormaliser(prepared.plan)
    rows: list[CanonicalRow] = []
    errors: list[RowError] = []
    cap = max_rows or 0
    source = prepared.table.rows
    for number, cells in source:
        if not any(cells):
            continue
        result = normalise(number, cells)
        if type(result) is CanonicalRow:
            rows.append(result)
        else:
            if result.field_name == "date":
                if not any(c.strip() if type(c) is str else c is not None for c in cells):
                    continue
                if is_end_of_table(cells):
                    more = any(any(c not in (None, "") for c in rest) for _, rest in source)
                    return rows, errors, number if more else None
            errors.append(result)
        if cap and len(rows) + len(errors) > cap:
            _check_rows(len(rows) + len(errors), cap)  # raises
    return rows, errors, None


def _warnings(
    filename: str | None,
    sniffed: Sniffed,
    rows: list[CanonicalRow],
    stopped_at: int | None,
) -> list[str]:
    warnings = []
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if suffix and suffix not in _EXTENSIONS.get(sniffed.format, {suffix}):
        warnings.append(
            f"The file is named '{suffix}' but its content is {sniffed.format.upper()}; "
            f"it was read as {sniffed.format.upper()}."
        )
    if stopped_at is not None:
        warnings.append(
            f"Reading stopped at row {stopped_at} (a totals line or a new section); "
            "the rows below it were not imported."
        )
    if any(row.currency is None for row in rows):
        warnings.append(
            "The file does not state its currency; send the 'currency' field so the "
            "transactions get one."
        )
    return warnings
