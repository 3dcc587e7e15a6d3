"""Fixtures for driving the real Lambda entry point, ``wsgi_handler.handler``.

``wsgi_handler`` builds its app at import from the environment, so the environment is set
first (testing config: mongomock, dev auth; production-like HTTPS enforcement and an explicit
CORS origin) and the module is imported fresh, then forgotten again afterwards.

A few test-only routes are registered on that app before it serves anything: they echo what
arrived (query lists, uploaded bytes, JSON) or send raw bytes, so the translation between API
Gateway events and WSGI can be checked end to end without depending on real endpoints.
"""

from __future__ import annotations

import hashlib
import importlib
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request

from finance.db import disconnect
from tests.support.events import lambda_context

ORIGIN = "https://app.example.com"
BINARY_PAYLOAD = bytes(range(256)) + b"\x00\xff\xfe\r\n--not-a-boundary\r\n\x80\x81"

# Anything the developer's shell might set that the config reads.
_CONFIG_VARIABLES = (
    "FINANCE_ENV",
    "MONGODB_URI",
    "MONGODB_URL",
    "MONGODB_DATABASE",
    "MONGODB_TIMEOUT_MS",
    "GOOGLE_API_KEY",
    "GENAI_MODEL",
    "ALLOWED_HOSTS",
    "ENFORCE_HTTPS",
    "CORS_ORIGINS",
    "MAX_UPLOAD_BYTES",
    "MAX_UPLOAD_ROWS",
    "MAX_LOG_BATCH",
    "LOG_LEVEL",
    "AUTH_MODE",
    "FIREBASE_PROJECT_ID",
    "AUTH_JWKS_URL",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_ALGORITHMS",
    "AUTH_DEV_SECRET",
    "AUTH_LEEWAY_SECONDS",
    "AUTH_FAILURE_LIMIT",
    "AUTH_FAILURE_WINDOW_SECONDS",
)


def _register_test_routes(app: Flask) -> None:
    def query_echo():
        return jsonify(
            tag=request.args.getlist("tag"),
            q=request.args.getlist("q"),
            keys=sorted(request.args.keys()),
        )

    def upload_echo():
        upload = request.files["file"]
        data = upload.read()
        return jsonify(
            filename=upload.filename,
            content_type=upload.mimetype,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            fields=request.form.to_dict(),
        )

    def json_echo():
        return jsonify(received=request.get_json())

    def binary_download():
        return Response(BINARY_PAYLOAD, mimetype="application/octet-stream")

    app.add_url_rule("/api/__test__/query", "test_query_echo", query_echo)
    app.add_url_rule("/api/__test__/upload", "test_upload_echo", upload_echo, methods=["POST"])
    app.add_url_rule("/api/__test__/json", "test_json_echo", json_echo, methods=["POST"])
    app.add_url_rule("/api/__test__/binary", "test_binary_download", binary_download)


@pytest.fixture(scope="module")
def lambda_module() -> Iterator[ModuleType]:
    with pytest.MonkeyPatch.context() as env:
        for name in _CONFIG_VARIABLES:
            env.delenv(name, raising=False)
        env.setenv("FINANCE_ENV", "testing")
        env.setenv("CORS_ORIGINS", ORIGIN)
        env.setenv("ENFORCE_HTTPS", "true")
        env.setenv("LOG_LEVEL", "WARNING")
        sys.modules.pop("wsgi_handler", None)
        module = importlib.import_module("wsgi_handler")
        _register_test_routes(module.app)
        try:
            yield module
        finally:
            sys.modules.pop("wsgi_handler", None)
            disconnect()


@pytest.fixture
def cors_origin() -> str:
    """The one origin the handler's app allows."""
    return ORIGIN


@pytest.fixture
def binary_payload() -> bytes:
    """What the test-only download route sends: every byte value, none of it UTF-8 text."""
    return BINARY_PAYLOAD


@pytest.fixture
def invoke(lambda_module: ModuleType) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Call the real handler with an event and a Lambda context, as the runtime does."""

    def _invoke(event: dict[str, Any]) -> dict[str, Any]:
        return lambda_module.handler(event, lambda_context())

    return _invoke
