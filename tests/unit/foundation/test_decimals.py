"""``decimal_from_128`` must be ``Decimal128.to_decimal()`` exactly: sign, digits, exponent."""

from __future__ import annotations

from decimal import Decimal

from bson import Decimal128
from bson.decimal128 import create_decimal128_context
from hypothesis import given
from hypothesis import strategies as st

from finance.common.decimals import decimal_from_128

CONTEXT = create_decimal128_context()


def same(value: Decimal128) -> None:
    fast, reference = decimal_from_128(value), value.to_decimal()
    assert fast.as_tuple() == reference.as_tuple()
    assert str(fast) == str(reference)


@given(
    st.integers(min_value=0, max_value=10**34 - 1),
    st.integers(min_value=-6176, max_value=6111),
    st.booleans(),
)
def test_any_finite_value_decodes_like_bson(coefficient, exponent, negative):
    value = Decimal((int(negative), tuple(int(d) for d in str(coefficient)), exponent))
    same(Decimal128(CONTEXT.create_decimal(value)))


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**12, min_value=-(10**12)
    )
)
def test_money_amounts_decode_like_bson(amount):
    same(Decimal128(amount))


def test_zeros_keep_their_sign_and_exponent():
    for text in ("0", "-0", "0.00", "-0.00", "0E+3", "-0E-6176"):
        same(Decimal128(text))
    assert str(decimal_from_128(Decimal128("-0.00"))) == "-0.00"


def test_special_values_take_bsons_path():
    for text in ("Infinity", "-Infinity", "NaN", "-NaN", "sNaN"):
        same(Decimal128(text))
    # The "11" combination form bson reads as a zero with a wide exponent.
    same(Decimal128.from_bid(bytes(14) + b"\x00\x60"))
    same(Decimal128.from_bid(b"\xff" * 8 + b"\xff\xff\xff\xff\xff\xff\x01\x30"))


def test_known_values():
    assert decimal_from_128(Decimal128("1234.56")) == Decimal("1234.56")
    assert str(decimal_from_128(Decimal128("-19021.01"))) == "-19021.01"
    assert str(decimal_from_128(Decimal128("1.5E+3"))) == "1.5E+3"
    assert str(decimal_from_128(Decimal128("9999999999999999999999999999999999"))) == (
        "9999999999999999999999999999999999"
    )
