"""Response shapes for the cached column mappings."""

from __future__ import annotations

import marshmallow as ma

from ..common.pagination import page_schema

_EXAMPLE_HEADER = ["Data operacji", "Opis operacji", "Kwota", "Waluta", "Saldo po operacji"]
_EXAMPLE_MAPPING = {
    "Data operacji": "date",
    "Opis operacji": "description",
    "Kwota": "transaction_amount",
    "Waluta": "currency",
    "Saldo po operacji": "balance",
}


class MappingSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "65f1c0ffee0123456789abcd"})
    signature = ma.fields.String(
        required=True,
        metadata={
            "description": "Hash of the normalised header cells, format and delimiter: files "
            "with this layout reuse the mapping without asking anyone.",
            "example": "3f2a9c5e0b7d41c68e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f",
        },
    )
    format = ma.fields.String(allow_none=True, metadata={"example": "csv"})
    delimiter = ma.fields.String(allow_none=True, metadata={"example": ";"})
    header = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "The column labels of the file the mapping was confirmed on.",
            "example": _EXAMPLE_HEADER,
        },
    )
    mapping = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.String(),
        required=True,
        metadata={
            "description": "Column label → canonical field; columns not listed are ignored.",
            "example": _EXAMPLE_MAPPING,
        },
    )
    source = ma.fields.String(
        required=True,
        metadata={
            "description": "Who decided the mapping: `heuristic`, `ai` (Gemini) or `override` "
            "(the user's own mapping sent with an upload).",
            "example": "ai",
        },
    )
    confidence = ma.fields.Float(allow_none=True, metadata={"example": 0.92})
    uses = ma.fields.Integer(
        required=True,
        metadata={"description": "Imports that used this mapping.", "example": 3},
    )
    last_used_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


MappingPageSchema = page_schema(MappingSchema, "mappings", "MappingPage")
