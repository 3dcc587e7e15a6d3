"""Schema fields shared across domains."""

from __future__ import annotations

import marshmallow as ma


class TrimmedString(ma.fields.String):
    """A string with surrounding whitespace removed; blank becomes empty (for Length to catch)."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip()


class Amount(ma.fields.Decimal):
    """An exact decimal that fits Decimal128: finite, at most 34 significant digits.

    Loads from JSON numbers (parsed as Decimal, never float) or numeric strings;
    dumps as a JSON number.
    """

    MAX_ABS = 10**15

    default_error_messages = {
        "too_large": "Must be between -1e15 and 1e15 with at most 34 significant digits.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_nan", False)
        kwargs.setdefault("as_string", False)
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        result = super()._deserialize(value, attr, data, **kwargs)
        if abs(result) >= self.MAX_ABS or len(result.as_tuple().digits) > 34:
            raise self.make_error("too_large")
        return result + 0  # normalises -0 to 0


class CurrencyCode(ma.fields.String):
    """ISO-4217: three letters, upper-cased on the way in."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "validate", ma.validate.Regexp(r"^[A-Z]{3}$", error="Must be a 3-letter ISO-4217 code.")
        )
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).strip().upper()


class ObjectIdString(ma.fields.String):
    """A 24-hex id in a query or body; malformed ids fail validation with a clear message."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "validate", ma.validate.Regexp(r"^[0-9a-fA-F]{24}$", error="Must be a 24-character id.")
        )
        kwargs.setdefault("metadata", {"example": "65f1c0ffee0123456789abcd"})
        super().__init__(**kwargs)
