"""The project's Blueprint: JSON bodies read by the app's JSON provider, errors documented once.

Every ``views.py`` builds its ``blp`` from :class:`Blueprint` instead of
flask-smorest's, which brings two things:

* **Request bodies parse like the rest of the app.** webargs reads JSON with the
  standard ``json`` module (floats, ``NaN`` accepted). :class:`JsonBodyParser` uses
  ``current_app.json`` (finance.json): exact ``Decimal`` numbers; ``NaN``/``Infinity``,
  duplicate keys, bad UTF-8 and absurd nesting are a 400 "The request body is not
  valid JSON."; a body sent with another content type is a 415; an operation whose
  body is required answers 400 when it is missing.
* **The error responses every operation can give are in the OpenAPI document**,
  added at documentation time where a view did not describe them itself: 401 and
  403 on blueprints passed to ``protect()`` (which also get the bearer security
  requirement), 404 on routes with a path id, 400 and 415 on JSON bodies (webargs
  already documents the 422).
"""

from __future__ import annotations

from copy import deepcopy
from functools import wraps
from typing import Any

import flask_smorest
from flask import current_app, request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from ..errors import BadRequest, UnsupportedMediaType

INVALID_JSON = "The request body is not valid JSON."
BODY_REQUIRED = "This request needs a JSON body."
NOT_JSON = "Send the request body as JSON, with Content-Type: application/json."

ERROR_DESCRIPTIONS = {
    400: "The body is missing or is not valid JSON (malformed, not UTF-8, NaN/Infinity, "
    "a repeated key or nested too deeply).",
    401: "No valid bearer token: missing, malformed, expired or not signed by a trusted key.",
    403: "The signed-in user has not registered yet (`POST /api/users/register`), or "
    "`X-User-ID` names someone else.",
    404: "Nothing with this id belongs to the caller (another user's id is a 404 too).",
    415: "The body was not sent as JSON (`Content-Type: application/json`).",
}


class JsonBodyParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies with the app's JSON provider."""

    def _raw_load_json(self, req):
        data = req.get_data(cache=True)
        if not data.strip():
            return core.missing  # no body: the schema's defaults and required fields decide
        if not is_json_request(req):
            raise UnsupportedMediaType(NOT_JSON)
        try:
            return current_app.json.loads(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadRequest(
                INVALID_JSON, errors={"json": ["The body is not UTF-8 text."]}
            ) from None
        except ValueError as exc:
            raise BadRequest(INVALID_JSON, errors={"json": [str(exc)]}) from None


def _require_body(view):
    """Refuse a missing body before webargs would read it as ``{}``."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if not request.get_data(cache=True).strip():
            raise BadRequest(BODY_REQUIRED, errors={"json": ["A JSON body is required."]})
        return view(*args, **kwargs)

    return wrapper


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the app's JSON parsing and shared error documentation."""

    ARGUMENTS_PARSER = JsonBodyParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._undocumented_endpoints: list[tuple] = []

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        # flask-smorest deep-copies each view's docs (schemas included) as the route is
        # added: ~20 ms of a cold start. Kept until the spec is asked for instead.
        self._undocumented_endpoints.append((endpoint, obj, parameters, tags, options))

    #: Set by ``finance.auth.current.protect``: ``"token"`` (a verified bearer token)
    #: or ``"user"`` (and a registered user); ``None`` for public blueprints.
    auth: str | None = None

    def arguments(self, schema, *, location="json", required=True, **kwargs):
        decorator = super().arguments(schema, location=location, required=required, **kwargs)
        if location != "json" or not required:
            return decorator
        return lambda view: _require_body(decorator(view))

    def register_views_in_doc(self, api, app, spec, *, name, parameters):
        while self._undocumented_endpoints:
            endpoint, obj, view_parameters, tags, options = self._undocumented_endpoints.pop(0)
            super()._store_endpoint_docs(endpoint, obj, view_parameters, tags, **options)
        documented = self._docs
        self._docs = self._docs_with_errors(app, name, api.ERROR_SCHEMA)
        try:
            super().register_views_in_doc(api, app, spec, name=name, parameters=parameters)
        finally:
            self._docs = documented

    def _docs_with_errors(self, app, name: str, error_schema) -> dict[str, Any]:
        docs = deepcopy(self._docs)
        for endpoint, endpoint_docs in docs.items():
            rule = next(app.url_map.iter_rules(f"{name}.{endpoint}"))
            for method, doc in endpoint_docs.items():
                if method == "parameters":
                    continue
                codes = set()
                if rule.arguments:
                    codes.add(404)
                if self.auth is not None:
                    codes.update((401, 403))
                    doc.setdefault("manual_doc", {}).setdefault("security", [{"bearerAuth": []}])
                arguments = doc.get("arguments", {})
                if any(p.get("in") == "json" for p in arguments.get("parameters", [])):
                    codes.update((400, 415))
                responses = doc.setdefault("response", {}).setdefault("responses", {})
                known = {
                    int(code)
                    for code in (*responses, *arguments.get("responses", {}))
                    if str(code).isdigit()
                }
                for code in sorted(codes - known):
                    responses[code] = [
                        {
                            "schema": error_schema,
                            "description": ERROR_DESCRIPTIONS[code],
                            "content_type": None,
                        }
                    ]
        return docs
