"""Per-request edge behaviour: request ids, host and HTTPS checks, security headers, access log."""

from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, redirect, request

from .errors import error_response

access_log = logging.getLogger("finance.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:=+/-]{1,128}$")  # base64 ids of HTTP APIs too
# ``wallet_id[$ne]=x`` is how query-string parsers (PHP, Express's qs) smuggle operators.
_OPERATOR_NAME = re.compile(r"[$\[\]]")
OPERATOR_NAME_DETAIL = (
    "Query parameter names cannot contain '$', '[' or ']'; "
    "repeat a parameter to send several values."
)
_DOCS_PREFIXES = ("/docs",)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def _request_id() -> str:
    supplied = request.headers.get("X-Request-ID", "")
    if _REQUEST_ID.match(supplied):
        return supplied
    context = request.environ.get("apig_wsgi.request_context") or {}
    aws_id = context.get("requestId") if isinstance(context, dict) else None
    if isinstance(aws_id, str) and _REQUEST_ID.match(aws_id):
        return aws_id
    return uuid.uuid4().hex


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Django-style matching: ``*`` anything, ``.example.com`` the domain and its subdomains."""
    if "*" in allowed:
        return True
    name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern.startswith("."):
            if name == pattern[1:] or name.endswith(pattern):
                return True
        elif name == pattern:
            return True
    return False


def _scheme() -> str:
    forwarded = request.headers.get("X-Forwarded-Proto", "")
    if forwarded:
        return forwarded.split(",")[0].strip().lower()
    return request.scheme


def init_app(app: Flask) -> None:
    allowed_hosts = tuple(app.config["ALLOWED_HOSTS"])
    enforce_https = app.config["ENFORCE_HTTPS"]

    @app.before_request
    def _start():
        g.request_id = _request_id()
        g.started = time.perf_counter()
        if not host_allowed(request.host, allowed_hosts):
            return error_response(400, "The Host header does not name this service.")
        if enforce_https and _scheme() != "https":
            if request.method in ("GET", "HEAD"):
                return redirect(request.url.replace("http://", "https://", 1), code=301)
            return error_response(400, "HTTPS is required; repeat the request over https://.")
        smuggled = sorted({name for name in request.args if _OPERATOR_NAME.search(name)})
        if smuggled:
            problem = ["Not a parameter of this API."]
            return error_response(400, OPERATOR_NAME_DETAIL, dict.fromkeys(smuggled, problem))
        return None

    @app.after_request
    def _finish(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cache-Control", "no-store")
        if not request.path.startswith(_DOCS_PREFIXES):
            headers.setdefault("Content-Security-Policy", API_CSP)
        if enforce_https:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        started = g.get("started")
        access_log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
                "user_id": g.get("user_id"),
            },
        )
        return response
