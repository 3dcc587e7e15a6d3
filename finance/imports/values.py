"""Cell values as the file shows them → exact Python values (``date``, ``Decimal``).

A statement writes every date and number of a column in one locale, so the
style (day/month order, decimal mark) is decided once from a sample of the
column and then applied to every cell by a small cached parser: deciding per
cell would read ``03/04/2024`` differently on different rows, and re-detecting
per cell would be slow. Numbers are always ``Decimal``; spreadsheet doubles
are rounded to their shortest representation so ``-34.2`` stays ``-34.2``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import lru_cache
from typing import Any

# ISO 4217 (active codes) plus the crypto codes statements use as a currency.
_ISO_CODES = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN
    BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD
    FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP
    MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW
    ZWL XAU XAG BTC ETH USDT USDC
"""
ISO_CURRENCIES = frozenset(_ISO_CODES.split())

# Currencies whose minor unit is not 1/100 (for "amount in cents" columns).
MINOR_UNIT_EXPONENT = {"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0, "BHD": 3, "KWD": 3}

# Longest first so "US$" wins over "$" and "zł" is removed whole.
CURRENCY_SYMBOLS = {
    "US$": "USD",
    "C$": "CAD",
    "A$": "AUD",
    "R$": "BRL",
    "zł": "PLN",
    "Kč": "CZK",
    "€": "EUR",
    "£": "GBP",
    "$": "USD",
    "¥": "JPY",
    "₹": "INR",
    "₽": "RUB",
    "₺": "TRY",
    "₴": "UAH",
    "₪": "ILS",
    "₩": "KRW",
    "₿": "BTC",
    "Ft": "HUF",
    "Fr.": "CHF",
}
_SYMBOL_RE = re.compile(
    "|".join(re.escape(s) for s in sorted(CURRENCY_SYMBOLS, key=len, reverse=True))
)
_WORD_RE = re.compile(r"[^\W\d_]+")
# Currency words that name no single ISO code (kr is SEK, NOK, DKK or ISK): accepted, not used.
_UNIT_WORDS = frozenset({"kr", "kn", "lei", "lv"})

# Grouping marks: spaces of every width and apostrophes of every shape.
_GROUPING = " \u00a0\u2009\u202f\u2007'\u2019\u02bc`"
_SPACES = dict.fromkeys(map(ord, _GROUPING), None)
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-"})
# Digits are ASCII 0-9 only. Python's ``\d``, ``int()`` and ``Decimal()`` also read
# Arabic-Indic (U+0663), fullwidth (U+FF13) and mathematical (U+1D7D1) digits; a cell that
# merely looks like 100 is refused as "not a number" (an error row), never booked as 100.
_PLAIN = {
    ".": re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?"),
    ",": re.compile(r"[+-]?[0-9]+(?:,[0-9]+)?"),
}
_GROUPED = {
    ".": re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+"),
    ",": re.compile(r"(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,[0-9]*)?|,[0-9]+"),
}
# The common grouped shapes (``-19.021,01``, ``1,234.56``): read directly, as
# :func:`parse_number_text` would read them, without its general path.
_GROUPED_FAST = {
    ".": re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?"),
    ",": re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?"),
}
_CCY = r"(?:[A-Z]{3}|zł|kr|Kč|Ft|US\$|R\$|C\$|A\$|[€£$¥₹₽₺₴₪₩₿])"
_NUMBERISH = re.compile(
    rf"[\s(+\-\u2212]*{_CCY}?\s*[+\-\u2212]?[0-9][0-9\s\u00a0\u2009\u202f'\u2019.,]*"
    rf"(?:\s*{_CCY})?\s*(?:[)\-]|\s(?:DR|CR|Dr|Cr))?\s*"
)
# A digit other than 0-9 (Arabic-Indic, fullwidth, mathematical bold, ...).
_FOREIGN_DIGIT = re.compile(r"(?![0-9])\d")

# Every amount, price and quantity is below 10**18 with at most 28 significant digits: far
# beyond any real balance, and exact both in Python's decimal arithmetic (28 digits) and in
# MongoDB's Decimal128 (34 digits). ``1e308`` or a 500-digit cell is refused as a value,
# so it can never reach storage (where it would not fit) or the kept totals.
MAX_INTEGER_DIGITS = 18
MAX_SIGNIFICANT_DIGITS = 28
_LONG_NUMBER = MAX_INTEGER_DIGITS  # shorter texts cannot break either limit


def in_range(value: Decimal) -> Decimal:
    """``value`` when it is finite and within the limits above; ``ValueError`` otherwise."""
    if not value.is_finite():
        raise ValueError("not a finite number")
    if not value:
        return value
    if value.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"{value} is larger than any amount, price or quantity")
    digits = value.as_tuple().digits
    significant = len(digits)
    while digits[significant - 1] == 0:
        significant -= 1
    if significant > MAX_SIGNIFICANT_DIGITS:
        raise ValueError(f"{value} has more than {MAX_SIGNIFICANT_DIGITS} significant digits")
    return value


_DR_CR = re.compile(r"\s*\b(dr|cr|db|d|c)\.?\s*$", re.IGNORECASE)


def decimal_from_float(value: float) -> Decimal:
    """Shortest exact decimal for a spreadsheet double (``-34.2`` not ``-34.2000000000000028``).

    ``repr`` already gives the shortest text that reads back as the same
    double; only when that text is long (arithmetic residue such as
    ``0.30000000000000004``) is it rounded to 10 decimals first.
    """
    if not math.isfinite(value) or abs(value) >= 10.0**MAX_INTEGER_DIGITS:
        raise ValueError("not a finite number below 10**18")
    if value.is_integer():
        return Decimal(int(value))
    text = repr(value)
    return Decimal(text if len(text) < 16 else repr(round(value, 10)))


def looks_like_number(text: str) -> bool:
    """Cheap shape test used while scoring rows; the parser has the final word."""
    return bool(text) and len(text) < 40 and _NUMBERISH.fullmatch(text) is not None


def detect_decimal_mark(samples: Iterable[str]) -> str | None:
    """``"."`` or ``","`` from evidence in the cells, ``None`` when nothing tells.

    Evidence: the last of two different separators is the decimal mark
    (``1.234,56``); a lone separator followed by other than three digits is
    one (``3,95``); a separator repeated (``1,234,567``) is a thousands mark.
    """
    votes = {".": 0, ",": 0}
    for raw in samples:
        text = raw.strip()
        dot, comma = text.rfind("."), text.rfind(",")
        if dot >= 0 and comma >= 0:
            votes["." if dot > comma else ","] += 2
            continue
        pos = max(dot, comma)
        if pos < 0:
            continue
        sep = text[pos]
        tail = text[pos + 1 :]
        digits_after = len(tail) - len(tail.lstrip("0123456789"))
        if text.count(sep) > 1:
            votes["," if sep == "." else "."] += 1
        elif digits_after != 3 or text[:pos].lstrip("+-(").strip() in ("0", ""):
            votes[sep] += 1
    if votes["."] == votes[","]:
        return None
    return "." if votes["."] > votes[","] else ","


def parse_number_text(text: str, decimal_mark: str = ".") -> tuple[Decimal, str | None]:
    """Parse one written number; returns the value and any currency named in the cell.

    Accepts grouping by ``.`` ``,`` space, NBSP, thin space or apostrophe,
    ``(12.30)`` and ``12.30-`` negatives, a leading ``+``, ``-`` or Unicode minus, a
    trailing ``DR``/``CR`` and currency symbols or ISO codes around the digits.
    Raises ``ValueError`` for anything else, including formulas.
    """
    s = text.strip().translate(_MINUS)
    if _PLAIN[decimal_mark].fullmatch(s):
        return in_range(Decimal(s.replace(",", "."))), None
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    dr_cr = _DR_CR.search(s)
    if dr_cr and any(ch.isdigit() for ch in s[: dr_cr.start()]):
        negative ^= dr_cr.group(1).lower() in ("dr", "db", "d")
        s = s[: dr_cr.start()]
    currency = None
    symbol = _SYMBOL_RE.search(s)
    if symbol:
        currency = CURRENCY_SYMBOLS[symbol.group()]
        s = s[: symbol.start()] + " " + s[symbol.end() :]
    for word in _WORD_RE.findall(s):
        if word.upper() in ISO_CURRENCIES:
            currency = word.upper()
        elif word.lower() not in _UNIT_WORDS:
            raise ValueError(f"unexpected text {word!r} in a number")
        s = s.replace(word, " ", 1)
    s = s.translate(_SPACES)
    if s.endswith("-"):
        negative, s = not negative, s[:-1]
    if s.startswith(("+", "-")):
        negative ^= s[0] == "-"
        s = s[1:]
    if not _GROUPED[decimal_mark].fullmatch(s):
        raise ValueError(f"{text!r} is not a number")
    other = "," if decimal_mark == "." else "."
    # The regex admits only digits and one decimal mark here, so Decimal cannot fail.
    value = in_range(Decimal(s.replace(other, "").replace(decimal_mark, ".").rstrip(".") or "0"))
    return (-value if negative else value), currency


def make_number_parser(decimal_mark: str = ".") -> Callable[[Any], Decimal | None]:
    """A per-column parser: empty → ``None``, typed cells kept exact, text parsed."""
    plain = _PLAIN[decimal_mark]
    grouped = _GROUPED_FAST[decimal_mark]
    group_mark = "," if decimal_mark == "." else "."

    def parse(cell: Any) -> Decimal | None:
        if cell is None:
            return None
        kind = type(cell)
        if kind is str:
            if not cell:
                return None
            if plain.fullmatch(cell):
                value = Decimal(cell.replace(",", "."))
                return in_range(value) if len(cell) > _LONG_NUMBER else value
            if grouped.fullmatch(cell):
                negative = cell[0] == "-"
                value = Decimal(cell.lstrip("+-").replace(group_mark, "").replace(",", "."))
                if len(cell) > _LONG_NUMBER:
                    in_range(value)
                return -value if negative else value
            if not cell.strip():
                return None
            return parse_number_text(cell, decimal_mark)[0]
        if kind is float:
            return decimal_from_float(cell)
        if kind is int:
            return in_range(Decimal(cell))
        raise ValueError(f"{cell!r} is not a number")

    return parse


# --- dates ---------------------------------------------------------------------------------

_MONTH_NAMES = {
    1: "january jan januar janner janvier enero gennaio januari stycznia styczen janeiro",
    2: "february feb februar fevrier febrero febbraio februari lutego luty fevereiro",
    3: "march mar marz maerz mars marzo maart mrt marca marzec marco",
    4: "april apr avril abril aprile kwietnia kwiecien",
    5: "may mai mayo maggio mei maja maj maio",
    6: "june jun juni juin junio giugno czerwca czerwiec junho",
    7: "july jul juli juillet julio luglio lipca lipiec julho",
    8: "august aug aout agosto augustus sierpnia sierpien augusti",
    9: "september sep sept septembre septiembre setiembre settembre wrzesnia wrzesien setembro",
    10: "october oct oktober octobre octubre ottobre pazdziernika pazdziernik outubro okt",
    11: "november nov novembre noviembre listopada listopad novembro",
    12: "december dec dezember decembre diciembre dicembre grudnia grudzien dezembro dez",
}


def _month_lookup() -> dict[str, int]:
    """Full names, listed abbreviations and every unambiguous prefix of three letters or more."""
    named = {name: month for month, names in _MONTH_NAMES.items() for name in names.split()}
    prefixes: dict[str, set[int]] = {}
    for name, month in named.items():
        for end in range(3, len(name)):
            prefixes.setdefault(name[:end], set()).add(month)
    unique = {p: months.pop() for p, months in prefixes.items() if len(months) == 1}
    return unique | named


MONTHS = _month_lookup()

_NUMERIC_DATE = re.compile(
    r"([0-9]{1,4})([./\-\s])([0-9]{1,2})\2([0-9]{1,4})(?:(?:[T\s,]|\.?\s).*)?"
)
_COMPACT_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})(?:[T\s].*)?")
_SERIAL = re.compile(r"[0-9]{5}(?:\.[0-9]+)?")
_ASCII_DIGIT = re.compile(r"[0-9]")
_LETTER = re.compile(r"[^\W\d_]")  # what _DATE_TOKENS reads as (part of) a word
_DATE_TOKENS = re.compile(r"[0-9]+|[^\W\d_]+")  # other digits belong to neither: dropped
_FILLER = frozenset(
    {"de", "of", "the", "le", "er", "st", "nd", "rd", "th", "del", "di", "den", "der", "am"}
)
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


@lru_cache(maxsize=4096)
def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word.lower()).encode("ascii", "ignore").decode()


def _year(text: str) -> int:
    year = int(text)
    if len(text) <= 2:
        return 2000 + year if year < 69 else 1900 + year
    return year


def excel_serial_date(serial: float) -> dt.date:
    """Excel's 1900 date system (serial 1 = 1900-01-01, with Lotus' phantom 29 Feb)."""
    if not 1 <= serial < 2958466:
        raise ValueError(f"{serial!r} is outside Excel's date range")
    return (_EXCEL_EPOCH + dt.timedelta(days=int(serial))).date()


def _is_number(token: str) -> bool:
    return token.isascii() and token.isdigit()  # "²".isdigit() is true too


def _named_month_date(text: str) -> dt.date:
    # Tokens are ASCII digit runs or letter runs; words are folded once (and cached: the
    # same words recur down a column), digit runs are never filler words.
    tokens: list[str] = []
    month_at = -1
    for token in _DATE_TOKENS.findall(text):
        if _is_number(token):
            tokens.append(token)
            continue
        folded = _fold(token)
        if folded in _FILLER:
            continue
        if month_at < 0 and folded in MONTHS:
            month_at = len(tokens)
        tokens.append(token)
    numbers = [t for t in tokens[: month_at + 3] if _is_number(t)] if month_at >= 0 else []
    if month_at < 0 or len(numbers) < 2:
        raise ValueError(f"{text!r} is not a date")
    month = MONTHS[_fold(tokens[month_at])]
    first, second = numbers[0], numbers[1]
    if len(first) == 4:  # 2024-Dec-31
        return dt.date(int(first), month, int(second))
    return dt.date(_year(second), month, int(first))


def parse_date_text(text: str, order: str = "DMY") -> dt.date:
    """One written date in the given day/month order (ignored when the year comes first)."""
    s = text.strip()
    match = _NUMERIC_DATE.fullmatch(s)
    if match:
        a, _, b, c = match.groups()
        if len(a) == 4 or order == "YMD":
            return dt.date(_year(a), int(b), int(c))
        if order == "MDY":
            return dt.date(_year(c), int(a), int(b))
        return dt.date(_year(c), int(b), int(a))
    match = _COMPACT_DATE.fullmatch(s)
    if match:
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    if _SERIAL.fullmatch(s):
        return excel_serial_date(float(s))
    return _named_month_date(s)


def looks_like_date(cell: Any) -> bool:
    """Cheap shape test used while scoring rows and columns."""
    if isinstance(cell, dt.date):
        return True
    if type(cell) is not str or not 6 <= len(cell) <= 40:
        return False
    s = cell.strip()
    if not _ASCII_DIGIT.search(s):
        return False  # every date shape below needs digits: free text is not tokenised
    try:
        if _NUMERIC_DATE.fullmatch(s):
            return _valid_any_order(s)
        if _COMPACT_DATE.fullmatch(s):
            parse_date_text(s)
        elif (s[:1].isalpha() or s[:1].isdigit()) and _LETTER.search(s):
            _named_month_date(s)  # needs a month's name: never tried on digits alone
        else:
            return False
    except ValueError:
        return False
    return True


def _valid_any_order(text: str) -> bool:
    for order in ("DMY", "MDY"):
        try:
            parse_date_text(text, order)
        except ValueError:
            continue
        return True
    return False


def detect_date_order(samples: Iterable[Any]) -> str:
    """``DMY``, ``MDY`` or ``YMD`` for a whole column.

    The order every cell allows wins. When both day-first and month-first fit
    every cell (all parts ≤ 12), the reading under which the column is sorted
    wins, then the one spanning fewer days (statements cover weeks, not
    months), then day-first, the most common order worldwide.
    """
    pairs: list[tuple[str, str, str]] = []
    year_first = 0
    for cell in samples:
        if type(cell) is not str:
            continue
        match = _NUMERIC_DATE.fullmatch(cell.strip())
        if not match:
            continue
        a, _, b, c = match.groups()
        if len(a) == 4:
            year_first += 1
        else:
            pairs.append((a, b, c))
    if year_first and not pairs:
        return "YMD"
    fits = {order: all(_valid(p, order) for p in pairs) for order in ("DMY", "MDY")}
    if fits["DMY"] != fits["MDY"]:
        return "DMY" if fits["DMY"] else "MDY"
    if not fits["DMY"] or len(pairs) < 2:
        return "DMY"
    readings = {order: [_pair_date(p, order) for p in pairs] for order in ("DMY", "MDY")}
    sorted_ = {order: _monotonic(dates) for order, dates in readings.items()}
    if sorted_["DMY"] != sorted_["MDY"]:
        return "DMY" if sorted_["DMY"] else "MDY"
    span = {order: (max(d) - min(d)).days for order, d in readings.items()}
    return "MDY" if span["MDY"] < span["DMY"] else "DMY"


def _valid(parts: tuple[str, str, str], order: str) -> bool:
    try:
        _pair_date(parts, order)
    except ValueError:
        return False
    return True


def _pair_date(parts: tuple[str, str, str], order: str) -> dt.date:
    a, b, c = parts
    day, month = (a, b) if order == "DMY" else (b, a)
    return dt.date(_year(c), int(month), int(day))


def _monotonic(dates: list[dt.date]) -> bool:
    pairs = list(itertools.pairwise(dates))
    return all(x <= y for x, y in pairs) or all(x >= y for x, y in pairs)


def make_date_parser(order: str = "DMY", fmt: str | None = None) -> Callable[[Any], dt.date | None]:
    """A per-column parser with a cache: statements repeat the same dates many times."""
    cache: dict[str, dt.date] = {}

    def from_text(text: str) -> dt.date:
        if fmt:
            s = text.strip()
            if _FOREIGN_DIGIT.search(s):  # strptime reads "1٣" as 13
                raise ValueError(f"{text!r} is not a date")
            try:
                return dt.datetime.strptime(s, fmt).date()
            except ValueError:
                return dt.datetime.strptime(s.split()[0], fmt).date()
        return parse_date_text(text, order)

    def parse(cell: Any) -> dt.date | None:
        if type(cell) is str:
            found = cache.get(cell)
            if found is not None:
                return found
            if not cell.strip():
                return None
            try:
                value = from_text(cell)
            except (IndexError, OverflowError) as exc:
                raise ValueError(f"{cell!r} is not a date") from exc
            if len(cache) < 100_000:
                cache[cell] = value
            return value
        if isinstance(cell, dt.datetime):
            return cell.date()
        if isinstance(cell, dt.date):
            return cell
        if cell is None:
            return None
        if type(cell) in (int, float):
            return excel_serial_date(cell)
        raise ValueError(f"{cell!r} is not a date")

    return parse
