"""Schema fields shared across domains.

The OpenAPI document states what a field accepts as exactly as a JSON Schema can,
so a client (or a fuzzer) that follows it is never refused for a value it was
told is fine: trimmed strings that must not be blank carry :data:`NOT_BLANK`,
input amounts carry their range, and query arguments that treat a blank value
as absent say so (see ``finance.extensions``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma

from .fields import fits_decimal128, without_negative_zero

# What ``str.strip()`` removes, as the body of a regex character class, spelled out
# because Python, ECMA-262 and Rust regexes each mean something else by ``\s``.
_WS = (
    r"\t\n\u000b\u000c\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000-\u200a"
    r"\u2028\u2029\u202f\u205f\u3000"
)
#: A JSON Schema ``pattern`` (unanchored): at least one character that is not whitespace.
NOT_BLANK = f"[^{_WS}]"
#: A JSON Schema ``pattern``: empty or only whitespace.
BLANK = f"^[{_WS}]*$"


class TrimmedString(ma.fields.String):
    """A string with surrounding whitespace removed; blank becomes empty (for Length to catch).

    ``Length`` validators check the value as sent as well as the trimmed one, so the
    documented ``maxLength`` counts every character; with ``Length(min=1...)`` the
    documented schema also says "not blank".
    """

    def __init__(self, **kwargs):
        validators = kwargs.get("validate") or []
        if not isinstance(validators, list | tuple):
            validators = [validators]
        self._lengths = [v for v in validators if isinstance(v, ma.validate.Length)]
        if any((length.min or 0) >= 1 for length in self._lengths):
            kwargs["metadata"] = {"pattern": NOT_BLANK, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        for length in self._lengths:
            length(result)
        return result.strip()


class StrictBoolean(ma.fields.Boolean):
    """A JSON ``true``/``false`` only: ``"true"``, ``1`` or ``"yes"`` in a JSON body are refused.

    (Query strings keep marshmallow's ``Boolean``: there every value is text.)
    """

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Amount(ma.fields.Decimal):
    """An exact decimal that fits Decimal128: finite, at most 34 significant digits.

    Loads from JSON numbers (parsed as Decimal, never float) or numeric strings;
    dumps as a JSON number. Input fields document their range with :func:`amount_range`.
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
        # copy_abs(), not abs(): abs() rounds to the context's 28 digits.
        if result.copy_abs() >= self.MAX_ABS or not fits_decimal128(result):
            raise self.make_error("too_large")
        return without_negative_zero(result)


def amount_range(*, minimum: int | None = None, exclusive: bool = False) -> dict[str, Any]:
    """OpenAPI bounds of an input :class:`Amount` (responses may sum past them, so only inputs).

    By default ``-1e15 < x < 1e15``; ``minimum=0`` for "zero or positive", with
    ``exclusive=True`` for "positive".
    """
    bounds: dict[str, Any] = {"maximum": Amount.MAX_ABS, "exclusiveMaximum": True}
    if minimum is None:
        bounds.update(minimum=-Amount.MAX_ABS, exclusiveMinimum=True)
    else:
        bounds.update(minimum=minimum, exclusiveMinimum=exclusive)
    return bounds


class CurrencyCode(ma.fields.String):
    """ISO-4217: three letters, any case in, upper-cased on the way in."""

    _LETTERS = re.compile(r"[A-Za-z]{3}")
    PATTERN = f"^[{_WS}]*[A-Za-z]{{3}}[{_WS}]*$"

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "validate", ma.validate.Regexp(r"^[A-Z]{3}$", error="Must be a 3-letter ISO-4217 code.")
        )
        kwargs["metadata"] = {
            "pattern": f"^[{_WS}]*[A-Za-z]{{3}}[{_WS}]*$",
            **kwargs.get("metadata", {}),
        }
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not self._LETTERS.fullmatch(text):  # before upper(): "ß".upper() is "SS"
            raise ma.ValidationError("Must be a 3-letter ISO-4217 code.")
        return text.upper()


class ObjectIdString(ma.fields.String):
    """A 24-hex id in a query or body; malformed ids fail validation with a clear message."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "validate", ma.validate.Regexp(r"^[0-9a-fA-F]{24}$", error="Must be a 24-character id.")
        )
        kwargs.setdefault("metadata", {"example": "65f1c0ffee0123456789abcd"})
        super().__init__(**kwargs)


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


class QueryArgsSchema(ma.Schema):
    """Query arguments where an empty (or blank) value counts as absent.

    ``?wallet_id=&q=`` means "no filter", as web clients build such URLs; the
    OpenAPI document says so for every parameter of such a schema.
    """

    @ma.pre_load
    def _drop_empty(self, data: Mapping[str, Any], **kwargs) -> dict[str, Any]:
        kept = {}
        for key in data:
            value = data[key]
            if isinstance(value, list):
                value = [item for item in value if not _blank(item)]
            if not (_blank(value) or value == []):
                kept[key] = value
        return kept
