"""Request and response shapes for wallets."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..common.schemas import Amount, CurrencyCode, TrimmedString

NAME_MAX = 100
DESCRIPTION_MAX = 500


class WalletCreateSchema(ma.Schema):
    name = TrimmedString(
        required=True,
        validate=validate.Length(min=1, max=NAME_MAX),
        metadata={"description": "Unique per user, ignoring case.", "example": "Broker"},
    )
    description = TrimmedString(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=DESCRIPTION_MAX),
        metadata={"example": "Long-term ETF portfolio"},
    )
    base_currency = CurrencyCode(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "Default currency of manual transactions and imports.",
            "example": "EUR",
        },
    )


class WalletUpdateSchema(ma.Schema):
    """Only the fields sent change; `null` clears the description or base currency."""

    name = TrimmedString(validate=validate.Length(min=1, max=NAME_MAX))
    description = TrimmedString(allow_none=True, validate=validate.Length(max=DESCRIPTION_MAX))
    base_currency = CurrencyCode(allow_none=True)


def _total(name: str, description: str) -> Amount:
    return Amount(attribute=f"totals.{name}", required=True, metadata={"description": description})


class WalletSchema(ma.Schema):
    """A wallet with the totals kept on every write (never computed on read)."""

    id = ma.fields.String(required=True, metadata={"example": "65f1c0ffee0123456789abcd"})
    name = ma.fields.String(required=True, metadata={"example": "Broker"})
    description = ma.fields.String(allow_none=True)
    base_currency = ma.fields.String(allow_none=True, metadata={"example": "EUR"})
    balance = _total("balance", "Signed sum of the wallet's transaction amounts.")
    transaction_count = ma.fields.Integer(attribute="totals.count", required=True)
    deposits = _total("deposits", "Sum of deposits and incoming transfers.")
    withdrawals = _total("withdrawals", "Sum of withdrawals and outgoing transfers (positive).")
    income = _total("income", "Sum of sells, dividends and interest.")
    fees = _total("fees", "Sum of fees (positive).")
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


class _Itself(ma.fields.Nested):
    """Nests the object being dumped under another key (``data``)."""

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return obj


class WalletCreatedSchema(WalletSchema):
    """The new wallet, bare and again under ``data``, for both web client variants."""

    data = _Itself(WalletSchema, required=True)


class WalletListSchema(ma.Schema):
    wallets = ma.fields.List(ma.fields.Nested(WalletSchema), required=True)
    count = ma.fields.Integer(required=True, metadata={"example": 2})
