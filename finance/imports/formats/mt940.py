"""SWIFT MT940 customer statements (one or more messages per file).

Fields used: ``:20:`` (starts a message), ``:25:`` account, ``:28C:`` statement number,
``:60F:``/``:60M:`` opening balance (its currency is the statement's), ``:61:`` statement line,
``:86:`` information to the account owner, ``:62F:``/``:62M:`` closing balance. SWIFT envelope
blocks (``{1:...}{2:...}{4:`` ... ``-}``) are tolerated.

``:61:`` is ``YYMMDD[MMDD]<mark>[funds code]<amount><type code>...`` where the mark is ``C``/``D``
(credit/debit), ``RC``/``RD`` (reversal of a credit = a debit, and vice versa) or ``EC``/``ED``.
The canonical date is the booking (entry) date ``MMDD``, its year taken from the value date
and moved by one when the two straddle a new year; without an entry date, the value date.

``:86:`` is read as German ZKA-structured (``GVC?00booking text?20..?29 purpose?32?33 name``,
purpose pieces re-joined without separators), as ``/NAME/.../REMI/...`` tagged text, or as free
text. A :86: that wraps over several physical lines is re-joined first.

``row_number`` is the 1-based index of the ``:61:`` record in the file; ``raw["line"]`` is the
physical line where it starts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal

from finance.imports.formats._common import (
    RecordError,
    booking_text_kind,
    check_row_limit,
    clean_text,
    currency_code,
    decode_text,
    expand_year,
    fallback_currency,
    is_own_transfer,
    join_wrapped,
    parse_amount,
    signed_type,
    split_lines,
    swift_kind,
)
from finance.imports.types import (
    CanonicalRow,
    ImportOptions,
    ImportRejected,
    ParseResult,
    RowError,
)

_FIELD = re.compile(r":(\d{2}[A-Z]?):")
_F61 = re.compile(  # ASCII digits only: \d and int() also read U+0663, U+FF13, ...
    r"([0-9]{6})([0-9]{4})?"  # value date, entry date
    r"(R?[CD]|E[CD])"  # mark
    r"([A-Z](?=[0-9]))?"  # funds code (third letter of the currency)
    r"([0-9][0-9,.]*)"  # amount, decimal comma
    r"([A-Z][A-Z0-9]{3})?"  # transaction type: N/S/F + 3 characters
    r"(.*)",  # references
    re.DOTALL,
)
_BALANCE = re.compile(r"([CD])([0-9]{6})([A-Z]{3})([0-9][0-9,.]*)")
_SLASH_TAGS = re.compile(
    r"/(TRTP|NAME|REMI|IBAN|BIC|EREF|MARF|CSID|ADDR|ORDP|BENM|ID|CNTP|PURP|RTRN|SVCL|ULTC|ULTD"
    r"|ISDT|OCMT|CHGS|EXCH)/"
)
_SUBFIELD_SPLITTERS: dict[str, re.Pattern[str]] = {}
_NEGATIVE_MARKS = frozenset({"D", "RC", "ED"})
_UNSTRUCTURED_WIDTH = 65  # an :86: line holds 65 characters


@dataclass(slots=True)
class _Info:
    booking_text: str | None = None
    purpose: str | None = None
    name: str | None = None


@dataclass(slots=True)
class _Message:
    account: str | None = None
    number: str | None = None
    currency: str | None = None
    opening: Decimal | None = None
    closing: Decimal | None = None
    total: Decimal = Decimal(0)
    failed: bool = False


@dataclass(slots=True)
class _Record:
    row_number: int
    line: int
    f61: str
    message: _Message
    f86: list[str] = field(default_factory=list)


def _subfield_splitter(separator: str) -> re.Pattern[str]:
    pattern = _SUBFIELD_SPLITTERS.get(separator)
    if pattern is None:
        pattern = _SUBFIELD_SPLITTERS[separator] = re.compile(re.escape(separator) + r"(\d{2})")
    return pattern


def _info(lines: list[str]) -> _Info:
    if not lines:
        return _Info()
    first = lines[0]
    if len(first) > 3 and first[:3].isdigit() and not first[3].isalnum() and first[3] != " ":
        text = "".join(lines)  # physical line breaks carry no meaning between subfields
        separator = first[3]
        if f"{separator}00" in text or f"{separator}20" in text:
            return _structured(text, separator)
    text = join_wrapped([line.strip() for line in lines], _UNSTRUCTURED_WIDTH)
    if text.startswith("/") and _SLASH_TAGS.search(text):
        return _slash_tagged(text)
    return _Info(purpose=clean_text(text))


def _structured(text: str, separator: str) -> _Info:
    """German ZKA layout: ``GVC?00text?10primanota?20..?29 purpose?30 BIC?31 IBAN?32 name``."""
    parts = _subfield_splitter(separator).split(text[3:])
    booking: list[str] = []
    purpose: list[str] = []
    name: list[str] = []
    for i in range(1, len(parts) - 1, 2):
        code, value = parts[i], parts[i + 1]
        if code == "00":
            booking.append(value)
        elif "20" <= code <= "29" or "60" <= code <= "63":
            purpose.append(value)  # cut every 27 characters: re-joined without separators
        elif code in ("32", "33"):
            name.append(value)
    return _Info(
        booking_text=clean_text("".join(booking)),
        purpose=clean_text("".join(purpose)),
        name=clean_text("".join(name)),
    )


def _slash_tagged(text: str) -> _Info:
    """``/TRTP/SEPA OVERBOEKING/IBAN/.../NAME/J. Janssen/REMI/Invoice 12/`` (NL banks)."""
    parts = _SLASH_TAGS.split(text)
    values: dict[str, str] = {}
    for i in range(1, len(parts) - 1, 2):
        values.setdefault(parts[i], parts[i + 1].strip("/ "))
    name = values.get("NAME")
    if not name and "CNTP" in values:  # /CNTP/iban/bic/name/city/
        pieces = values["CNTP"].split("/")
        name = pieces[2] if len(pieces) > 2 else None
    remi = values.get("REMI", "")
    if remi.startswith("USTD//"):
        remi = remi[6:]
    return _Info(
        booking_text=clean_text(values.get("TRTP")),
        purpose=clean_text(remi) or None,
        name=clean_text(name),
    )


def _entry_date(value_date: dt.date, mmdd: str) -> dt.date:
    """Booking date ``MMDD`` in the year that puts it nearest the value date."""
    month, day = int(mmdd[:2]), int(mmdd[2:])
    best: dt.date | None = None
    for year in (value_date.year - 1, value_date.year, value_date.year + 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if best is None or abs(candidate - value_date) < abs(best - value_date):
            best = candidate
    if best is None:
        raise ValueError(mmdd)
    return best


def _row(record: _Record, options: ImportOptions, truncated: bool) -> CanonicalRow:
    """The transaction of one :61: (+ :86:) record; raises RecordError."""
    first, _, supplementary = record.f61.partition("\n")
    if truncated:
        raise RecordError(
            "format",
            ":61:",
            first,
            "The file ends inside this statement, without its closing balance: this last "
            "transaction may be cut off.",
            "Download the statement again from the bank.",
        )
    m = _F61.match(first.strip())
    if m is None:
        raise RecordError(
            "format",
            ":61:",
            first,
            "The statement line does not follow the MT940 :61: layout.",
            ":61: reads YYMMDD[MMDD], C or D, the amount with a decimal comma, then a type "
            "code such as NTRF.",
        )
    value_s, entry_s, mark, _funds, amount_s, type_code, _refs = m.groups()
    try:
        value_date = dt.date(expand_year(int(value_s[:2])), int(value_s[2:4]), int(value_s[4:]))
        date = _entry_date(value_date, entry_s) if entry_s else value_date
    except ValueError:
        raise RecordError(
            "invalid",
            "date",
            value_s + (entry_s or ""),
            f"'{value_s}{entry_s or ''}' is not a valid value date (YYMMDD) and booking "
            "date (MMDD).",
            "Check the dates at the start of the :61: line.",
        ) from None
    try:
        amount = parse_amount(amount_s, ",")
    except ValueError:
        raise RecordError(
            "invalid",
            "amount",
            amount_s,
            f"'{amount_s}' is not an MT940 amount.",
            "MT940 amounts use a decimal comma, e.g. 1234,56.",
        ) from None
    if mark in _NEGATIVE_MARKS:
        amount = -amount
    info = _info(record.f86)
    kind = swift_kind(type_code)
    if kind == "cash":
        kind = booking_text_kind(info.booking_text) or kind
    if kind == "cash" and is_own_transfer(info.booking_text, info.purpose):
        kind = "transfer"
    return CanonicalRow(
        row_number=record.row_number,
        date=date,
        transaction_type=signed_type(kind, amount),
        transaction_amount=amount,
        currency=record.message.currency or fallback_currency(options),
        asset_name=info.name or info.booking_text or clean_text(supplementary),
        description=info.purpose,
    )


def _raw(record: _Record) -> dict[str, str]:
    raw = {":61:": record.f61, ":86:": "\n".join(record.f86), "line": str(record.line)}
    if record.message.account:
        raw[":25:"] = record.message.account
    if record.message.number:
        raw[":28C:"] = record.message.number
    return raw


def _balance(value: str, message: _Message, warnings: list[str]) -> Decimal | None:
    m = _BALANCE.match(value.strip())
    if m is None:
        warnings.append(f"Could not read the balance '{value.strip()}'.")
        return None
    if message.currency is None:
        message.currency = currency_code(m.group(3))
    try:
        amount = parse_amount(m.group(4), ",")
    except ValueError:
        warnings.append(f"Could not read the balance amount '{m.group(4)}'.")
        return None
    return -amount if m.group(1) == "D" else amount


def _check_balance(message: _Message, warnings: list[str]) -> None:
    if message.opening is None or message.closing is None or message.failed:
        return
    if message.opening + message.total != message.closing:
        warnings.append(
            f"Statement {message.number or '?'} of account {message.account or '?'}: opening "
            f"balance {message.opening} plus its transactions ({message.total}) does not equal "
            f"the closing balance {message.closing}."
        )


def parse(data: bytes, options: ImportOptions) -> ParseResult:
    """Parse an MT940 file (see the module docstring)."""
    warnings: list[str] = []
    text, encoding = decode_text(data, options, warnings=warnings)

    rows: list[CanonicalRow] = []
    errors: list[RowError] = []
    currencies: list[str] = []
    message = _Message()
    pending: _Record | None = None  # the last :61:, waiting for its :86:
    tag: str | None = None  # the field being read, and its physical lines
    value: list[str] = []
    start_line = 0
    seen_fields = 0
    count = 0

    def flush_record(truncated: bool = False) -> None:
        nonlocal pending
        if pending is not None:
            raw = _raw(pending)
            try:
                row = _row(pending, options, truncated)
            except RecordError as err:
                pending.message.failed = True
                errors.append(err.row_error(pending.row_number, raw))
            else:
                row.raw = raw
                pending.message.total += row.transaction_amount
                rows.append(row)
            pending = None

    def flush_field() -> None:
        nonlocal pending, message, count
        if tag == "61":
            flush_record()
            count += 1
            check_row_limit(count, options)
            pending = _Record(count, start_line, "\n".join(v.strip() for v in value), message)
        elif tag == "86":
            if pending is not None and not pending.f86:
                pending.f86 = value
        elif tag == "20":
            flush_record()
            _check_balance(message, warnings)
            message = _Message()
        elif tag == "25":
            message.account = value[0].strip()
        elif tag in ("28C", "28"):
            message.number = value[0].strip()
        elif tag in ("60F", "60M"):
            message.opening = _balance(value[0], message, warnings)
            if message.currency and message.currency not in currencies:
                currencies.append(message.currency)
        elif tag in ("62F", "62M"):
            flush_record()
            message.closing = _balance(value[0], message, warnings)

    for line_no, line in enumerate(split_lines(text), 1):
        if line.startswith("{"):  # SWIFT envelope: {1:...}{2:...}{4:
            at = line.find("{4:")
            if at < 0:
                continue
            line = line[at + 3 :]
        stripped = line.strip()
        if stripped in ("-", "-}") or stripped.startswith("-}"):  # end of message
            flush_field()
            flush_record()
            tag = None
            continue
        m = _FIELD.match(line)
        if m:
            flush_field()
            tag, value, start_line = m.group(1), [line[m.end() :]], line_no
            seen_fields += 1
        elif tag is not None and stripped:
            value.append(line)
    flush_field()
    # A :61: still waiting at the end of the file was followed by neither a closing balance
    # (mandatory) nor a message end: the file was cut, maybe inside this very record.
    flush_record(truncated=True)
    _check_balance(message, warnings)
    if seen_fields == 0:
        raise ImportRejected(
            "The file is not an MT940 statement: it has no :20:, :25:, :60F: or :61: field.",
            422,
        )
    return ParseResult(
        format="mt940",
        rows=rows,
        errors=errors,
        total_rows=count,
        encoding=encoding,
        mapping_source="format",
        currency=currencies[0] if currencies else None,
        warnings=warnings,
    )
