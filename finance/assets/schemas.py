"""Request and response shapes for assets and their prices."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import Amount, CurrencyCode, TrimmedString, amount_range
from .models import ASSET_TYPES
from .service import isin_is_valid

MAX_PRICES_PER_REQUEST = 1000
# Decimal128 holds exponents down to -6176; no price needs more than this many places.
MAX_PRICE_PLACES = 18

_ID_EXAMPLE = "65f1c0ffee0123456789abcd"
ISIN_HELP = (
    "ISO 6166: 2 letters, 9 letters or digits and a check digit (verified); any case, "
    "spaces ignored; blank means none."
)


class Symbol(TrimmedString):
    """A ticker or coin symbol, upper-cased, at most 40 characters; blank means none."""

    default_error_messages = {"too_long": "Longer than maximum length 40."}

    def _deserialize(self, value, attr, data, **kwargs):
        result = " ".join(super()._deserialize(value, attr, data, **kwargs).split()).upper()
        if len(result) > 40:
            raise self.make_error("too_long")
        return result or None


class Isin(TrimmedString):
    """An ISIN (ISO 6166), upper-cased, spaces removed, check digit verified."""

    default_error_messages = {"isin": "Not a valid ISIN (12 characters with a valid check digit)."}

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs).replace(" ", "")
        if not result:
            return None
        result = result.upper() if result.isascii() else result  # "ß".upper() is "SS"
        if not isin_is_valid(result):
            raise self.make_error("isin")
        return result


class Price(Amount):
    """A positive exact price."""

    default_error_messages = {
        "not_positive": "Must be greater than 0.",
        "too_precise": f"At most {MAX_PRICE_PLACES} decimal places.",
    }

    def __init__(self, **kwargs):
        metadata = {**amount_range(minimum=0, exclusive=True), **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result <= 0:
            raise self.make_error("not_positive")
        if result.as_tuple().exponent < -MAX_PRICE_PLACES:
            raise self.make_error("too_precise")
        return result


# ---------------------------------------------------------------------------- in


class AssetListArgsSchema(PageArgsSchema):
    asset_type = ma.fields.String(
        validate=validate.OneOf(ASSET_TYPES), metadata={"description": "Only this type."}
    )
    q = TrimmedString(
        validate=validate.Length(max=100),
        metadata={
            "description": "Case-insensitive substring of the name, symbol or ISIN.",
            "example": "world",
        },
    )


class AssetCreateSchema(ma.Schema):
    name = TrimmedString(required=True, validate=validate.Length(min=1, max=200))
    symbol = Symbol(load_default=None, allow_none=True, metadata={"example": "EUNL"})
    isin = Isin(
        load_default=None,
        allow_none=True,
        metadata={"description": ISIN_HELP, "example": "IE00B4L5Y983"},
    )
    asset_type = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(ASSET_TYPES),
        metadata={"description": "Classified from the name, symbol and ISIN when omitted."},
    )
    currency = CurrencyCode(load_default=None, allow_none=True)


class AssetUpdateSchema(ma.Schema):
    name = TrimmedString(validate=validate.Length(min=1, max=200))
    symbol = Symbol(allow_none=True)
    isin = Isin(allow_none=True, metadata={"description": ISIN_HELP})
    asset_type = ma.fields.String(validate=validate.OneOf(ASSET_TYPES))
    currency = CurrencyCode(allow_none=True)


class PriceInSchema(ma.Schema):
    date = ma.fields.Date(required=True, metadata={"example": "2025-03-31"})
    price = Price(required=True, metadata={"example": 101.25})
    currency = CurrencyCode(
        load_default=None,
        allow_none=True,
        metadata={"description": "Defaults to the asset's currency.", "example": "EUR"},
    )


class PricesInSchema(ma.Schema):
    """``{"prices": [...]}`` (up to 1000), or a single ``{date, price, currency}``."""

    prices = ma.fields.List(
        ma.fields.Nested(PriceInSchema),
        required=True,
        validate=validate.Length(min=1, max=MAX_PRICES_PER_REQUEST),
    )

    @ma.pre_load
    def accept_a_single_price(self, data, **kwargs):
        if isinstance(data, dict) and "prices" not in data:
            errors = PriceInSchema().validate(data)
            if errors:
                raise ma.ValidationError(errors)
            return {"prices": [data]}
        return data


class PriceListArgsSchema(PageArgsSchema):
    date_from = ma.fields.Date(
        metadata={"description": "First day included.", "example": "2025-01-01"}
    )
    date_to = ma.fields.Date(
        metadata={"description": "Last day included.", "example": "2025-12-31"}
    )


# ---------------------------------------------------------------------------- out


class AssetSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": _ID_EXAMPLE})
    key = ma.fields.String(
        required=True,
        metadata={
            "description": "The asset's identity: ISIN, else upper-case symbol, else folded name.",
            "example": "IE00B4L5Y983",
        },
    )
    name = ma.fields.String(
        required=True, metadata={"example": "iShares Core MSCI World UCITS ETF"}
    )
    symbol = ma.fields.String(allow_none=True, metadata={"example": "EUNL"})
    isin = ma.fields.String(allow_none=True, metadata={"example": "IE00B4L5Y983"})
    asset_type = ma.fields.String(required=True, metadata={"enum": list(ASSET_TYPES)})
    currency = ma.fields.String(allow_none=True, metadata={"example": "EUR"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class LatestPriceSchema(ma.Schema):
    price = Amount(required=True, metadata={"example": 101.25})
    currency = ma.fields.String(required=True, metadata={"example": "EUR"})
    date = ma.fields.Date(required=True, metadata={"example": "2025-03-31"})


class AssetDetailSchema(AssetSchema):
    latest_price = ma.fields.Nested(
        LatestPriceSchema,
        allow_none=True,
        required=True,
        metadata={"description": "The most recent price, or null when none is stored."},
    )


class PriceSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": _ID_EXAMPLE})
    asset_id = ma.fields.Function(
        lambda price: str(price.asset), required=True, metadata={"type": "string"}
    )
    date = ma.fields.Date(required=True, metadata={"example": "2025-03-31"})
    price = Amount(required=True, metadata={"example": 101.25})
    currency = ma.fields.String(required=True, metadata={"example": "EUR"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class PricesStoredSchema(ma.Schema):
    prices = ma.fields.List(ma.fields.Nested(PriceSchema), required=True)
    count = ma.fields.Integer(required=True, metadata={"example": 1})


AssetPageSchema = page_schema(AssetSchema, "assets", "AssetPage")
PricePageSchema = page_schema(PriceSchema, "prices", "PricePage")
