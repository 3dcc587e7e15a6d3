"""Shared helpers of the structured readers: amounts, decoding, text and type rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from finance.imports.formats._common import (
    booking_text_kind,
    decode_text,
    is_own_transfer,
    join_wrapped,
    parse_amount,
    signed_type,
    swift_kind,
)
from finance.imports.types import ImportOptions, ImportRejected


@pytest.mark.parametrize(
    ("text", "mark", "expected"),
    [
        ("2,875.40", None, "2875.40"),
        ("-1.234,56", None, "-1234.56"),
        ("1 234,56", None, "1234.56"),
        ("1'234.50", None, "1234.50"),
        ("(12.30)", None, "-12.30"),
        ("12.30-", None, "-12.30"),
        ("+7", None, "7"),
        ("12,5", None, "12.5"),
        ("1,234", None, "1234"),
        ("0,125", None, "0.125"),
        ("1.234.567", None, "1234567"),
        ("2876,40", ",", "2876.40"),
        ("500,", ",", "500"),
        ("1.234", ",", "1234"),
        ("1,234", ".", "1234"),
        (".5", None, "0.5"),
    ],
)
def test_parse_amount(text, mark, expected):
    value = parse_amount(text, mark)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)


@pytest.mark.parametrize("text", ["", "-", "abc", "NaN", "Infinity", "1e5", "1,2,3.4.5", "--1"])
def test_parse_amount_refuses_non_numbers(text):
    with pytest.raises(ValueError):
        parse_amount(text)


@settings(max_examples=200, derandomize=True)
@given(
    st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False),
    st.sampled_from(["us", "eu", "plain", "swiss"]),
)
def test_parse_amount_round_trips_written_styles(value, style):
    text = f"{abs(value):,.2f}"
    if style == "eu":
        text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    elif style == "plain":
        text = text.replace(",", "")
    elif style == "swiss":
        text = text.replace(",", "'")
    text = ("-" if value < 0 else "") + text
    mark = "," if style == "eu" else "."
    assert parse_amount(text, mark) == value


def test_decode_text_order():
    options = ImportOptions()
    assert decode_text("Müller".encode(), options) == ("Müller", "utf-8")
    assert decode_text("Müller €".encode("cp1252"), options) == ("Müller €", "cp1252")
    assert decode_text(b"\x81\x8d", options) == ("\x81\x8d", "latin-1")  # undefined in cp1252
    assert decode_text(b"\xef\xbb\xbfhi", options) == ("hi", "utf-8-sig")
    assert decode_text("hi".encode("utf-16"), options)[0] == "hi"
    assert decode_text("Ł".encode("cp1250"), ImportOptions(encoding="cp1250")) == ("Ł", "cp1250")
    warnings: list[str] = []
    assert decode_text(b"caf\xe9", options, "utf-8", warnings)[1] == "cp1252"
    assert warnings
    with pytest.raises(ImportRejected):
        decode_text(b"x", ImportOptions(encoding="klingon"))


def test_join_wrapped():
    assert join_wrapped(["abc", "def"], 3) == "abcdef"
    assert join_wrapped(["ab", "cd"], 3) == "ab cd"
    assert join_wrapped([], 3) == ""


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (("TRANSFER TO SAVINGS XXXX4471",), True),
        (("CITI CARD ONLINE PAYMENT",), True),
        (("CREDIT CARD PAYMENT - THANK YOU",), True),
        (("CARD PAYMENT TO TESCO STORES 3217",), False),  # a UK card purchase
        (("ONLINE-UEBERWEISUNG", "Uebertrag Tagesgeld"), True),
        (("UMBUCHUNG",), True),
        (("ZELLE FROM PAT LEE",), False),
        (("COMCAST CABLE", "WEB PMT"), False),
        ((None, ""), False),
    ],
)
def test_own_transfer_phrases(texts, expected):
    assert is_own_transfer(*texts) is expected


def test_booking_text_and_swift_kinds():
    assert booking_text_kind("ENTGELTABSCHLUSS") == "fee"
    assert booking_text_kind("ABSCHLUSS") == "interest"
    assert booking_text_kind("Kapitalertragsteuer") == "tax"
    assert booking_text_kind("GUTSCHRIFT") is None
    assert swift_kind("NCHG") == swift_kind("CHG+805") == "fee"
    assert swift_kind("NINT+805") == "interest"
    assert swift_kind("NMSC") == swift_kind(None) == "cash"
    assert signed_type("interest", Decimal("-1")) == "FEE"
    assert signed_type("fee", Decimal("1")) == "DEPOSIT"
    assert signed_type("transfer", Decimal("0")) == "TRANSFER_IN"
