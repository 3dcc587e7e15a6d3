"""The user document: one per (token issuer, subject), enforced by a unique index."""

from __future__ import annotations

from mongoengine import BooleanField, StringField

from ..common.models import BaseDocument


class User(BaseDocument):
    meta = {
        "collection": "users",
        "indexes": [
            {"fields": ["auth_issuer", "auth_subject"], "unique": True, "name": "uniq_identity"},
        ],
    }

    auth_issuer = StringField(required=True)
    auth_subject = StringField(required=True, max_length=128)
    email = StringField(max_length=320)
    email_verified = BooleanField(default=False)
    username = StringField(max_length=64)
    full_name = StringField(max_length=200)
    oauth_provider = StringField(max_length=40)
