"""Where the transaction table sits in a sheet or text file.

Real exports put the account holder, IBAN, period and balances above the
header and totals below the rows, so "skip N lines" breaks on the next bank.
Instead every early row is scored as a header: mostly text cells, ideally
ones we know as column names, followed by a run of rows that each hold a
date and a number. The best-scoring row wins. Rows above it are the preamble
(searched for the statement currency); the table ends at a totals line or
the start of another section (decided while streaming, see
:func:`is_end_of_table`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from finance.imports.mapping import fold, known_header_cells
from finance.imports.readers import Row
from finance.imports.values import (
    ISO_CURRENCIES,
    looks_like_date,
    looks_like_number,
    parse_number_text,
)

SCAN_ROWS = 80  # how far down a header may sit
RUN_ROWS = 8  # data rows looked at to confirm a header
SAMPLE_ROWS = 500  # data rows buffered to decide date order, number style and mapping

_TOTAL = re.compile(
    r"^\s*(?:grand\s+)?(?:totals?|totale|totaal|summe|gesamt|suma|razem|summa|sum|"
    r"saldo|solde|closing balance|opening balance|endsaldo|anfangssaldo|kontostand)\b",
    re.IGNORECASE,
)
_CURRENCY_KEYS = frozenset(
    {
        "currency",
        "ccy",
        "waehrung",
        "wahrung",
        "kontowahrung",
        "devise",
        "monnaie",
        "moneda",
        "divisa",
        "valuta",
        "waluta",
        "moeda",
        "account currency",
    }
)
_KEY_VALUE_CCY = re.compile(
    r"(?i:currency|w(?:ä|ae|a)hrung|devise|moneda|divisa|valuta|waluta|moeda)\s*[:=]?\s*"
    r"\(?([A-Z]{3})\b"
)


@dataclass(slots=True)
class Table:
    """A located table: header, a buffered sample, the lazy stream of its data rows (sample
    first), and the currency its preamble states."""

    header_row: int
    header: list[str]
    sample: list[Row]
    rows: Iterator[Row]
    currency: str | None = None


_CONTROLS = {**dict.fromkeys([*range(1, 32), 127], " "), 0: None}


def safe_label(text: str) -> str:
    """A header cell as a label, fit to be a stored key (of the import's mapping, the mapping
    cache and an error row's raw cells): a NUL (which a BSON key cannot hold) is dropped,
    other control characters (line breaks in a spreadsheet header) become spaces, and a
    leading ``$`` (which MongoDB and MongoEngine refuse at the start of a key) becomes the
    look-alike U+FF04 (fullwidth dollar sign), still read as a dollar sign."""
    text = text.translate(_CONTROLS).strip()
    return "\uff04" + text[1:] if text.startswith("$") else text


def header_labels(cells: Sequence[Any]) -> list[str]:
    """Unique, non-empty labels: blank headers become ``Column 9``, repeats get ``(2)``."""
    labels: list[str] = []
    seen: dict[str, int] = {}
    for index, cell in enumerate(cells, start=1):
        label = safe_label(str(cell)) if cell not in (None, "") else ""
        label = label or f"Column {index}"
        count = seen.get(label.casefold(), 0) + 1
        seen[label.casefold()] = count
        labels.append(label if count == 1 else f"{label} ({count})")
    return labels


def find_table(source: Iterator[Row], header_row: int | None = None) -> Table | None:
    """Locate the header in the first rows of ``source``; ``None`` when no row qualifies.

    A header with no data rows under it still returns a :class:`Table` with
    an empty sample, so the caller can say "header but no rows".
    """
    head = list(itertools.islice(source, SCAN_ROWS + RUN_ROWS))
    index = _forced_index(head, header_row) if header_row else _best_header(head)
    if index is None:
        return None
    number, cells = head[index]
    width = _width(cells)
    rest = itertools.chain(head[index + 1 :], source)
    sample = []
    for row in rest:
        if not any(c not in (None, "") for c in row[1]):
            continue  # blank lines carry nothing (reading skips them too): never the sample
        if is_end_of_table(row[1]) and not _is_data_row(row[1]):
            rest = itertools.chain([row], rest)
            break
        sample.append(row)
        if len(sample) == SAMPLE_ROWS:
            break
    header = header_labels(cells[:width])
    return Table(
        header_row=number,
        header=header,
        sample=sample,
        rows=itertools.chain(sample, rest),
        currency=preamble_currency([row for _, row in head[:index]]),
    )


def _forced_index(head: list[Row], header_row: int) -> int | None:
    for index, (number, cells) in enumerate(head):
        if number == header_row:
            return index if any(c not in (None, "") for c in cells) else None
    return None


def _best_header(head: list[Row]) -> int | None:
    data_like = [_is_data_row(cells) for _, cells in head]
    best, best_score = None, 0.0
    for index, (_, cells) in enumerate(head[:SCAN_ROWS]):
        score = _header_score(cells)
        if not score:
            continue
        run = _run_length(head, data_like, index + 1)
        score *= 1 + min(run, RUN_ROWS)
        if run == 0 and known_header_cells(cells) < 2:
            continue
        if score > best_score:
            best, best_score = index, score
    return best


def _header_score(cells: Sequence[Any]) -> float:
    """Share of label-like cells plus a bonus per known column name; 0 if not a header."""
    filled = [c for c in cells if c not in (None, "")]
    if len(filled) < 2:
        return 0.0
    texts = [c for c in filled if type(c) is str and len(c) <= 80 and _has_letter(c)]
    if len(texts) < 0.6 * len(filled):
        return 0.0  # a data row: its dates and numbers alone rule it out, no parsing needed
    labels = sum(1 for c in texts if not looks_like_date(c) and not looks_like_number(c))
    share = labels / len(filled)
    if share < 0.6:
        return 0.0
    return share + 0.5 * known_header_cells(filled)


def _has_letter(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _is_data_row(cells: Sequence[Any]) -> bool:
    has_date = has_number = False
    for cell in cells:
        if cell in (None, ""):
            continue
        if isinstance(cell, dt.date) or (type(cell) is str and looks_like_date(cell)):
            has_date = True
        elif isinstance(cell, int | float) or (type(cell) is str and looks_like_number(cell)):
            has_number = True
        else:
            continue
        if has_date and has_number:
            return True
    return False


def _run_length(head: list[Row], data_like: list[bool], start: int) -> int:
    """Data rows right under a candidate header (blank rows in between are allowed)."""
    run = 0
    for index in range(start, len(head)):
        if data_like[index]:
            run += 1
        elif any(c not in (None, "") for c in head[index][1]) or run:
            break
    return run


def _width(cells: Sequence[Any]) -> int:
    width = len(cells)
    while width and cells[width - 1] in (None, ""):
        width -= 1
    return width


def is_end_of_table(cells: Sequence[Any]) -> bool:
    """Does this row (whose date did not parse) close the table rather than being a bad row?

    Totals and closing balances, a lone title cell, or a second header row
    end the table; anything else is a transaction row with a problem.
    """
    filled = [c for c in cells if c not in (None, "")]
    if not filled:
        return False
    # _TOTAL needs a letter after optional spaces: most cells (dates, numbers) fail that first.
    if any(
        type(c) is str and (c[0].isalpha() or c[0].isspace()) and _TOTAL.match(c) for c in filled
    ):
        return True
    if len(filled) == 1 and type(filled[0]) is str:
        return True
    if any(type(c) is not str or looks_like_number(c) or looks_like_date(c) for c in filled):
        return False
    return known_header_cells(filled) >= 2


def preamble_currency(rows: Sequence[Sequence[Any]]) -> str | None:
    """The statement currency stated above the table: a ``Currency: EUR`` pair first,
    else a currency written in a balance cell (``4.261,55 €``)."""
    for cells in rows:
        texts = [str(c).strip() for c in cells if c not in (None, "")]
        for i, text in enumerate(texts):
            if fold(text).rstrip(":").strip() in _CURRENCY_KEYS and i + 1 < len(texts):
                code = texts[i + 1].upper()
                if code in ISO_CURRENCIES:
                    return code
            match = _KEY_VALUE_CCY.search(text)
            if match and match.group(1).upper() in ISO_CURRENCIES:
                return match.group(1).upper()
    for cells in rows:
        for cell in cells:
            if type(cell) is str and looks_like_number(cell.strip()):
                for mark in (",", "."):
                    try:
                        currency = parse_number_text(cell, mark)[1]
                    except ValueError:
                        continue
                    if currency:
                        return currency
    return None
