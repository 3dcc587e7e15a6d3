"""The one error contract (api-contract.md) for every failure the API can answer with.

Services raise :class:`ApiError` subclasses; werkzeug's HTTP exceptions, webargs
validation failures and database outages are all turned into the same JSON shape:
``{"detail", "code", "status", "errors"?, "request_id"}``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, jsonify
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    OperationFailure,
    ServerSelectionTimeoutError,
)
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

log = logging.getLogger("finance.errors")

DB_UNAVAILABLE_DETAIL = "The database is unavailable right now; please try again shortly."
DB_BUSY_DETAIL = "Another change to the same data is still in progress; please try again shortly."

# Sentences for werkzeug's built-in errors, which would otherwise carry HTML-ish prose.
_DEFAULT_DETAILS = {
    400: "The request could not be understood.",
    401: "Authentication is required.",
    403: "You are not allowed to do that.",
    404: "The requested resource was not found.",
    405: "That method is not allowed on this URL.",
    409: "The request conflicts with the current state of the resource.",
    413: "The request body is too large.",
    415: "That content type is not supported here.",
    422: "The request was well-formed but contains invalid values.",
    429: "Too many requests; please slow down.",
    500: "Something went wrong on our side; the error was logged.",
    503: "The service is temporarily unavailable; please try again shortly.",
}


class ApiError(Exception):
    """A domain failure with the HTTP status the API answers it with."""

    status_code = 400

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        status_code: int | None = None,
    ):
        if status_code is not None:
            self.status_code = status_code
        self.detail = detail or _DEFAULT_DETAILS.get(self.status_code, "Request failed.")
        self.errors = errors
        self.headers = headers or {}
        super().__init__(self.detail)


class BadRequest(ApiError):
    status_code = 400


class Unauthorized(ApiError):
    status_code = 401

    def __init__(self, detail: str | None = None, **kwargs: Any):
        headers = {"WWW-Authenticate": 'Bearer realm="kartay"'}
        headers.update(kwargs.pop("headers", None) or {})
        super().__init__(detail, headers=headers, **kwargs)


class Forbidden(ApiError):
    status_code = 403


class NotFound(ApiError):
    status_code = 404


class Conflict(ApiError):
    status_code = 409


class PayloadTooLarge(ApiError):
    status_code = 413


class UnsupportedMediaType(ApiError):
    status_code = 415


class ValidationError(ApiError):
    status_code = 422


class TooManyRequests(ApiError):
    status_code = 429

    def __init__(self, detail: str | None = None, *, retry_after: int, **kwargs: Any):
        super().__init__(detail, headers={"Retry-After": str(retry_after)}, **kwargs)


class ServiceUnavailable(ApiError):
    status_code = 503


def error_body(code: int, detail: str, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "detail": detail,
        "code": code,
        "status": HTTP_STATUS_CODES.get(code, "Error"),
    }
    if errors:
        body["errors"] = errors
    request_id = g.get("request_id") if g else None
    if request_id:
        body["request_id"] = request_id
    return body


def error_response(code: int, detail: str, errors=None, headers=None):
    response = jsonify(error_body(code, detail, errors))
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    """webargs nests field errors under the location ("json", "query", ...): drop that level."""
    if not isinstance(messages, dict):
        return {"_schema": messages}
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def _summary(errors: dict[str, Any]) -> str:
    names = [name for name in errors if name != "_schema"]
    if not names:
        first = errors.get("_schema")
        if isinstance(first, list) and first and isinstance(first[0], str):
            return first[0]
        return _DEFAULT_DETAILS[422]
    return "Invalid value for " + ", ".join(sorted(map(str, names))) + "."


def handle_http_exception(error: HTTPException):
    code = error.code or 500
    if code >= 500 and isinstance(error, InternalServerError):
        original = getattr(error, "original_exception", None)
        if original is not None:
            return handle_unexpected(original)
    data = getattr(error, "data", None) or {}
    errors = data.get("errors")
    if errors is None and "messages" in data:
        errors = _flatten_webargs(data["messages"])
    detail = data.get("message")
    if not isinstance(detail, str) or not detail:
        detail = _summary(errors) if errors else _DEFAULT_DETAILS.get(code, error.name)
    if code == 413 and not data:
        detail = _too_large_detail()
    headers = dict(data.get("headers") or {})
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="kartay"')
    return error_response(code, detail, errors, headers)


def _too_large_detail() -> str:
    """The body was refused before it was read: say what the cap is (import.md)."""
    limit = current_app.config.get("MAX_UPLOAD_BYTES")
    if not limit:
        return _DEFAULT_DETAILS[413]
    size = f"{limit / 1_000_000:.1f} MB" if limit >= 1_000_000 else f"{limit / 1000:.1f} KB"
    return f"The request body is larger than the {size} upload limit."


def handle_api_error(error: ApiError):
    return error_response(error.status_code, error.detail, error.errors, error.headers)


def handle_database_down(error: Exception):
    log.warning("database unreachable: %s", type(error).__name__)
    return error_response(503, DB_UNAVAILABLE_DETAIL, headers={"Retry-After": "5"})


def handle_database_busy(error: OperationFailure):
    """A transaction still conflicting once its retries ran out (``db.run_in_transaction``).

    Typically the uncommitted writes of a process that died mid-transaction: the server
    holds them until its transaction lifetime (60 s by default) ends, so "later" is right.
    """
    log.warning("transaction conflict outlasted its retries: %s", error.code)
    return error_response(503, DB_BUSY_DETAIL, headers={"Retry-After": "5"})


def handle_unexpected(error: BaseException):
    if isinstance(error, ApiError):
        return handle_api_error(error)
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    if isinstance(error, (ServerSelectionTimeoutError, AutoReconnect, ConnectionFailure)):
        return handle_database_down(error)
    if isinstance(error, OperationFailure) and error.has_error_label("TransientTransactionError"):
        return handle_database_busy(error)
    log.error("unhandled exception", exc_info=error)
    return error_response(500, _DEFAULT_DETAILS[500])


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    for exc in (ServerSelectionTimeoutError, AutoReconnect, ConnectionFailure):
        app.register_error_handler(exc, handle_database_down)
    app.register_error_handler(Exception, handle_unexpected)
