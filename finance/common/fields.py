"""Document fields for exact money and calendar dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bson import Decimal128
from mongoengine import DateTimeField, Decimal128Field

from .decimals import decimal_from_128


def fits_decimal128(value: Decimal) -> bool:
    """Whether ``value`` is stored as Decimal128 exactly: 34 digits, exponent in range."""
    try:
        Decimal128(value)
    except ArithmeticError:  # decimal.Inexact and friends: it would be rounded
        return False
    return True


def without_negative_zero(value: Decimal) -> Decimal:
    """``-0`` (and ``-0.00``) as ``0``, every other value untouched.

    ``value + 0`` would do it too, but rounds to the context's 28 digits.
    """
    return value.copy_abs() if value.is_zero() else value


class Money(Decimal128Field):
    """An exact decimal stored as Decimal128; ``None`` stays ``None``."""

    def to_python(self, value):
        if value is None:
            return None
        if isinstance(value, Decimal128):
            return decimal_from_128(value)
        return Decimal(str(value))


class CalendarDate(DateTimeField):
    """A calendar day, stored as midnight UTC so range queries and sorting stay native."""

    def to_mongo(self, value):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
        return super().to_mongo(value)

    def to_python(self, value):
        value = super().to_python(value)
        if isinstance(value, dt.datetime):
            return value.date()
        return value

    def validate(self, value):
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return
        super().validate(value)


def day_start(value: dt.date) -> dt.datetime:
    return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
