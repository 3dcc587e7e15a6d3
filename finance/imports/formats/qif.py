"""Quicken Interchange Format (QIF): ``!Type:Bank``, ``Cash``, ``CCard``, ``Oth A``, ``Oth L``
and ``Invst`` sections.

A record is one line per field (first character = field code) and ends with ``^``. Cash
sections use ``D`` date, ``T``/``U`` amount, ``P`` payee, ``M`` memo, ``N`` number, ``L``
category (``[Account]`` = a transfer) and split lines ``S``/``E``/``$``: a split record is ONE
transaction with its total ``T`` (the sum of ``$`` when ``T`` is missing). Investment sections
use ``N`` action, ``Y`` security, ``Q`` quantity, ``I`` price, ``O`` commission, ``T`` total.
``!Type:Security`` lists give symbols to security names; other lists (categories, classes,
memorised transactions, prices) and ``!Account``/``!Option`` blocks are skipped.

Dates: Quicken's ``M/ D'YY`` (apostrophe = 2000+), ``M/D/YY``, ``M/D/YYYY``, ``D.M.YYYY``,
``YYYY-MM-DD``; month/day order is decided once for the whole file (a first number above 12
means day-first; ``.`` separators default to day-first, ``/`` to Quicken's month-first), or
taken from ``options.date_format``. QIF has no currency: ``options.currency``, else the wallet's.

``row_number`` is the 1-based index of the transaction record in the file; ``raw["line"]`` is
the physical line where it starts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from finance.imports.formats._common import (
    RecordError,
    check_row_limit,
    clean_text,
    decode_text,
    expand_year,
    fallback_currency,
    is_own_transfer,
    parse_amount,
    signed_type,
    split_lines,
)
from finance.imports.types import (
    CanonicalRow,
    ImportOptions,
    ImportRejected,
    ParseResult,
    RowError,
)

_CASH_SECTIONS = frozenset({"bank", "cash", "ccard", "oth a", "oth l"})
_INVEST_SECTIONS = frozenset({"invst", "port"})
# ASCII digits only: ``\d`` and int() would read Arabic-Indic or fullwidth digits as dates.
_DATE = re.compile(r"([0-9]{1,4})\s*([/.\-])\s*([0-9]{1,2})\s*(?:([/.\-'])\s*([0-9]{1,4}))?")
_DECIMAL_MARK = re.compile(r"([.,])[0-9]{1,2}$")  # a mark followed by cents ends the amount
# Category words (L, or the payee when no category says more) naming what a record is.
_CATEGORY_KINDS = (
    ("fee", re.compile(r"bank\s*charge|service\s*charge|\bfees?\b|\bcharges?\b", re.I)),
    ("interest", re.compile(r"\binterest\b|\bint\s+inc", re.I)),
    ("dividend", re.compile(r"\bdiv(?:idends?)?\b", re.I)),
    ("tax", re.compile(r"\btax(?:es)?\b", re.I)),
)
# Investment actions -> how they move cash (see _invest_rows).
_BUY = frozenset({"buy", "buyx", "cvrshrt", "cvrshrtx"})
_SELL = frozenset({"sell", "sellx", "shtsell", "shtsellx"})
_INCOME = {
    "div": "dividend",
    "divx": "dividend",
    "cglong": "dividend",
    "cglongx": "dividend",
    "cgmid": "dividend",
    "cgmidx": "dividend",
    "cgshort": "dividend",
    "cgshortx": "dividend",
    "rtrncap": "dividend",
    "rtrncapx": "dividend",
    "intinc": "interest",
    "intincx": "interest",
    "miscinc": "cash",
    "miscincx": "cash",
}
_REINVEST = {
    "reinvdiv": "dividend",
    "reinvint": "interest",
    "reinvlg": "dividend",
    "reinvmd": "dividend",
    "reinvsh": "dividend",
}
_CHARGES = frozenset({"miscexp", "miscexpx", "margint", "margintx"})
_CASH_IN = frozenset({"xin", "contribx"})
_CASH_OUT = frozenset({"xout", "withdrwx"})
_NO_CASH = frozenset({"stksplit", "reminder", "grant", "vest", "exercise", "expire"})


@dataclass(slots=True)
class _Record:
    section: str
    line: int
    fields: dict[str, list[str]]
    complete: bool

    def get(self, code: str) -> str | None:
        values = self.fields.get(code)
        return values[0].strip() if values else None

    def raw(self) -> dict[str, str]:
        raw = {code: " | ".join(values) for code, values in self.fields.items()}
        raw["line"] = str(self.line)
        raw["section"] = self.section
        return raw


def _read(lines: list[str]) -> tuple[list[_Record], dict[str, str]]:
    """Split the file into transaction records; also the security-name -> symbol list."""
    records: list[_Record] = []
    securities: dict[str, str] = {}
    section: str | None = None
    fields: dict[str, list[str]] = {}
    start = 0
    for line_no, physical in enumerate(lines, 1):
        line = physical.strip()
        if not line:
            continue
        code = line[0]
        if code == "!":
            if fields:  # a header inside an unterminated record ends it
                _close(section, fields, start, False, records, securities)
                fields = {}
            head = line[1:].lower()
            if head.startswith("type:"):
                section = head[5:].strip()
            elif head.startswith("account"):
                section = "account"  # account list entries, not transactions
            continue
        if code == "^":
            _close(section, fields, start, True, records, securities)
            fields = {}
            continue
        if not fields:
            start = line_no
        values = fields.get(code)
        if values is None:
            fields[code] = [line[1:]]
        else:
            values.append(line[1:])
    if fields:
        _close(section, fields, start, False, records, securities)
    return records, securities


def _close(
    section: str | None,
    fields: dict[str, list[str]],
    start: int,
    complete: bool,
    records: list[_Record],
    securities: dict[str, str],
) -> None:
    if section is None and "D" in fields and ("T" in fields or "U" in fields):
        section = "bank"  # a file without !Type: header; its records still say what they are
    if section in _CASH_SECTIONS or section in _INVEST_SECTIONS:
        records.append(_Record(section, start, fields, complete))
    elif section == "security" and "N" in fields and "S" in fields:
        securities[fields["N"][0].strip().lower()] = fields["S"][0].strip()


class _DateReader:
    """Reads every date of one file with one month/day order per date style.

    Numbers decide it for all dates written with the same separator (a first part above 12
    means day-first, a second part above 12 month-first; the majority outvotes a typo).
    Without such evidence the separator does: ``.`` is European day-first, ``/`` and ``-``
    Quicken's month-first.
    """

    def __init__(self, values: list[str], date_format: str | None):
        self.date_format = date_format
        votes: dict[str, int] = {}  # separator -> day-first votes minus month-first votes
        for value in values:
            m = _DATE.match(value)
            if m and len(m.group(1)) <= 2:
                first, second = int(m.group(1)), int(m.group(3))
                vote = (first > 12 >= second) - (second > 12 >= first)
                votes[m.group(2)] = votes.get(m.group(2), 0) + vote
        self.day_first = {sep: vote > 0 if vote else sep == "." for sep, vote in votes.items()}

    def __call__(self, value: str) -> dt.date:
        if self.date_format:
            if not value.isascii():  # strptime reads "1٣" as 13
                raise ValueError(value)
            return dt.datetime.strptime(value, self.date_format).date()
        m = _DATE.fullmatch(value.strip())
        if not m or m.group(5) is None:
            raise ValueError(value)
        a, sep, b, year_sep, c = m.groups()
        if len(a) == 4:  # YYYY-MM-DD
            return dt.date(int(a), int(b), int(c))
        year = int(c)
        if len(c) <= 2:
            year = 2000 + year if year_sep == "'" else expand_year(year)
        day_first = self.day_first.get(sep, sep == ".")
        month, day = (int(b), int(a)) if day_first else (int(a), int(b))
        return dt.date(year, month, day)


def _kind_from_text(*texts: str | None) -> str | None:
    for text in texts:
        if text:
            for kind, pattern in _CATEGORY_KINDS:
                if pattern.search(text):
                    return kind
    return None


def _cash_row(record: _Record, date: dt.date, amount: Decimal, base: dict) -> CanonicalRow:
    category = record.get("L")
    splits = [s.strip() for s in record.fields.get("S", [])]
    payee, memo = clean_text(record.get("P")), clean_text(record.get("M"))
    targets = [category] if category else splits
    if targets and all(t.startswith("[") for t in targets):  # [Account] = a transfer
        kind = "transfer"
    else:
        cat = category or (splits[0] if len(splits) == 1 else None)
        kind = _kind_from_text(cat, payee) or "cash"
        if kind == "cash" and is_own_transfer(payee, memo):
            kind = "transfer"
    return CanonicalRow(
        transaction_type=signed_type(kind, amount),
        transaction_amount=amount,
        asset_name=payee or memo,
        description=memo,
        **base,
    )


def _invest_rows(
    record: _Record,
    amount: Decimal | None,
    base: dict,
    securities: dict[str, str],
    decimal_mark: str,
) -> list[CanonicalRow]:
    action = (record.get("N") or "").lower()
    security = clean_text(record.get("Y"))
    base = {
        **base,
        "asset_name": security or clean_text(record.get("P")),
        "asset_symbol": securities.get((security or "").lower()),
        "description": clean_text(record.get("M")),
    }

    def number(code: str) -> Decimal | None:
        value = record.get(code)
        if not value:
            return None
        try:
            return abs(parse_amount(value, decimal_mark))
        except ValueError:
            raise RecordError(
                "invalid", code, value, f"'{value}' is not a number.", "Write numbers like 1234.56."
            ) from None

    quantity, price, commission = number("Q"), number("I"), number("O") or Decimal(0)
    if action in _NO_CASH or action.startswith("shrs"):
        if action in ("shrsin", "shrsout") and quantity is not None:
            ttype = "TRANSFER_IN" if action == "shrsin" else "TRANSFER_OUT"
            return [
                CanonicalRow(
                    transaction_type=ttype,
                    transaction_amount=Decimal(0),
                    volume=quantity,
                    item_price=price,
                    **base,
                )
            ]
        return []
    if amount is None:
        if action in _BUY | _SELL and quantity is not None and price is not None:
            gross = quantity * price
            amount = gross + commission if action in _BUY else gross - commission
        else:
            raise RecordError(
                "missing",
                "T",
                None,
                "The record has no amount (T or U).",
                "Add the T line with the transaction total.",
            )
    total = abs(amount)
    if action in _BUY:
        return [
            CanonicalRow(
                transaction_type="BUY",
                transaction_amount=-total,
                volume=quantity,
                item_price=price,
                fee=commission,
                **base,
            )
        ]
    if action in _SELL:
        return [
            CanonicalRow(
                transaction_type="SELL",
                transaction_amount=total,
                volume=quantity,
                item_price=price,
                fee=commission,
                **base,
            )
        ]
    if action in _REINVEST:
        return [
            CanonicalRow(
                transaction_type=signed_type(_REINVEST[action], total),
                transaction_amount=total,
                **base,
            ),
            CanonicalRow(
                transaction_type="BUY",
                transaction_amount=-total,
                volume=quantity,
                item_price=price,
                fee=commission,
                **base,
            ),
        ]
    if action in _INCOME:
        return [
            CanonicalRow(
                transaction_type=signed_type(_INCOME[action], total),
                transaction_amount=total,
                **base,
            )
        ]
    if action in _CHARGES:
        return [CanonicalRow(transaction_type="FEE", transaction_amount=-total, **base)]
    if action in _CASH_IN or action in _CASH_OUT:
        signed = total if action in _CASH_IN else -total
        return [
            CanonicalRow(
                transaction_type=signed_type("cash", signed), transaction_amount=signed, **base
            )
        ]
    # "Cash" and anything unknown: the signed amount as written.
    return [
        CanonicalRow(
            transaction_type=signed_type("cash", amount), transaction_amount=amount, **base
        )
    ]


def _decimal_mark(records: list[_Record], options: ImportOptions) -> str:
    if options.decimal_mark in (".", ","):
        return options.decimal_mark
    for record in records:
        value = record.get("T") or record.get("U")
        if value:
            m = _DECIMAL_MARK.search(value)
            if m:
                return m.group(1)
    return "."


def _record_rows(
    record: _Record,
    index: int,
    read_date: _DateReader,
    decimal_mark: str,
    currency: str | None,
    securities: dict[str, str],
) -> list[CanonicalRow]:
    """The rows of one record (none for a non-cash investment action); raises RecordError."""
    raw = record.raw()
    if not record.complete:
        raise RecordError(
            "format",
            "^",
            None,
            "The file ends before this record's '^' terminator: it looks truncated.",
            "Download or export the QIF file again.",
        )
    date_s = record.get("D")
    if not date_s:
        raise RecordError("missing", "D", None, "The record has no date (D line).", "Add a D line.")
    try:
        date = read_date(date_s)
    except ValueError:
        raise RecordError(
            "invalid",
            "D",
            date_s,
            f"'{date_s}' is not a date.",
            "QIF dates look like 4/ 5'24, 04/05/2024 or 2024-04-05.",
        ) from None
    amount_s = record.get("T") or record.get("U")
    amount: Decimal | None = None
    try:
        if amount_s:
            amount = parse_amount(amount_s, decimal_mark)
        splits = [parse_amount(v, decimal_mark) for v in record.fields.get("$", ())]
    except ValueError:
        raise RecordError(
            "invalid",
            "T" if amount is None and amount_s else "$",
            amount_s if amount is None else " | ".join(record.fields.get("$", ())),
            "An amount of this record is not a number.",
            "Write amounts like -1,234.56.",
        ) from None
    base = {"row_number": index, "date": date, "currency": currency, "raw": raw}
    if record.section in _INVEST_SECTIONS:
        return _invest_rows(record, amount, base, securities, decimal_mark)
    if amount is None:
        if not splits:
            raise RecordError(
                "missing",
                "T",
                None,
                "The record has no amount (T, U or split $ lines).",
                "Add the T line with the transaction amount.",
            )
        amount = sum(splits, Decimal(0))  # a split record is one transaction: its total
    return [_cash_row(record, date, amount, base)]


def parse(data: bytes, options: ImportOptions) -> ParseResult:
    """Parse a QIF file (see the module docstring)."""
    warnings: list[str] = []
    text, encoding = decode_text(data, options, warnings=warnings)
    records, securities = _read(split_lines(text))
    if not records:
        raise ImportRejected(
            "The file is not a QIF statement: it has no bank, card, cash or investment "
            "transaction records.",
            422,
        )
    check_row_limit(len(records), options)
    read_date = _DateReader([r.get("D") or "" for r in records], options.date_format)
    decimal_mark = _decimal_mark(records, options)
    currency = fallback_currency(options)
    rows: list[CanonicalRow] = []
    errors: list[RowError] = []
    skipped = 0
    for index, record in enumerate(records, 1):
        try:
            produced = _record_rows(record, index, read_date, decimal_mark, currency, securities)
        except RecordError as err:
            errors.append(err.row_error(index, record.raw()))
            continue
        if not produced:
            skipped += 1
        rows.extend(produced)
    if skipped:
        warnings.append(
            f"Skipped {skipped} investment record(s) without a cash effect "
            "(stock splits, reminders, ...)."
        )
    return ParseResult(
        format="qif",
        rows=rows,
        errors=errors,
        total_rows=len(records) - skipped,
        encoding=encoding,
        mapping_source="format",
        currency=None,
        warnings=warnings,
    )
