"""API Gateway events through the real Lambda handler (``wsgi_handler.handler``).

REST API (payload 1.0) and HTTP API (payload 2.0) shapes, as in apig-wsgi's own tests: health,
multi-value query strings, a base64 multipart upload with non-UTF-8 bytes, a binary response,
the JSON 404, the ``$default`` stage's unprefixed path, and CORS answered by the app.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from tests.support.events import (
    http_v2_event,
    multipart_body,
    response_bytes,
    response_headers,
    rest_v1_event,
)

BUILDERS = {"rest_v1": rest_v1_event, "http_v2": http_v2_event}
both_apis = pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())


def _json(response):
    assert response_headers(response)["content-type"] == ["application/json"]
    assert response["isBase64Encoded"] is False
    return json.loads(response["body"])


def test_handler_is_built_once_at_import(lambda_module):
    assert callable(lambda_module.handler)
    assert lambda_module.app.config["TESTING"] is True
    assert lambda_module.app.config["ENFORCE_HTTPS"] is True


@both_apis
@pytest.mark.parametrize("path", ["/health", "/api/health"])
def test_health(invoke, build, path):
    response = invoke(build("GET", path))

    assert response["statusCode"] == 200
    assert _json(response) == {"status": "ok"}
    headers = response_headers(response)
    assert headers["x-content-type-options"] == ["nosniff"]
    assert headers["strict-transport-security"]  # ENFORCE_HTTPS saw X-Forwarded-Proto: https


def test_rest_v1_request_id_comes_from_the_request_context(invoke):
    event = rest_v1_event("GET", "/api/health", request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef")

    response = invoke(event)

    assert response_headers(response)["x-request-id"] == ["c6af9ac6-7b61-11e6-9a41-93e8deadbeef"]


def test_http_v2_response_has_a_request_id(invoke):
    response = invoke(http_v2_event("GET", "/api/health"))

    (request_id,) = response_headers(response)["x-request-id"]
    assert request_id


def test_rest_v1_multi_value_query_parameters(invoke):
    event = rest_v1_event(
        "GET", "/api/__test__/query", multi_query={"tag": ["food", "rent", "ü&=+ %"], "q": ["x y"]}
    )
    assert event["queryStringParameters"] == {"tag": "ü&=+ %", "q": "x y"}

    response = invoke(event)

    assert response["statusCode"] == 200
    assert _json(response) == {
        "tag": ["food", "rent", "ü&=+ %"],
        "q": ["x y"],
        "keys": ["q", "tag"],
    }


def test_http_v2_repeated_query_parameters_come_from_the_raw_query_string(invoke):
    event = http_v2_event(
        "GET", "/api/__test__/query", query={"tag": ["food", "rent", "a,b"], "q": "x y"}
    )
    # API Gateway comma-joins repeats in queryStringParameters; only rawQueryString keeps them.
    assert event["queryStringParameters"]["tag"] == "food,rent,a,b"
    assert event["rawQueryString"] == "tag=food&tag=rent&tag=a%2Cb&q=x%20y"

    response = invoke(event)

    assert response["statusCode"] == 200
    assert _json(response) == {"tag": ["food", "rent", "a,b"], "q": ["x y"], "keys": ["q", "tag"]}


@both_apis
def test_base64_multipart_upload_arrives_byte_for_byte(invoke, build, binary_payload):
    payload = binary_payload * 64 + "Überweisung;€12,50\n".encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        payload.decode("utf-8")
    body, content_type = multipart_body(
        {"wallet_id": "w-1", "wallet_name": "Girokonto"},
        {"file": ("statement.xls", payload, "application/vnd.ms-excel")},
    )
    event = build("POST", "/api/__test__/upload", headers={"Content-Type": content_type}, body=body)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body

    response = invoke(event)

    assert response["statusCode"] == 200
    assert _json(response) == {
        "filename": "statement.xls",
        "content_type": "application/vnd.ms-excel",
        "size": len(payload),
        "sha256": hashlib.sha256(payload).hexdigest(),
        "fields": {"wallet_id": "w-1", "wallet_name": "Girokonto"},
    }


@both_apis
def test_text_json_body_keeps_non_ascii_text(invoke, build):
    document = {"name": "Café € 10", "amount": 12.5}
    event = build(
        "POST",
        "/api/__test__/json",
        headers={"Content-Type": "application/json"},
        body=json.dumps(document, ensure_ascii=False),
    )
    assert event["isBase64Encoded"] is False

    response = invoke(event)

    assert response["statusCode"] == 200
    assert _json(response) == {"received": document}


@both_apis
def test_binary_response_is_base64_encoded(invoke, build, binary_payload):
    response = invoke(build("GET", "/api/__test__/binary"))

    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert response_headers(response)["content-type"] == ["application/octet-stream"]
    assert response_bytes(response) == binary_payload


@both_apis
def test_unknown_route_is_the_json_404(invoke, build):
    response = invoke(build("GET", "/api/does-not-exist"))

    assert response["statusCode"] == 404
    body = _json(response)
    assert body["code"] == 404
    assert body["status"] == "Not Found"
    assert body["detail"] == "The requested resource was not found."
    assert body["request_id"] == response_headers(response)["x-request-id"][0]


def test_http_api_default_stage_path_has_no_stage_prefix(invoke):
    event = http_v2_event("GET", "/api/health")
    assert event["requestContext"]["stage"] == "$default"
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == "/api/health"

    assert invoke(event)["statusCode"] == 200


def test_a_named_http_api_stage_would_prefix_the_path(invoke):
    """Why template.yaml deploys the $default stage: apig-wsgi strips no stage prefix."""
    event = http_v2_event("GET", "/api/health", stage="prod")
    assert event["rawPath"] == "/prod/api/health"

    assert invoke(event)["statusCode"] == 404


def test_rest_v1_path_excludes_the_stage(invoke):
    event = rest_v1_event("GET", "/api/health", stage="Prod")
    assert event["requestContext"]["path"] == "/Prod/api/health"
    assert event["path"] == "/api/health"

    assert invoke(event)["statusCode"] == 200


@both_apis
def test_cors_preflight_is_answered_by_the_app(invoke, build, cors_origin):
    event = build(
        "OPTIONS",
        "/api/__test__/upload",
        headers={
            "Origin": cors_origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-user-id,content-type",
        },
    )

    response = invoke(event)

    assert response["statusCode"] == 200
    headers = response_headers(response)
    assert headers["access-control-allow-origin"] == [cors_origin]
    methods = {m.strip() for m in headers["access-control-allow-methods"][0].split(",")}
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
    allowed = {h.strip().lower() for h in headers["access-control-allow-headers"][0].split(",")}
    assert {"authorization", "x-user-id", "content-type"} <= allowed
    assert headers["access-control-max-age"] == ["600"]


@both_apis
def test_cors_headers_appear_once_on_a_simple_request(invoke, build, cors_origin):
    response = invoke(build("GET", "/api/health", headers={"Origin": cors_origin}))

    headers = response_headers(response)
    assert headers["access-control-allow-origin"] == [cors_origin]
    assert headers["access-control-expose-headers"]


@both_apis
def test_cors_refuses_an_unknown_origin(invoke, build):
    event = build(
        "OPTIONS",
        "/api/health",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )

    response = invoke(event)

    assert "access-control-allow-origin" not in response_headers(response)
