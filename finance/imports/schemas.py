"""Upload form, import records and the import report."""

from __future__ import annotations

import json

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import validate

from ..common.pagination import PageArgsSchema, page_schema
from ..common.schemas import CurrencyCode, ObjectIdString, TrimmedString

DELIMITERS = (",", ";", "\t", "|")


class MappingJson(ma.fields.String):
    """A JSON object of file column → canonical field, sent as a form field."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            mapping = json.loads(text)
        except ValueError:
            raise ma.ValidationError("Must be a JSON object of column → field.") from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ma.ValidationError("Must be a JSON object of column → field.")
        return mapping


class UploadFileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "The statement file."})


class UploadFormSchema(ma.Schema):
    wallet_id = ObjectIdString(load_default=None)
    wallet_name = TrimmedString(load_default=None, validate=validate.Length(max=100))
    currency = CurrencyCode(
        load_default=None,
        metadata={
            "description": "Currency of the amounts when the file does not say.",
            "example": "EUR",
        },
    )
    sheet = TrimmedString(load_default=None, validate=validate.Length(min=1, max=100))
    header_row = ma.fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=10_000),
        metadata={"description": "1-based row of the column header."},
    )
    delimiter = ma.fields.String(load_default=None, validate=validate.OneOf(DELIMITERS))
    encoding = TrimmedString(
        load_default=None, validate=validate.Length(min=2, max=40), metadata={"example": "cp1252"}
    )
    date_format = TrimmedString(
        load_default=None, validate=validate.Length(min=2, max=40), metadata={"example": "%d.%m.%Y"}
    )
    decimal_mark = ma.fields.String(load_default=None, validate=validate.OneOf((".", ",")))
    mapping = MappingJson(
        load_default=None,
        metadata={
            "description": "JSON object of file column → canonical field.",
            "example": '{"Buchungstag": "date", "Betrag (€)": "transaction_amount"}',
        },
    )


class DryRunArgsSchema(ma.Schema):
    dry_run = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "Return the report and the first 20 normalised rows; store nothing."
        },
    )


class DetectFormSchema(ma.Schema):
    wallet_id = ObjectIdString(load_default=None)
    wallet_name = TrimmedString(load_default=None, validate=validate.Length(max=100))


class DetectCurrencySchema(ma.Schema):
    needs_currency = ma.fields.Boolean(required=True)
    detected_currency = ma.fields.String(allow_none=True, metadata={"example": "EUR"})
    wallet_currency = ma.fields.String(allow_none=True)


class FailedRowSchema(ma.Schema):
    id = ma.fields.String()
    wallet_id = ma.fields.String()
    import_id = ma.fields.String()
    row_number = ma.fields.Integer()
    date = ma.fields.String(allow_none=True)
    asset_name = ma.fields.String(allow_none=True)
    asset_type = ma.fields.String(allow_none=True)
    transaction_type = ma.fields.String(allow_none=True)
    volume = ma.fields.Decimal(allow_none=True, as_string=False)
    item_price = ma.fields.Decimal(allow_none=True, as_string=False)
    transaction_amount = ma.fields.Decimal(allow_none=True, as_string=False)
    currency = ma.fields.String(allow_none=True)
    fee = ma.fields.Decimal(allow_none=True, as_string=False)
    error_type = ma.fields.String()
    error_message = ma.fields.String()
    field_name = ma.fields.String(allow_none=True)
    value = ma.fields.String(allow_none=True)
    suggestion = ma.fields.String(allow_none=True)
    processed = ma.fields.Boolean()
    raw = ma.fields.Dict()


class _ImportFacts(ma.Schema):
    """What an import detected and counted: shared by the upload report and the record."""

    file_name = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)
    sha256 = ma.fields.String(allow_none=True)
    format = ma.fields.String(allow_none=True, metadata={"example": "csv"})
    encoding = ma.fields.String(allow_none=True)
    delimiter = ma.fields.String(allow_none=True)
    sheet = ma.fields.String(allow_none=True)
    header_row = ma.fields.Integer(allow_none=True)
    header = ma.fields.List(ma.fields.String())
    mapping = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    mapping_source = ma.fields.String(allow_none=True, metadata={"example": "heuristic"})
    confidence = ma.fields.Float(allow_none=True)
    currency = ma.fields.String(allow_none=True)
    overrides = ma.fields.Dict()
    rows = ma.fields.Integer()
    imported = ma.fields.Integer()
    duplicates = ma.fields.Integer()
    duplicate_rows = ma.fields.List(ma.fields.Integer())
    failed = ma.fields.Integer()
    notes = ma.fields.List(ma.fields.String())
    duration_ms = ma.fields.Float(allow_none=True)
    status = ma.fields.String(metadata={"example": "completed"})


class ReportSchema(_ImportFacts):
    import_id = ma.fields.String()
    dry_run = ma.fields.Boolean()
    preview = ma.fields.List(ma.fields.Dict())
    failed_transactions = ma.fields.List(ma.fields.Nested(FailedRowSchema))


class UploadResponseSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "success"})
    message = ma.fields.String(
        required=True, metadata={"example": "Imported 12 of 13 rows, 1 already present."}
    )
    data = ma.fields.Nested(ReportSchema, required=True)


class ImportSchema(_ImportFacts):
    id = ma.fields.String(required=True)
    wallet_id = ma.fields.Function(lambda imp: str(imp.wallet), metadata={"type": "string"})
    error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class ImportListArgsSchema(PageArgsSchema):
    wallet_id = ObjectIdString(load_default=None)


ImportPageSchema = page_schema(ImportSchema, "imports", "ImportPage")
