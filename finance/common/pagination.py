"""The one pagination helper: 1-based pages, a hard maximum page size, the contract's envelope."""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
from marshmallow import validate

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50
MAX_PAGE = 1_000_000


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "1-based page number."},
    )
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Items per page, at most {MAX_LIMIT}; echoed back."},
    )


def envelope(key: str, items: list[Any], total: int, page: int, limit: int) -> dict[str, Any]:
    """``{key: items, total_count, total_pages, page, limit, has_next, has_prev}``."""
    total_pages = math.ceil(total / limit) if total else 0
    return {
        key: items,
        "total_count": total,
        "total_pages": total_pages,
        "page": page,
        "limit": limit,
        "has_next": page < total_pages,
        "has_prev": page > 1,
    }


def page_schema(item_schema: type[ma.Schema], key: str, name: str) -> type[ma.Schema]:
    """A response schema for ``envelope`` around ``item_schema``, named for the OpenAPI doc."""
    fields = {
        key: ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "total_count": ma.fields.Integer(required=True),
        "total_pages": ma.fields.Integer(required=True),
        "page": ma.fields.Integer(required=True),
        "limit": ma.fields.Integer(required=True),
        "has_next": ma.fields.Boolean(required=True),
        "has_prev": ma.fields.Boolean(required=True),
    }
    return ma.Schema.from_dict(fields, name=name)
