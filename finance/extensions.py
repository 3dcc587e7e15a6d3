"""Extension objects, created unbound at import and bound to an app in ``create_app``."""

from __future__ import annotations

import marshmallow as ma
from flask_cors import CORS
from flask_smorest import Api

from . import errors


class ErrorSchema(ma.Schema):
    """The one error shape every non-2xx response carries (api-contract.md)."""

    detail = ma.fields.String(
        required=True, metadata={"description": "A sentence to show the user."}
    )
    code = ma.fields.Integer(required=True, metadata={"example": 422})
    status = ma.fields.String(required=True, metadata={"example": "Unprocessable Entity"})
    errors = ma.fields.Dict(
        metadata={"description": "Field name → list of problems, for validation errors."}
    )
    request_id = ma.fields.String(metadata={"description": "Quote it when reporting a problem."})


class FinanceApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)


CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Listed explicitly: browsers never let "*" cover Authorization.
CORS_HEADERS = ["Authorization", "X-User-ID", "Content-Type", "X-Request-ID"]


def init_app(app) -> FinanceApi:
    """Bind a fresh Api (and its OpenAPI spec) and CORS to this app; return the Api."""
    api = FinanceApi(
        app,
        spec_kwargs={
            "info": {
                "description": (
                    "Wallets, statement import, de-duplicated transactions and stats. "
                    "Every /api call except health and log shipping needs "
                    "`Authorization: Bearer <ID token>`."
                )
            },
            "servers": [{"url": "/"}],
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    )
    CORS(
        app,
        resources={r"/api/*": {}, r"/health": {}},
        origins=list(app.config["CORS_ORIGINS"]),
        methods=CORS_METHODS,
        allow_headers=CORS_HEADERS,
        expose_headers=["X-Request-ID", "Retry-After"],
        supports_credentials=False,
        max_age=600,
    )
    return api
