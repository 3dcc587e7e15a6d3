"""Mapped rows → canonical transactions (or error rows), with the contract's sign convention.

Everything that holds for the whole file (decimal mark, date order, whether
the amount already contains the fee, whether amounts are unsigned) is decided
once from the sample in :func:`make_plan`; :class:`RowNormaliser` then turns
each row with precomputed column positions and parsers. Cell text is only
ever read as data: a value such as ``=SUM(A1)`` is kept as text in text
fields and refused in number fields, never evaluated.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from typing import Any

from finance.imports.mapping import DC_SIGNS, NET_WORDS, fold, header_currency, header_words
from finance.imports.readers import Row
from finance.imports.types import CanonicalRow, ImportOptions, RowError
from finance.imports.values import (
    MINOR_UNIT_EXPONENT,
    detect_date_order,
    detect_decimal_mark,
    make_date_parser,
    make_number_parser,
    parse_number_text,
)

NEGATIVE_TYPES = frozenset({"BUY", "WITHDRAWAL", "FEE", "TAX", "TRANSFER_OUT"})
POSITIVE_TYPES = frozenset({"SELL", "DEPOSIT", "DIVIDEND", "INTEREST", "TRANSFER_IN"})
# A stated type whose sign contradicts a signed file is its reversal (a fee refund, ...).
_REVERSAL = {
    "FEE": "DEPOSIT",
    "TAX": "DEPOSIT",
    "INTEREST": "FEE",
    "DIVIDEND": "WITHDRAWAL",
    "DEPOSIT": "WITHDRAWAL",
    "WITHDRAWAL": "DEPOSIT",
}

# Canonical names that say exactly what they are (a bare "TRANSFER" does not: banks use it
# for payments to third parties too, so the sign and the text decide).
_VERBATIM_TYPES = frozenset({"TRANSFER_IN", "TRANSFER_OUT", "OTHER"})

# Type-column vocabulary, checked in this order (folded text: lower-case ASCII).
_TYPE_WORDS = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        (
            "TAX",
            r"\b(?:tax|taxes|withholding|wht|steuer\w*|\w+steuer|impots?|taxe|impuesto|"
            r"retencion|imposta|ritenuta|tasse|belasting\w*|podatek|imposto|skatt)\b",
        ),
        (
            "FEE",
            r"\b(?:fees?|service charge|commissions?|gebuhr\w*|gebuehr\w*|entgelt|provision|"
            r"spesen|frais|comision(?:es)?|commission[ei]|spese|canone|kosten|prowizja|"
            r"oplata|taxa|tarifa|avgift|courtage|costs?)\b",
        ),
        (
            "DIVIDEND",
            r"\b(?:dividends?|divident|dividende|dividendo|dywidenda|utdelning|"
            r"ausschuttung|distribution)\b",
        ),
        (
            "INTEREST",
            r"\b(?:interests?|zins\w*|interets?|interes(?:es)?|interessi|rente|"
            r"odsetki|juros|ranta|coupon)\b",
        ),
        (
            "BUY",
            r"\b(?:buy|bought|purchase|kauf|wertpapierkauf|achat|compra|acquisto|koop|"
            r"aankoop|kupno|zakup|kop)\b",
        ),
        (
            "SELL",
            r"\b(?:sell|sold|sale|verkauf|wertpapierverkauf|vente|venta|vendita|verkoop|"
            r"sprzedaz|venda|salj|redemption)\b",
        ),
        (
            "OWN_TRANSFER",
            r"\b(?:pot|topup|top up|exchange|exchanged|acct xfer|xfer|"
            r"account transfer|internal transfer|own account|ubertrag|uebertrag|"
            r"umbuchung|virement interne|giroconto|traspaso|spaarrekening|"
            r"przelew wlasny|savings)\b",
        ),
        (
            "REFUND",
            r"\b(?:refund|erstattung|ruckerstattung|remboursement|reembolso|rimborso|"
            r"terugbetaling|zwrot|aterbetalning|storno)\b",
        ),
        (
            "DEPOSIT",
            r"\b(?:deposit|cash in|einzahlung|bareinzahlung|versement|ingreso|deposito|"
            r"versamento|storting|wplata|insattning)\b",
        ),
        (
            "WITHDRAWAL",
            r"\b(?:withdrawal|withdraw|atm|cash out|auszahlung|bargeldauszahlung|"
            r"geldautomat|retrait|retiro|reintegro|prelievo|opname|geldautomaat|"
            r"wyplata|bankomat|levantamento|uttag)\b",
        ),
        (
            "TRANSFER",
            r"\b(?:transfers?|uberweisung|ueberweisung|virement|transferencia|bonifico|"
            r"overschrijving|przelew|overforing)\b",
        ),
    )
)
# Free-text clues, narrower than the type vocabulary; each only counts with the right sign.
# Single words are looked up in a set (one pass over the words); phrases need the regex.
_CLUE_TEXT = {
    "TAX": """tax taxes wht steuer steuern quellensteuer kapitalertragsteuer kapitalertragssteuer
        abgeltungsteuer kirchensteuer impot impots impuesto retencion imposta ritenuta bollo
        podatek skatt""",
    "FEE": """fee fees commission gebuhr gebuhren kontofuhrungsgebuhr kontofuhrung kontoentgelt
        entgelt frais comision commissione canone kosten prowizja tarifa avgift courtage""",
    "INTEREST": """interest zinsen habenzinsen zinsertrag zinsgutschrift interets intereses
        interessi odsetki juros ranta""",
    "DIVIDEND": "dividend dividends divident dividende dividendo dywidenda utdelning ausschuttung",
    "OWN": "ubertrag uebertrag umbuchung tagesgeld spaarrekening giroconto traspaso topup",
}
_CLUE_PHRASES = re.compile(
    r"(?P<FEE>service charge|monthly charge|account charge)"
    r"|(?P<OWN>\bcr(?:edi)?t\.?\s*c(?:ar)?r?d\b.{0,20}\b(?:auto\s?pay|payment|pymt|pmt)\b"
    r"|online transfer (?:from|to)\b|transfer (?:from|to) (?:sav|savings|chk|checking)\b"
    r"|virement interne|przelew wlasny|own account|savings (?:account|pot)|\btop[ -]up\b)"
)
# Folded text is ASCII: a bytes table (C speed) turns everything but a-z into spaces, and the
# words are looked up as bytes.
_LETTERS_ONLY = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
_CLUE_BYTES = {word.encode(): name for name, words in _CLUE_TEXT.items() for word in words.split()}
_CLUE_KEYS = frozenset(_CLUE_BYTES)
# Words that can start a phrase clue: the phrase regex runs only when one is present.
_TRIGGER_BYTES = frozenset(
    {
        b"charge",
        b"autopay",
        b"credit",
        b"crt",
        b"transfer",
        b"interne",
        b"wlasny",
        b"own",
        b"savings",
        b"top",
    }
)
_CLUE_SIGN = {"TAX": -1, "FEE": -1, "INTEREST": 1, "DIVIDEND": 1, "OWN": 0}
# "OPEN BUY 4.5/6 @ 108.9200", "Bought 10 AAPL @ 150.00": units and price inside a comment.
# ASCII digits only, and no more of them than a value may have (see values.in_range); the
# lookarounds keep a longer run of digits from matching in part.
_TRADE_IN_TEXT = re.compile(
    r"(?<![0-9.,])(?P<qty>[0-9]{1,18}(?:[.,][0-9]{1,10})?)(?![0-9])(?:/[0-9]+(?:[.,][0-9]+)?)?"
    r"\s+(?:[A-Z0-9.]{1,12}\s+)?@\s*(?P<price>[0-9]{1,18}(?:[.,][0-9]{1,10})?)(?![0-9])"
)
_NOT_DIGITS = re.compile(r"[^0-9\s.,+\-()'\u2019\u00a0\u2009\u202f]")
NumberParser = Callable[[Any], Decimal | None]
ZERO = Decimal(0)
_DATE_EXAMPLES = {"DMY": "31.12.2024", "MDY": "12/31/2024", "YMD": "2024-12-31"}


@lru_cache(maxsize=4096)
def classify_type_text(text: str) -> str | None:
    """Class of a type-column value in any supported language, ``None`` if it says nothing."""
    folded = fold(text).replace("_", " ").replace("/", " ")
    for name, pattern in _TYPE_WORDS:
        if pattern.search(folded):
            return name
    return None


def text_clue(text: str, amount: Decimal) -> str | None:
    """A tax/fee/interest/dividend/own-transfer clue in free text that fits the amount's sign."""
    folded = fold(text)
    words = folded.encode("ascii", "ignore").translate(_LETTERS_ONLY).split()
    hits = _CLUE_KEYS.intersection(words)
    phrased = not _TRIGGER_BYTES.isdisjoint(words)
    if not hits and not phrased:
        return None
    found = {_CLUE_BYTES[w] for w in hits}
    if phrased:
        found.update(m.lastgroup for m in _CLUE_PHRASES.finditer(folded))
    sign = (amount > 0) - (amount < 0)
    for name in ("TAX", "FEE", "INTEREST", "DIVIDEND", "OWN"):
        if name in found and _CLUE_SIGN[name] in (0, sign):
            return name
    return None


@dataclass(slots=True)
class Plan:
    """Everything decided once per file; the per-row code only reads it."""

    header: list[str]
    columns: dict[str, list[int]]
    decimal_mark: str = "."
    date_order: str = "DMY"
    date_format: str | None = None
    amount_currency: str | None = None
    statement_currency: str | None = None
    fallback_currency: str | None = None
    fees_included: bool = False
    unsigned: bool = False
    signed_volume: bool = False

    def column(self, name: str) -> int | None:
        found = self.columns.get(name)
        return found[0] if found else None


def make_plan(
    header: list[str],
    mapping: dict[str, str],
    sample: Sequence[Row],
    options: ImportOptions,
    preamble_currency: str | None,
) -> Plan:
    """Decide the file-wide reading rules from the mapping and the sample rows."""
    columns: dict[str, list[int]] = {}
    for index, label in enumerate(header):
        name = mapping.get(label)
        if name and name != "ignore":
            columns.setdefault(name, []).append(index)
    plan = Plan(header=header, columns=columns)
    cells_of = _column_reader(sample)
    numeric = [
        c
        for name in (
            "transaction_amount",
            "fee",
            "item_price",
            "volume",
            "debit",
            "credit",
            "balance",
        )
        for i in columns.get(name, [])
        for c in cells_of(i)
        if type(c) is str
    ]
    plan.decimal_mark = options.decimal_mark or detect_decimal_mark(numeric) or "."
    plan.date_format = options.date_format
    date_col = plan.column("date")
    if date_col is not None and not options.date_format:
        plan.date_order = detect_date_order(cells_of(date_col))
    amount_col = plan.column("transaction_amount")
    if amount_col is None:
        amount_col = plan.column("transaction_amount_minor")
    if amount_col is not None:
        plan.amount_currency = header_currency(header[amount_col])
    plan.statement_currency = preamble_currency
    plan.fallback_currency = options.currency or options.wallet_currency
    parse = make_number_parser(plan.decimal_mark)
    # Unsigned: at least one amount and none negative. Both answers stop at the first
    # negative value, which a signed column shows within its first few rows.
    amounts = _parsed(cells_of(amount_col) if amount_col is not None else [], parse)
    first = next(amounts, None)
    plan.unsigned = first is not None and first >= 0 and all(a >= 0 for a in amounts)
    volume_col = plan.column("volume")
    plan.signed_volume = volume_col is not None and any(
        v < 0 for v in _parsed(cells_of(volume_col), parse)
    )
    if "fee" in columns and amount_col is not None:
        plan.fees_included = _fees_included(plan, amount_col, sample, parse)
    return plan


def _column_reader(sample: Sequence[Row]) -> Callable[[int], list[Any]]:
    def cells(index: int) -> list[Any]:
        return [cells[index] for _, cells in sample if index < len(cells)]

    return cells


def _parsed(cells: Sequence[Any], parse: NumberParser) -> Iterator[Decimal]:
    """The cells that read as numbers, read lazily (unreadable and empty ones skipped)."""
    for cell in cells:
        try:
            value = parse(cell)
        except ValueError:
            continue
        if value is not None:
            yield value


def _fees_included(plan: Plan, amount_col: int, sample: Sequence[Row], parse: NumberParser) -> bool:
    """Does the amount already contain the fee?

    The running balance answers it when the file has one (Revolut's balance
    moves by Amount - Fee); otherwise the amount header does ("Total EUR",
    "Net amount" include fees, a bare "Amount" does not).
    """
    balance_col = plan.column("balance")
    if balance_col is not None:
        votes = {True: 0, False: 0}
        rows = []
        for _, cells in sample:
            try:
                rows.append(
                    (
                        parse(_at(cells, amount_col)),
                        sum(
                            (abs(parse(_at(cells, i)) or 0) for i in plan.columns["fee"]),
                            Decimal(0),
                        ),
                        parse(_at(cells, balance_col)),
                    )
                )
            except ValueError:
                continue
        for (a1, f1, b1), (a2, f2, b2) in itertools.pairwise(rows):
            if None in (a1, a2, b1, b2):
                continue
            for amount, fee, moved in ((a2, f2, b2 - b1), (a1, f1, b1 - b2)):
                if fee and moved == amount:
                    votes[True] += 1
                elif fee and moved == amount - fee:
                    votes[False] += 1
        if votes[True] != votes[False]:
            return votes[True] > votes[False]
    return bool(NET_WORDS.intersection(header_words(plan.header[amount_col])))


def _at(cells: Sequence[Any], index: int | None) -> Any:
    if index is None or index >= len(cells):
        return ""
    return cells[index]


# Spreadsheets (and our CSV export) keep text that would run as a formula inert with a
# leading apostrophe; the text itself is what follows it. It is stored, never evaluated.
_ESCAPED_FORMULA = ("'=", "'+", "'-", "'@")


def _text(value: Any) -> str | None:
    if type(value) is str:
        value = value.strip()
        if value.startswith(_ESCAPED_FORMULA):
            value = value[1:]
        return value or None
    if value is None:
        return None
    if type(value) is float and value.is_integer():
        value = int(value)
    return str(value)


def file_currency(plan: Plan, sample: Sequence[Row]) -> str | None:
    """The currency the file itself states: preamble, amount header, or every sample row's own
    (currency column or symbol in the amount cells), ignoring the caller's fallbacks."""
    if plan.statement_currency or plan.amount_currency:
        return plan.statement_currency or plan.amount_currency
    probe = RowNormaliser(replace(plan, fallback_currency=None))
    codes = {
        row.currency
        for row in (probe(n, cells) for n, cells in sample)
        if type(row) is CanonicalRow
    }
    return codes.pop() if len(codes) == 1 and None not in codes else None


class RowNormaliser:
    """Turns one ``(row number, cells)`` into a :class:`CanonicalRow` or a :class:`RowError`.

    Rows are cut or padded to the columns the plan reads plus one blank cell, and every
    unmapped field points at that blank cell, so the per-row code indexes
    directly instead of testing which columns exist.
    """

    def __init__(self, plan: Plan):
        self.plan = plan
        self.header = plan.header
        # The blank cell sits just past the last column read: never the header's own width,
        # so a short row under a 10,000-column header is not padded to 10,000 cells.
        self.width = max((i for cols in plan.columns.values() for i in cols), default=-1) + 1
        self.blank = [""]
        self.parse_date = make_date_parser(plan.date_order, plan.date_format)
        self.parse_number = make_number_parser(plan.decimal_mark)
        self.field_of = {i: name for name, cols in plan.columns.items() for i in cols}

        def col(name: str) -> int:
            found = plan.column(name)
            return self.width if found is None else found

        self.date_col, self.type_col = col("date"), col("transaction_type")
        self.amount_col = plan.column("transaction_amount")
        if self.amount_col is None:
            self.amount_col = plan.column("transaction_amount_minor")
        self.minor = plan.column("transaction_amount") is None and self.amount_col is not None
        self.debit_col, self.credit_col = plan.column("debit"), plan.column("credit")
        # The indicator only signs amounts the file writes without a sign.
        self.dc_col = plan.column("dc_indicator") if plan.unsigned else None
        self.fee_cols = plan.columns.get("fee", [])
        self.volume_col, self.price_col = col("volume"), col("item_price")
        self.currency_col = plan.column("currency")
        self.name_col, self.symbol_col = col("asset_name"), col("asset_symbol")
        self.description_col, self.memo_col = col("description"), col("memo")
        self.party_cols = (col("payer"), col("payee"), col("counterparty"))
        present = [i for i in self.party_cols if i != self.width]
        # With one party column there is nothing to choose between per row.
        self.single_party = present[0] if len(present) == 1 else None
        self.has_party = bool(present)
        # Free text searched for clues besides the description and the type cell.
        self.clue_cols = [i for i in (self.memo_col, *self.party_cols) if i != self.width]
        # A symbol in the amount cell only matters when no column names the currency.
        self.symbols_matter = plan.amount_currency is None and self.currency_col is None

    def __call__(self, number: int, row: list[Any]) -> CanonicalRow | RowError:
        n, width = len(row), self.width
        if n == width:
            cells = row + self.blank
        elif n > width:
            cells = row[:width] + self.blank
        else:
            cells = row + self.blank * (width + 1 - n)
        try:
            date = self.parse_date(cells[self.date_col])
        except ValueError:
            return self._error(number, "format", "date", cells, self.date_col, row=row)
        if date is None:
            return self._error(number, "missing", "date", cells, self.date_col, row=row)
        if not 1900 <= date.year <= 2100:
            return self._error(number, "validation", "date", cells, self.date_col, row=row)
        amount = None
        try:
            amount, cell_currency = self._amount(cells)
            if amount is None:
                col = self.amount_col if self.amount_col is not None else self.debit_col
                raise _FieldError("missing", col, "transaction_amount")
            # Parsed in line (this runs for every row): ``col`` says which cell failed.
            parse, fee, volume, price, col = self.parse_number, ZERO, None, None, width
            try:
                for col in self.fee_cols:
                    value = parse(cells[col])
                    if value:
                        fee += abs(value)
                if self.volume_col != width:
                    col = self.volume_col
                    volume = parse(cells[col])
                if self.price_col != width:
                    col = self.price_col
                    price = parse(cells[col])
            except ValueError:
                raise self._bad_number(cells, col) from None
            currency = self._currency(cells, cell_currency)
        except _FieldError as exc:
            return self._error(number, exc.kind, exc.field, cells, exc.col, date, amount, row)
        if self.minor:
            amount = amount.scaleb(-MINOR_UNIT_EXPONENT.get(currency or "", 2))
        description = _text(cells[self.description_col])
        kind = self._type(cells, amount, volume, description)
        amount, fee = self._signed(kind, amount, fee)
        if volume is None and kind in ("BUY", "SELL"):
            volume, price = _trade_from_text(description or _text(cells[self.memo_col]), price)
        symbol = _text(cells[self.symbol_col]) if self.symbol_col != width else None
        name = _text(cells[self.name_col]) if self.name_col != width else None
        return CanonicalRow(
            row_number=number,
            date=date,
            transaction_type=kind,
            transaction_amount=amount,
            currency=currency,
            fee=fee,
            asset_name=name
            or symbol
            or (self.has_party and self._party(cells, amount))
            or _text(cells[self.memo_col])
            or description,
            asset_symbol=symbol,
            volume=None if volume is None else abs(volume),
            item_price=None if price is None else abs(price),
            description=description,
        )

    # --- fields -------------------------------------------------------------------------

    def _number(self, cells: list[Any], col: int) -> Decimal | None:
        try:
            return self.parse_number(cells[col])
        except ValueError:
            raise self._bad_number(cells, col) from None

    def _bad_number(self, cells: list[Any], col: int) -> _FieldError:
        value = cells[col]
        kind = "invalid" if type(value) is str and value.lstrip()[:1] in "=@" else "format"
        return _FieldError(kind, col, self.field_of[col])

    def _amount(self, cells: list[Any]) -> tuple[Decimal | None, str | None]:
        """Signed amount from the amount column, else the debit/credit pair."""
        currency = amount = None
        col = self.amount_col
        if col is not None:
            amount = self._number(cells, col)
            cell = cells[col]
            if self.symbols_matter and type(cell) is str and _NOT_DIGITS.search(cell):
                currency = parse_number_text(cell, self.plan.decimal_mark)[1]
        if amount is None and (self.debit_col is not None or self.credit_col is not None):
            debit = self._number(cells, self.width if self.debit_col is None else self.debit_col)
            credit = self._number(cells, self.width if self.credit_col is None else self.credit_col)
            if debit is not None or credit is not None:
                amount = abs(credit or ZERO) - abs(debit or ZERO)
        if amount is not None and self.dc_col is not None:
            sign = DC_SIGNS.get(fold(str(cells[self.dc_col]).strip()))
            if sign:
                amount = abs(amount) * sign
        return amount, currency

    def _currency(self, cells: list[Any], cell_currency: str | None) -> str | None:
        """Amount header, currency column, cell symbol, preamble, form field, wallet."""
        plan = self.plan
        if plan.amount_currency:
            return plan.amount_currency
        if self.currency_col is not None:
            code = _text(cells[self.currency_col])
            if code:
                code = code.upper()
                if len(code) == 3 and code.isalpha() and code.isascii():
                    return code
                raise _FieldError("validation", self.currency_col, "currency")
        return cell_currency or plan.statement_currency or plan.fallback_currency

    def _type(
        self, cells: list[Any], amount: Decimal, volume: Decimal | None, description: str | None
    ) -> str:
        type_text = _text(cells[self.type_col])
        if type_text and type_text.upper() in _VERBATIM_TYPES:
            # Our own vocabulary (an export of this service, an API client) means itself.
            return type_text.upper()
        stated = classify_type_text(type_text) if type_text else None
        if stated in ("BUY", "SELL"):
            return stated
        if stated in _REVERSAL:
            sign = -1 if stated in NEGATIVE_TYPES else 1
            if self.plan.unsigned or amount == 0 or (amount > 0) == (sign > 0):
                return stated
            return _REVERSAL[stated]
        if stated == "OWN_TRANSFER":
            return "TRANSFER_OUT" if amount < 0 else "TRANSFER_IN"
        if stated == "REFUND":
            return "DEPOSIT"
        if volume:
            selling = volume < 0 or (amount > 0 and not self.plan.signed_volume)
            return "SELL" if selling else "BUY"
        texts = [description, type_text, *[cells[i] for i in self.clue_cols]]
        clue = text_clue(" | ".join([t for t in texts if t and type(t) is str]), amount)
        if clue == "OWN":
            return "TRANSFER_OUT" if amount < 0 else "TRANSFER_IN"
        if clue:
            return clue
        if amount == 0:
            return "OTHER"
        return "DEPOSIT" if amount > 0 else "WITHDRAWAL"

    def _signed(self, kind: str, amount: Decimal, fee: Decimal) -> tuple[Decimal, Decimal]:
        """Apply the sign convention, then make the amount net of a separately listed fee."""
        if kind in NEGATIVE_TYPES:
            amount = -abs(amount)
        elif kind in POSITIVE_TYPES:
            amount = abs(amount)
        if fee and not self.plan.fees_included:
            amount -= fee
        if kind in ("FEE", "TAX"):
            fee = ZERO
        return amount, fee

    def _party(self, cells: list[Any], amount: Decimal) -> str | None:
        """The other side: the payer of money in, the payee of money out."""
        if self.single_party is not None:
            return _text(cells[self.single_party])
        payer, payee, party = (_text(cells[i]) for i in self.party_cols)
        return (payer if amount > 0 else payee) or party or payee or payer

    def _raw(self, row: list[Any]) -> dict[str, Any]:
        """The row's cells as read (text, or a spreadsheet's numbers and dates), by column
        label: the cells the row has, never padding up to the header's width."""
        return dict(zip(self.header, row, strict=False))

    def _error(
        self,
        number: int,
        kind: str,
        field_name: str,
        cells: list[Any],
        col: int | None,
        date: dt.date | None = None,
        amount: Decimal | None = None,
        row: list[Any] | None = None,
    ) -> RowError:
        value = cells[col] if col is not None else None
        label = self.header[col] if col is not None and col < self.width else field_name
        message, suggestion = _explain(kind, field_name, label, self.plan)
        partial = {
            k: v for k, v in (("date", date), ("transaction_amount", amount)) if v is not None
        }
        return RowError(
            row_number=number,
            error_type=kind,
            message=message,
            field_name=field_name,
            value=None if value in (None, "") else str(value),
            suggestion=suggestion,
            raw=self._raw(cells if row is None else row),
            partial=partial,
        )


class _FieldError(Exception):
    """A field that failed; carries what the error row needs."""

    def __init__(self, kind: str, col: int | None, field_name: str):
        super().__init__(kind)
        self.kind = kind
        self.col = col
        self.field = field_name


def _explain(kind: str, field_name: str, label: str, plan: Plan) -> tuple[str, str]:
    example_amount = "-1234,56" if plan.decimal_mark == "," else "-1234.56"
    if field_name == "date":
        example = plan.date_format or _DATE_EXAMPLES[plan.date_order]
        if kind == "missing":
            return (
                f"The date in column '{label}' is empty.",
                "Every transaction needs a date; fill it in or remove the row.",
            )
        if kind == "validation":
            return (
                f"The date in column '{label}' is outside 1900-2100.",
                "Check the year of this date.",
            )
        return (
            f"The value in column '{label}' is not a date this file's format can read.",
            f"Write it like the other dates in the column, e.g. {example}.",
        )
    if field_name == "currency":
        return (
            f"Column '{label}' does not hold a three-letter currency code.",
            "Use an ISO 4217 code such as EUR, USD or GBP.",
        )
    if kind == "missing":
        return (
            f"The amount in column '{label}' is empty.",
            f"Fill in the amount, e.g. {example_amount}, or remove the row.",
        )
    if kind == "invalid":
        return (
            f"Column '{label}' holds a formula or text starting with '=' or '@'; "
            "formulas are never evaluated.",
            f"Export values instead of formulas, e.g. {example_amount}.",
        )
    return (
        f"The value in column '{label}' is not a number.",
        f"Write numbers like {example_amount} (decimal mark '{plan.decimal_mark}').",
    )


def _trade_from_text(
    text: str | None, price: Decimal | None
) -> tuple[Decimal | None, Decimal | None]:
    """Units and price written in a comment (XTB: ``OPEN BUY 4.5/6 @ 108.9200``)."""
    match = _TRADE_IN_TEXT.search(text or "")
    if not match:
        return None, price
    volume = Decimal(match["qty"].replace(",", "."))
    return volume, price if price is not None else Decimal(match["price"].replace(",", "."))
