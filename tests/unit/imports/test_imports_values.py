"""Dates and numbers as statements write them, read back exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from finance.imports.values import (
    decimal_from_float,
    detect_date_order,
    detect_decimal_mark,
    excel_serial_date,
    looks_like_date,
    looks_like_number,
    make_date_parser,
    make_number_parser,
    parse_date_text,
    parse_number_text,
)

# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mark", "value", "currency"),
    [
        ("1.234,56", ",", "1234.56", None),
        ("1,234.56", ".", "1234.56", None),
        ("1 234,56", ",", "1234.56", None),
        ("1\u00a0234,56", ",", "1234.56", None),  # no-break space
        ("1\u2009234,56", ",", "1234.56", None),  # thin space
        ("1\u202f234,56", ",", "1234.56", None),  # narrow no-break space
        ("1'234.50", ".", "1234.50", None),
        ("(12.30)", ".", "-12.30", None),
        ("12.30-", ".", "-12.30", None),
        ("+5", ".", "5", None),
        ("\u22127,50", ",", "-7.50", None),  # Unicode minus
        ("-1.145,00", ",", "-1145.00", None),
        ("€ 12,00", ",", "12.00", "EUR"),
        ("-€12.00", ".", "-12.00", "EUR"),
        ("£1,000", ".", "1000", "GBP"),
        ("USD 1,000.00", ".", "1000.00", "USD"),
        ("1 234,56 zł", ",", "1234.56", "PLN"),
        ("4.261,55 €", ",", "4261.55", "EUR"),
        ("12.30 DR", ".", "-12.30", None),
        ("12.30 CR", ".", "12.30", None),
        ("1.234.567,8", ",", "1234567.8", None),
        ("250 kr", ",", "250", None),
        (",5", ",", "0.5", None),
    ],
)
def test_parse_number_text(text, mark, value, currency):
    assert parse_number_text(text, mark) == (Decimal(value), currency)


@pytest.mark.parametrize(
    "text", ["=1+2", "@SUM(A1:A3)", "abc", "12,34,5", "1.2.3", "NaN", "1e5", "", "--", "12 apples"]
)
def test_parse_number_text_refuses_what_is_not_a_number(text):
    with pytest.raises(ValueError):
        parse_number_text(text, ".")


def test_number_parser_handles_typed_cells_and_empties():
    parse = make_number_parser(",")
    assert parse("") is None
    assert parse(None) is None
    assert parse("   ") is None
    assert parse("3,95") == Decimal("3.95")
    assert parse(7) == Decimal(7)
    assert parse(-34.2) == Decimal("-34.2")
    with pytest.raises(ValueError):
        parse(dt.date(2024, 1, 1))


@pytest.mark.parametrize(
    ("value", "text"),
    [(-34.2, "-34.2"), (468.1, "468.1"), (-702.0, "-702"), (0.1 + 0.2, "0.3"), (1e-7, "1E-7")],
)
def test_decimal_from_float_uses_the_shortest_decimal(value, text):
    assert decimal_from_float(value) == Decimal(text)
    assert isinstance(decimal_from_float(value), Decimal)


def test_decimal_from_float_refuses_nan():
    with pytest.raises(ValueError):
        decimal_from_float(float("nan"))


@pytest.mark.parametrize(
    ("cells", "mark"),
    [
        (["3,95", "1189,00"], ","),
        (["-120.00", "4172.50"], "."),
        (["1.234,56"], ","),
        (["1,234.56"], "."),
        (["1,234,567"], "."),
        (["0,125"], ","),
        (["1,234"], None),  # thousands or decimals: the cell does not say
        (["12", "-7"], None),
    ],
)
def test_detect_decimal_mark(cells, mark):
    assert detect_decimal_mark(cells) == mark


def test_number_shapes():
    assert looks_like_number("-1.145,00")
    assert looks_like_number("(12.30)")
    assert not looks_like_number("DE02120300001020304055")  # an IBAN
    assert not looks_like_number("US0378331005")  # an ISIN


# --- dates -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "order", "value"),
    [
        ("31.12.2024", "DMY", "2024-12-31"),
        ("12/31/2024", "MDY", "2024-12-31"),
        ("2024-12-31", "DMY", "2024-12-31"),
        ("2024-07-01 09:12:44", "DMY", "2024-07-01"),
        ("2024-07-01T09:12:44Z", "DMY", "2024-07-01"),
        ("20241231", "DMY", "2024-12-31"),
        ("29.03.24", "DMY", "2024-03-29"),
        ("03/29/24", "MDY", "2024-03-29"),
        ("45292", "DMY", "2024-01-01"),  # an Excel serial written as text
        ("31 Dec 2024", "DMY", "2024-12-31"),
        ("Dec 31, 2024", "DMY", "2024-12-31"),
        ("31-Dec-24", "DMY", "2024-12-31"),
        ("31. Dezember 2024", "DMY", "2024-12-31"),  # DE
        ("3. März 2024", "DMY", "2024-03-03"),
        ("1er janvier 2024", "DMY", "2024-01-01"),  # FR
        ("5 févr. 2024", "DMY", "2024-02-05"),
        ("31 de diciembre de 2024", "DMY", "2024-12-31"),  # ES
        ("15 agosto 2024", "DMY", "2024-08-15"),  # IT
        ("15 mrt 2024", "DMY", "2024-03-15"),  # NL
        ("31 grudnia 2024", "DMY", "2024-12-31"),  # PL genitive
        ("1 października 2024", "DMY", "2024-10-01"),
        ("12 de setembro de 2024", "DMY", "2024-09-12"),  # PT
        ("3 maj 2024", "DMY", "2024-05-03"),  # SV
    ],
)
def test_parse_date_text(text, order, value):
    assert parse_date_text(text, order) == dt.date.fromisoformat(value)


@pytest.mark.parametrize("text", ["32.01.2024", "2024-13-01", "Zinsen 03/2024", "hello", "17:40"])
def test_parse_date_text_refuses_non_dates(text):
    with pytest.raises(ValueError):
        parse_date_text(text, "DMY")


def test_looks_like_date_is_a_shape_test():
    assert looks_like_date("29.03.24")
    assert looks_like_date(dt.datetime(2024, 1, 1, 10, 0))
    assert not looks_like_date("Zinsen Tagesgeld 03/2024")
    assert not looks_like_date("12345678")  # eight digits that are no date
    assert not looks_like_date("Top-up by *4521")


@pytest.mark.parametrize(
    ("column", "order"),
    [
        (["03/29/2024", "03/28/2024"], "MDY"),  # 29 > 12: month first
        (["29/03/2024", "28/03/2024"], "DMY"),
        (["2024-03-29"], "YMD"),
        # Every part <= 12: the reading under which the column is sorted wins ...
        (["01/04/2024", "05/04/2024", "02/05/2024"], "DMY"),
        (["04/01/2024", "04/05/2024", "05/02/2024"], "MDY"),
        # ... then the one that spans fewer days.
        (["01/04/2024", "02/04/2024", "10/04/2024", "12/04/2024"], "DMY"),
        (["04/01/2024", "04/02/2024", "04/10/2024", "04/12/2024"], "MDY"),
        (["05.06.2024"], "DMY"),  # nothing tells: day first
    ],
)
def test_detect_date_order_uses_the_whole_column(column, order):
    assert detect_date_order(column) == order


def test_date_parser_reads_typed_cells_and_serials():
    parse = make_date_parser("DMY")
    assert parse(dt.datetime(2024, 5, 20, 8, 15)) == dt.date(2024, 5, 20)
    assert parse(dt.date(2024, 4, 30)) == dt.date(2024, 4, 30)
    assert parse(45292.75) == dt.date(2024, 1, 1)
    assert parse("") is None
    assert parse(None) is None
    assert excel_serial_date(60) == dt.date(1900, 2, 28)  # Lotus' phantom 29 Feb is skipped
    with pytest.raises(ValueError):
        parse(512345011.0)  # an id, far outside Excel's calendar


def test_date_parser_with_an_explicit_format():
    parse = make_date_parser(fmt="%Y.%d.%m")
    assert parse("2024.31.12") == dt.date(2024, 12, 31)
    assert parse("2024.31.12 10:00") == dt.date(2024, 12, 31)
    with pytest.raises(ValueError):
        parse("31.12.2024")


# --- properties ------------------------------------------------------------------------------

# (thousands separator, decimal mark) of the locale styles statements use.
STYLES = [
    (",", "."),
    (".", ","),
    (" ", ","),
    ("\u00a0", ","),
    ("\u202f", ","),
    ("'", "."),
    ("", "."),
    ("", ","),
]
NEGATIVES = ["-{}", "({})", "{}-", "\u2212{}"]


def _format(value: Decimal, group: str, mark: str, negative: str) -> str:
    digits = f"{abs(value):.2f}"
    whole, cents = digits.split(".")
    grouped = ""
    while len(whole) > 3:
        grouped = group + whole[-3:] + grouped
        whole = whole[:-3]
    text = whole + grouped + mark + cents
    return negative.format(text) if value < 0 else text


amounts = st.decimals(
    min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
)


@settings(deadline=None)  # shared CI machines: timing is not the property
@given(
    values=st.lists(amounts, min_size=1, max_size=20),
    style=st.sampled_from(STYLES),
    negative=st.sampled_from(NEGATIVES),
)
def test_formatted_decimals_parse_back_to_the_same_value(values, style, negative):
    group, mark = style
    cells = [_format(v, group, mark, negative) for v in values]
    assert detect_decimal_mark(cells) == mark
    parse = make_number_parser(mark)
    assert [parse(c) for c in cells] == values


DATE_FORMATS = [
    "%d.%m.%Y",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%Y-%m-%d",
    "%d-%m-%Y",
    "%d/%m/%y",
    "%m/%d/%y",
    "%Y%m%d",
    "%d %b %Y",
    "%b %d, %Y",
    "%d-%b-%y",
]
MONTHS_DE = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


@st.composite
def statement_dates(draw):
    """A sorted run of dates over a few weeks, like one statement's."""
    start = draw(st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2060, 12, 1)))
    offsets = draw(st.lists(st.integers(0, 45), min_size=1, max_size=25))
    return [start + dt.timedelta(days=o) for o in sorted(offsets)]


@settings(deadline=None)
@given(dates=statement_dates(), fmt=st.sampled_from(DATE_FORMATS))
def test_formatted_date_column_parses_back_to_the_same_dates(dates, fmt):
    if "%d" in fmt and "%m" in fmt and not fmt.startswith("%Y"):
        # Day and month are both numbers: only a day > 12 somewhere can tell them apart.
        assume(any(d.day > 12 for d in dates))
    column = [d.strftime(fmt) for d in dates]
    parse = make_date_parser(detect_date_order(column))
    assert [parse(c) for c in column] == dates


@settings(deadline=None)
@given(dates=statement_dates())
def test_german_month_names_parse_back(dates):
    column = [f"{d.day}. {MONTHS_DE[d.month - 1]} {d.year}" for d in dates]
    parse = make_date_parser(detect_date_order(column))
    assert [parse(c) for c in column] == dates


@settings(deadline=None)
@given(
    day=st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2099, 12, 31)),
    fmt=st.sampled_from(DATE_FORMATS),
)
def test_explicit_date_format_parses_any_single_date(day, fmt):
    if "%y" in fmt:
        assume(1969 <= day.year <= 2068)
    assert make_date_parser(fmt=fmt)(day.strftime(fmt)) == day


# --- the parsers' fast paths read exactly what the general path reads -----------------------


@settings(deadline=None)
@given(
    text=st.from_regex(
        r"\A[+-]?[0-9]{1,3}(?:[.,][0-9]{3}){0,7}(?:[.,][0-9]{1,12})?\Z", fullmatch=True
    ),
    mark=st.sampled_from([".", ","]),
)
def test_the_number_fast_paths_agree_with_the_general_parser(text, mark):
    try:
        expected = parse_number_text(text, mark)[0]
    except ValueError:
        with pytest.raises(ValueError):
            make_number_parser(mark)(text)
        return
    got = make_number_parser(mark)(text)
    assert (got, str(got)) == (expected, str(expected))


@pytest.mark.parametrize(
    ("text", "mark", "value"),
    [
        ("-19.021,01", ",", "-19021.01"),
        ("+1.234.567", ",", "1234567"),
        ("1,234,567.891", ".", "1234567.891"),
        ("-0.000,00", ",", "0.00"),
        ("1,000,000,000,000,000,000.5", ".", None),  # 19 integer digits: over the limit
    ],
)
def test_grouped_numbers(text, mark, value):
    parse = make_number_parser(mark)
    if value is None:
        with pytest.raises(ValueError):
            parse(text)
    else:
        assert str(parse(text)) == str(parse_number_text(text, mark)[0]) == value


@settings(deadline=None)
@given(text=st.text(min_size=6, max_size=40))
def test_text_without_digits_is_never_a_date(text):
    if not any("0" <= ch <= "9" for ch in text):
        assert not looks_like_date(text)
