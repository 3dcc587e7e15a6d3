"""Request and response shapes for registration and the caller's profile."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..common.schemas import TrimmedString


class RegisterSchema(ma.Schema):
    email = ma.fields.Email(
        load_default=None,
        allow_none=True,
        metadata={"description": "Used only when the token carries no verified email."},
    )
    username = TrimmedString(load_default=None, allow_none=True, validate=validate.Length(max=64))
    oauth_provider = TrimmedString(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"example": "google.com"},
    )
    oauth_id = TrimmedString(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Must equal the token's `sub`."},
    )


class UserUpdateSchema(ma.Schema):
    username = TrimmedString(allow_none=True, validate=validate.Length(min=1, max=64))
    full_name = TrimmedString(allow_none=True, validate=validate.Length(min=1, max=200))


class UserSchema(ma.Schema):
    id = ma.fields.String(required=True, metadata={"example": "65f1c0ffee0123456789abcd"})
    user_id = ma.fields.Function(
        lambda user: str(user.id),
        required=True,
        metadata={"type": "string", "example": "65f1c0ffee0123456789abcd"},
    )
    email = ma.fields.String(allow_none=True)
    email_verified = ma.fields.Boolean()
    username = ma.fields.String(allow_none=True)
    full_name = ma.fields.String(allow_none=True)
    oauth_provider = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
