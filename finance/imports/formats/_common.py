"""Small helpers shared by the structured-format readers (decoding, amounts, types).

Private to :mod:`finance.imports.formats`; everything here is pure and allocation-light,
and every regular expression is compiled once at import.
"""

from __future__ import annotations

import codecs
import functools
import re
from decimal import Decimal
from typing import Any

from finance.imports.types import ImportOptions, ImportRejected, RowError
from finance.imports.values import in_range

# Fallback chain for text formats that carry no charset of their own (QIF, MT940): strict
# UTF-8 first (a cp1252 file is almost never valid UTF-8 once it has a non-ASCII byte), then
# cp1252 (which leaves five bytes undefined), then latin-1, which decodes anything.
TEXT_FALLBACK = ("utf-8", "cp1252", "latin-1")

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``data`` announces, if any."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    return None


def decode_text(
    data: bytes,
    options: ImportOptions,
    declared: str | None = None,
    warnings: list[str] | None = None,
) -> tuple[str, str]:
    """Decode ``data``; returns ``(text, encoding)``.

    Order: ``options.encoding`` (the caller knows best), a byte-order mark, the encoding the
    file declares (``declared``), then :data:`TEXT_FALLBACK`. A declared encoding that does not
    fit the bytes is skipped with a warning rather than trusted into mojibake.
    """
    if options.encoding:
        name = _codec_name(options.encoding)
        try:
            return data.decode(name), options.encoding
        except UnicodeDecodeError:
            if warnings is not None:
                warnings.append(
                    f"The file is not valid {options.encoding}; undecodable bytes were replaced."
                )
            return data.decode(name, errors="replace"), options.encoding
    bom = bom_encoding(data)
    if bom:
        label = bom if bom == "utf-8-sig" else _bom_label(data, bom)
        try:
            return data.decode(bom), label
        except UnicodeDecodeError as exc:
            raise ImportRejected(
                "The file starts with a Unicode byte-order mark but is not valid Unicode text.",
                422,
            ) from exc
    candidates = [declared, *TEXT_FALLBACK] if declared else list(TEXT_FALLBACK)
    for name in candidates:
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            if name == declared and warnings is not None:
                warnings.append(
                    f"The file declares {declared} but is not valid {declared}; "
                    "decoded it by trying UTF-8, then cp1252."
                )
        except LookupError:
            if warnings is not None:
                warnings.append(f"The file declares an unknown encoding ({declared}); ignored it.")
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def _codec_name(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError as exc:
        raise ImportRejected(
            f"Unknown text encoding '{name}'. Use a name such as utf-8, cp1252 or latin-1.", 422
        ) from exc


def _bom_label(data: bytes, bom: str) -> str:
    little = data[:2] == codecs.BOM_UTF16_LE
    if bom == "utf-32":
        little = data[:4] == codecs.BOM_UTF32_LE
    return f"{bom}-{'le' if little else 'be'}"


def split_lines(text: str) -> list[str]:
    """Physical lines for CR, LF or CRLF files.

    Unlike :meth:`str.splitlines` this does not split on form feeds, U+0085 or U+2028, which
    can legitimately occur inside a latin-1 decoded memo.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


# ASCII digits only (``\d`` also matches Arabic-Indic, fullwidth and mathematical digits);
# values.in_range bounds the size.
_NUMBER = re.compile(r"[0-9]{1,30}(?:\.[0-9]{0,20})?|\.[0-9]{1,20}")
_GROUP_REMOVE = str.maketrans("", "", " \u00a0\u202f'\u2019")


def clean_text(value: str | None) -> str | None:
    """Whitespace collapsed and trimmed; ``None`` for nothing.

    Leading ``= + - @`` are kept: values are stored and shown as plain text, never evaluated.
    """
    if not value:
        return None
    return " ".join(value.split()) or None


def parse_amount(text: str, decimal_mark: str | None = None) -> Decimal:
    """Parse a money amount written in a statement file into a :class:`~decimal.Decimal`.

    Accepts a leading ``+``/``-``, a trailing ``-``, ``(12.30)``, space / apostrophe / dot /
    comma thousands groups. ``decimal_mark`` is ``"."`` or ``","`` when the format fixes it;
    otherwise the mark is inferred from the value (the later of ``.`` and ``,`` when both
    occur; a lone ``,`` followed by exactly three digits is a thousands group). Raises
    :class:`ValueError` for anything else — never returns a float or NaN.
    """
    s = text.strip().translate(_GROUP_REMOVE)
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    if s[:1] in ("+", "-"):
        negative ^= s[0] == "-"
        s = s[1:]
    elif s.endswith("-"):
        negative, s = not negative, s[:-1]
    if decimal_mark == ",":
        s = s.replace(".", "").replace(",", ".")
    elif decimal_mark == ".":
        s = s.replace(",", "")
    else:
        comma, dot = s.rfind(","), s.rfind(".")
        if comma >= 0 and dot >= 0:
            # The later mark is the decimal one.
            s = s.replace(".", "").replace(",", ".") if comma > dot else s.replace(",", "")
        elif comma >= 0:
            if s.count(",") == 1 and (len(s) - comma - 1 != 3 or s.startswith("0,")):
                s = s.replace(",", ".")
            else:
                s = s.replace(",", "")
        elif s.count(".") > 1:
            s = s.replace(".", "")
    if not _NUMBER.fullmatch(s):
        raise ValueError(f"not an amount: {text!r}")
    value = in_range(Decimal(s))
    return -value if negative else value


def expand_year(two_digits: int) -> int:
    """Two-digit year to four: 00-69 are 2000-2069, 70-99 are 1970-1999."""
    return 2000 + two_digits if two_digits < 70 else 1900 + two_digits


_CURRENCY = re.compile(r"[A-Z]{3}")


def currency_code(value: str | None) -> str | None:
    """An ISO-4217-shaped code (three letters, upper-cased) or ``None``."""
    if not value:
        return None
    value = value.strip().upper()
    return value if _CURRENCY.fullmatch(value) else None


def fallback_currency(options: ImportOptions) -> str | None:
    """The currency to use when the file states none: the form field, else the wallet's."""
    return currency_code(options.currency) or currency_code(options.wallet_currency)


def check_row_limit(count: int, options: ImportOptions) -> None:
    """Refuse (413) a file with more records than ``options.max_rows``."""
    if options.max_rows is not None and count > options.max_rows:
        raise ImportRejected(
            f"The statement has more than {options.max_rows} transactions, the most one "
            "upload may carry; split it into smaller files.",
            413,
        )


# --- transaction types -------------------------------------------------------------------
# A "kind" says what a record is; the sign of its amount then picks the type, so a refund of a
# fee or a negative interest booking still follows the sign convention of api-contract.md.
KIND_TYPES = {
    "cash": ("DEPOSIT", "WITHDRAWAL"),
    "transfer": ("TRANSFER_IN", "TRANSFER_OUT"),
    "interest": ("INTEREST", "FEE"),  # negative interest is interest charged: a cost
    "dividend": ("DIVIDEND", "WITHDRAWAL"),
    "fee": ("DEPOSIT", "FEE"),  # a positive fee booking is a refund
    "tax": ("DEPOSIT", "TAX"),
}

# SWIFT transaction type codes (MT940 :61: subfield 6, CAMT proprietary codes such as
# "NCHG+805") that say more than "a payment".
SWIFT_KINDS = {"CHG": "fee", "COM": "fee", "INT": "interest", "DIV": "dividend", "TAX": "tax"}

# Moves between the holder's own accounts (README conventions): savings, card autopay, ...
_OWN_TRANSFER = re.compile(
    r"""\b(?:
        credit\s*card\s+(?:online\s+)?(?:payment|pmt|pymt)\b
      | card\s+(?:online|auto)\s*(?:payment|pmt|pymt)\b  # not "CARD PAYMENT TO <shop>"
      | autopay
      | (?:transfer|xfer|trf)\s+(?:to|from)\s+(?:my\s+|own\s+)?
        (?:savings?|checking|chequing|current|brokerage|investment)\b
      | (?:to|from)\s+savings\b
      | own\s+account
      | [uü]e?bertrag | umbuchung | eigen[uü]e?bertrag | tagesgeld
      | eigene[snm]?\s+konto
    )""",
    re.IGNORECASE | re.VERBOSE,
)


# Every phrase of _OWN_TRANSFER contains one of these: a cheap test before the regex.
_OWN_TRANSFER_HINTS = (
    "card",
    "autopay",
    "transfer",
    "xfer",
    "trf",
    "savings",
    "own",
    "bertrag",
    "umbuchung",
    "tagesgeld",
    "konto",
)


def is_own_transfer(*texts: str | None) -> bool:
    """Does any text describe a move between the holder's own accounts?"""
    text = " | ".join(t for t in texts if t)
    lower = text.lower()
    for hint in _OWN_TRANSFER_HINTS:
        if hint in lower:
            return _OWN_TRANSFER.search(text) is not None
    return False


def signed_type(kind: str, amount: Decimal) -> str:
    """Transaction type for a record of ``kind`` whose signed cash effect is ``amount``."""
    positive, negative = KIND_TYPES[kind]
    return negative if amount < 0 else positive


def swift_kind(code: str | None) -> str:
    """Kind for a SWIFT type code: ``MSC``, ``NCHG``, ``NINT+805`` -> cash, fee, interest."""
    if not code:
        return "cash"
    code = code.split("+", 1)[0].strip().upper()
    if len(code) == 4 and code[0] in "NSF":
        code = code[1:]
    return SWIFT_KINDS.get(code, "cash")


def join_wrapped(chunks: list[str], width: int) -> str:
    """Re-join text a format cut into fixed-width pieces.

    A piece that fills its whole width was cut mid-text and continues without a separator;
    a shorter piece ended a line, so a space joins it to the next.
    """
    out: list[str] = []
    for i, chunk in enumerate(chunks):
        out.append(chunk)
        if i + 1 < len(chunks) and len(chunk) < width:
            out.append(" ")
    return "".join(out)


# Booking texts (MT940 ?00, CAMT AddtlNtryInf) that name what a booking is. Checked in this
# order, so "Entgeltabschluss" is a fee and "Kapitalertragsteuer" a tax. "Abschluss" (the
# periodic account closing) is interest when positive and a charge when negative.
_BOOKING_KINDS = (
    (
        "fee",
        r"entgelt|geb[uü]e?hr|kontof[uü]e?hrung|spesen|provision|\bfees?\b|\bcharges?\b"
        r"|\bfrais\b|comisi[oó]n|commission",
    ),
    ("tax", r"steuer|\btax(?:es)?\b|imp[oô]ts?\b"),
    ("dividend", r"dividend|ertragsgutschrift|aussch[uü]e?ttung"),
    ("interest", r"zins|abschluss|\binterest\b|int[eé]r[eê]ts?\b|intereses|interessi"),
)
_BOOKING_KIND = re.compile(
    "|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _BOOKING_KINDS), re.IGNORECASE
)


@functools.lru_cache(maxsize=4096)  # a statement repeats a few dozen booking texts
def booking_text_kind(text: str | None) -> str | None:
    """Kind a bank's booking text names (fee, tax, dividend, interest), else ``None``."""
    if not text:
        return None
    kinds = {m.lastgroup for m in _BOOKING_KIND.finditer(text)}
    return next((kind for kind, _ in _BOOKING_KINDS if kind in kinds), None)


class RecordError(Exception):
    """One record cannot become a transaction; the reader turns it into a ``RowError``."""

    def __init__(
        self,
        error_type: str,
        field_name: str | None,
        value: str | None,
        message: str,
        suggestion: str | None = None,
    ):
        super().__init__(message)
        self.error_type = error_type
        self.field_name = field_name
        self.value = value
        self.message = message
        self.suggestion = suggestion

    def row_error(self, row_number: int, raw: dict[str, Any]) -> RowError:
        return RowError(
            row_number=row_number,
            error_type=self.error_type,
            message=self.message,
            field_name=self.field_name,
            value=self.value,
            suggestion=self.suggestion,
            raw=raw,
        )
