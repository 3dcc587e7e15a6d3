"""Synthetic API Gateway events for driving the real Lambda handler in tests.

The shapes follow what API Gateway sends (as printed offline by
``sam local generate-event apigateway aws-proxy`` and ``... http-api-proxy``):

* :func:`rest_v1_event` — REST API proxy integration, payload format 1.0: ``path`` is the
  resource path without the stage, ``requestContext.path`` carries ``/<stage>``; both
  ``headers``/``multiValueHeaders`` and ``queryStringParameters``/
  ``multiValueQueryStringParameters`` are present (``null`` when empty); a binary body
  arrives base64-encoded with ``isBase64Encoded: true`` when its media type is a binary media
  type of the API.
* :func:`http_v2_event` — HTTP API, payload format 2.0: header names are lower-case, repeated
  headers and query parameters are comma-joined in ``headers``/``queryStringParameters``
  while ``rawQueryString`` is the client's query string as sent; on the ``$default`` stage
  ``rawPath`` has no stage prefix (a named stage would prefix it); non-text bodies arrive
  base64-encoded.

Plus :func:`multipart_body`, :func:`lambda_context`, :func:`response_headers` and
:func:`response_bytes` helpers for building requests and reading handler responses.
"""

from __future__ import annotations

import base64
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

API_ID = "a1b2c3d4e5"
ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
DOMAIN = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
SOURCE_IP = "203.0.113.10"
USER_AGENT = "Mozilla/5.0 (test) KarTayClient/1.0"

# Bodies of these media types arrive as text; everything else base64-encoded (HTTP API rule,
# and REST API's with binary media types "*/*" or multipart/form-data configured).
TEXT_MEDIA_PREFIXES = ("text/", "application/json", "application/xml", "application/javascript",
                       "application/x-www-form-urlencoded")

HeaderValue = str | Sequence[str]
QueryValue = str | Sequence[str]


def _as_list(value: HeaderValue | QueryValue) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _is_text(content_type: str | None) -> bool:
    return content_type is None or content_type.lower().startswith(TEXT_MEDIA_PREFIXES)


def _encode_body(
    body: str | bytes | None, content_type: str | None, base64_encoded: bool | None
) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if base64_encoded is None:
        base64_encoded = isinstance(body, bytes) and not _is_text(content_type)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if base64_encoded:
        return base64.b64encode(raw).decode("ascii"), True
    return raw.decode("utf-8"), False


def _find(headers: Mapping[str, Any], name: str) -> Any:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _request_time(epoch_ms: int) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch_ms / 1000))


def rest_v1_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    multi_query: Mapping[str, Sequence[str]] | None = None,
    headers: Mapping[str, HeaderValue] | None = None,
    body: str | bytes | None = None,
    base64: bool | None = None,
    stage: str = "prod",
    request_id: str | None = None,
) -> dict[str, Any]:
    """A REST API (payload format 1.0) proxy event for ``{proxy+}`` on ``stage``.

    ``query`` holds single values, ``multi_query`` repeated ones (the event then carries the
    last value of each in ``queryStringParameters``, as API Gateway does). ``headers`` values
    may be lists for repeated headers. ``base64`` forces or forbids base64 encoding of
    ``body``; by default bytes with a non-text ``Content-Type`` are base64-encoded.
    """
    merged: dict[str, list[str]] = {
        "Accept": ["application/json, text/plain, */*"],
        "Accept-Encoding": ["gzip, deflate, br"],
        "CloudFront-Forwarded-Proto": ["https"],
        "CloudFront-Is-Desktop-Viewer": ["true"],
        "CloudFront-Viewer-Country": ["DE"],
        "Host": [DOMAIN],
        "User-Agent": [USER_AGENT],
        "Via": ["2.0 08f323deadbeefa7af34d5feb414ce27.cloudfront.net (CloudFront)"],
        "X-Amz-Cf-Id": ["cDehVQoZnx43VYQb9j2-nvCh-9z396Uhbp027Y2JvkCPNLmGJHqlaA=="],
        "X-Amzn-Trace-Id": [f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}"],
        "X-Forwarded-For": [f"{SOURCE_IP}, 130.176.0.1"],
        "X-Forwarded-Port": ["443"],
        "X-Forwarded-Proto": ["https"],
    }
    for name, value in (headers or {}).items():
        for existing in [k for k in merged if k.lower() == name.lower()]:
            del merged[existing]
        merged[name] = _as_list(value)

    if multi_query is not None:
        multi = {key: list(values) for key, values in multi_query.items()}
    elif query is not None:
        multi = {key: [value] for key, value in query.items()}
    else:
        multi = {}
    content_type = (_find(merged, "Content-Type") or [None])[-1]
    encoded, is_base64 = _encode_body(body, content_type, base64)
    epoch_ms = int(time.time() * 1000)
    proxy = path.lstrip("/")
    return {
        "resource": "/{proxy+}" if proxy else "/",
        "path": path,
        "httpMethod": method.upper(),
        "headers": {key: values[-1] for key, values in merged.items()},
        "multiValueHeaders": merged,
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} if multi else None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "extendedRequestId": "BQGojGVsoAMFZKA=",
            "httpMethod": method.upper(),
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": SOURCE_IP,
                "user": None,
                "userAgent": USER_AGENT,
                "userArn": None,
            },
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": request_id or str(uuid.uuid4()),
            "requestTime": _request_time(epoch_ms),
            "requestTimeEpoch": epoch_ms,
            "resourceId": "abc123",
            "resourcePath": "/{proxy+}" if proxy else "/",
            "stage": stage,
        },
        "body": encoded,
        "isBase64Encoded": is_base64,
    }


def http_v2_event(
    method: str,
    path: str,
    *,
    query: Mapping[str, QueryValue] | None = None,
    raw_query: str | None = None,
    headers: Mapping[str, HeaderValue] | None = None,
    body: str | bytes | None = None,
    base64: bool | None = None,
    cookies: Sequence[str] | None = None,
    stage: str = "$default",
    request_id: str = "JKJaXmPLvHcESHA=",
) -> dict[str, Any]:
    """An HTTP API (payload format 2.0) event for the ``$default`` route on ``stage``.

    ``query`` values may be lists (sent as repeated parameters); ``raw_query`` overrides the
    raw query string outright. On the ``$default`` stage ``rawPath`` is ``path``; on any other
    stage API Gateway prefixes it with ``/<stage>``.
    """
    merged: dict[str, str] = {
        "accept": "application/json, text/plain, */*",
        "accept-encoding": "gzip, deflate, br",
        "host": DOMAIN,
        "user-agent": USER_AGENT,
        "x-amzn-trace-id": f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}",
        "x-forwarded-for": SOURCE_IP,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    for name, value in (headers or {}).items():
        merged[name.lower()] = ",".join(_as_list(value))

    pairs = [(key, value) for key, values in (query or {}).items() for value in _as_list(values)]
    if raw_query is None:
        raw_query = urlencode(pairs, quote_via=quote)
    params: dict[str, list[str]] = {}
    for key, value in pairs:
        params.setdefault(key, []).append(value)

    encoded, is_base64 = _encode_body(body, merged.get("content-type"), base64)
    if encoded is not None and "content-length" not in merged:
        merged["content-length"] = str(len(body.encode() if isinstance(body, str) else body))
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    epoch_ms = int(time.time() * 1000)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": DOMAIN,
            "domainPrefix": API_ID,
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": SOURCE_IP,
                "userAgent": USER_AGENT,
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": stage,
            "time": _request_time(epoch_ms),
            "timeEpoch": epoch_ms,
        },
        "isBase64Encoded": is_base64,
    }
    if cookies:
        event["cookies"] = list(cookies)
    if params:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in params.items()}
    if encoded is not None:
        event["body"] = encoded
    return event


def multipart_body(
    fields: Mapping[str, str],
    files: Mapping[str, tuple[str, bytes, str]],
    boundary: str | None = None,
) -> tuple[bytes, str]:
    """``multipart/form-data`` bytes and their Content-Type; files are (name, data, type)."""
    boundary = boundary or f"----KarTayBoundary{secrets.token_hex(8)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode("utf-8") + b"\r\n"
        )
    for name, (filename, data, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that code may read."""

    function_name: str = "kartay-finance-api-ApiFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/kartay-finance-api"
    log_stream_name: str = "2025/01/01/[$LATEST]0123456789abcdef"
    deadline_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 30_000)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def lambda_context(**overrides: Any) -> LambdaContext:
    return LambdaContext(**overrides)


def response_headers(response: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every response header, lower-cased name → values, whatever the payload format."""
    found: dict[str, list[str]] = {}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        found.setdefault(name.lower(), []).extend(values)
    if not found:
        for name, value in (response.get("headers") or {}).items():
            found.setdefault(name.lower(), []).append(value)
    return found


def response_bytes(response: Mapping[str, Any]) -> bytes:
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return base64.b64decode(body)
    return body.encode("utf-8")
