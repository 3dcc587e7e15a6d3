"""Extension objects, created unbound at import and bound to an app in ``create_app``."""

from __future__ import annotations

import threading

import marshmallow as ma
from flask_cors import CORS
from flask_smorest import Api

from . import errors
from .common.routing import ObjectIdConverter, objectid_schema
from .common.schemas import BLANK, QueryArgsSchema


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
    """flask-smorest's Api with our error contract and the OpenAPI paths built on demand.

    Documenting every view costs more than a hundred milliseconds, which Lambda would
    pay at every cold start; the spec is only needed when someone asks for it. The
    response component flask-smorest registers for every HTTP status (~60 error
    schemas resolved) waits for the same moment.
    """

    ERROR_SCHEMA = ErrorSchema

    def init_app(self, app, *, spec_kwargs=None):
        self._undocumented = []
        self._documenting = threading.Lock()
        self._responses_registered = False
        super().init_app(app, spec_kwargs=spec_kwargs)

    def _register_responses(self):
        if self._responses_registered:
            super()._register_responses()

    def handle_http_exception(self, error):
        return errors.handle_http_exception(error)

    def register_blueprint(self, blp, *, parameters=None, **options):
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)
        self._undocumented.append((blp, name, parameters))

    def document(self):
        """Add every registered blueprint's views to the spec (once); return the spec."""
        with self._documenting:
            if not self._responses_registered:
                self._responses_registered = True
                self._register_responses()
            while self._undocumented:
                blp, name, parameters = self._undocumented.pop(0)
                blp.register_views_in_doc(
                    self, self._app, self.spec, name=name, parameters=parameters
                )
                self.spec.tag({"name": name, "description": blp.description})
        return self.spec

    def _openapi_json(self):
        self.document()
        return super()._openapi_json()


def blank_is_absent(converter, field, ret, **kwargs) -> dict:
    """Document that a :class:`QueryArgsSchema` argument may be sent empty (meaning absent)."""
    if ret.get("in") != "query" or not isinstance(field.parent, QueryArgsSchema):
        return {}
    blank = {"type": "string", "pattern": BLANK}
    schema = ret["schema"]
    if schema.get("type") == "array":  # each repeated value may be blank (it is dropped)
        schema = {**schema, "items": {"anyOf": [schema.get("items", {}), blank]}}
    else:
        schema = {"anyOf": [schema, blank]}
    description = ret.get("description", "")
    note = "An empty value counts as absent."
    return {
        "schema": schema,
        "allowEmptyValue": True,
        "description": f"{description} {note}".strip(),
    }


CORS_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# Listed explicitly: browsers never let "*" cover Authorization.
CORS_HEADERS = ["Authorization", "X-User-ID", "Content-Type", "X-Request-ID"]


def init_app(app) -> FinanceApi:
    """Bind a fresh Api (and its OpenAPI spec) and CORS to this app; return the Api."""
    app.url_map.converters["objectid"] = ObjectIdConverter
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
    api.register_converter(ObjectIdConverter, objectid_schema)
    api.ma_plugin.converter.add_parameter_attribute_function(blank_is_absent)
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
