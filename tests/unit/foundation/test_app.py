import datetime as dt
import json
import logging
from decimal import Decimal

import pytest
from bson import Decimal128, ObjectId
from flask import abort
from pymongo.errors import ServerSelectionTimeoutError

from finance.errors import Conflict, TooManyRequests
from tests.conftest import make_app

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def probe_app():
    """An app with a few test-only routes that raise each kind of failure."""
    app = make_app(environ={"CORS_ORIGINS": "https://app.kartay.example"})

    @app.get("/api/_probe/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/api/_probe/dbdown")
    def dbdown():
        raise ServerSelectionTimeoutError("127.0.0.1:1: connection refused")

    @app.get("/api/_probe/conflict")
    def conflict():
        raise Conflict("A wallet with that name already exists.", errors={"name": ["taken"]})

    @app.get("/api/_probe/limited")
    def limited():
        raise TooManyRequests("Slow down.", retry_after=30)

    @app.get("/api/_probe/abort/<int:code>")
    def aborted(code):
        abort(code)

    @app.get("/api/_probe/values")
    def values():
        return {
            "money": Decimal("1234.50"),
            "tiny": Decimal("0.00000001"),
            "d128": Decimal128("-12.30"),
            "oid": ObjectId("0123456789abcdef01234567"),
            "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
            "day": dt.date(2024, 12, 31),
        }

    return app


@pytest.fixture
def probe(probe_app):
    return probe_app.test_client()


def test_decimal_is_a_json_number_with_its_exact_digits(probe):
    response = probe.get("/api/_probe/values", headers=JSON)
    text = response.get_data(as_text=True)
    assert '"money":1234.50' in text
    assert '"tiny":1E-8' in text  # exponent form is a valid JSON number
    assert '"d128":-12.30' in text
    assert json.loads(text) == {
        "money": 1234.5,
        "tiny": 1e-08,
        "d128": -12.3,
        "oid": "0123456789abcdef01234567",
        "when": "2024-01-02T03:04:05Z",
        "naive": "2024-01-02T03:04:05Z",
        "day": "2024-12-31",
    }


def test_500_hides_internals_and_logs_them_with_the_request_id(probe, caplog):
    logger = logging.getLogger("finance")
    logger.addHandler(caplog.handler)
    try:
        response = probe.get("/api/_probe/boom", headers={"X-Request-ID": "req-123"})
    finally:
        logger.removeHandler(caplog.handler)
    assert response.status_code == 500
    assert response.json == {
        "detail": "Something went wrong on our side; the error was logged.",
        "code": 500,
        "status": "Internal Server Error",
        "request_id": "req-123",
    }
    assert "hunter2" not in response.get_data(as_text=True)
    errors = [r for r in caplog.records if r.name == "finance.errors"]
    assert errors and errors[0].request_id == "req-123" and errors[0].exc_info


def test_database_unreachable_is_503_with_a_clear_sentence(probe):
    response = probe.get("/api/_probe/dbdown")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["detail"] == (
        "The database is unavailable right now; please try again shortly."
    )
    assert response.json["code"] == 503


def test_domain_errors_carry_field_errors(probe):
    response = probe.get("/api/_probe/conflict")
    assert response.status_code == 409
    body = response.json
    body.pop("request_id")
    assert body == {
        "detail": "A wallet with that name already exists.",
        "code": 409,
        "status": "Conflict",
        "errors": {"name": ["taken"]},
    }


def test_429_says_when_to_retry(probe):
    response = probe.get("/api/_probe/limited")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "30"
    assert response.json["detail"] == "Slow down."


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (400, "Bad Request"),
        (401, "Unauthorized"),
        (403, "Forbidden"),
        (404, "Not Found"),
        (409, "Conflict"),
        (413, "Request Entity Too Large"),
        (415, "Unsupported Media Type"),
        (422, "Unprocessable Entity"),
        (429, "Too Many Requests"),
        (503, "Service Unavailable"),
    ],
)
def test_every_werkzeug_error_uses_the_one_shape(probe, code, status):
    response = probe.get(f"/api/_probe/abort/{code}")
    assert response.status_code == code
    assert response.is_json
    assert response.json["code"] == code
    assert response.json["status"] == status
    assert isinstance(response.json["detail"], str) and response.json["detail"]
    assert "<" not in response.json["detail"]
    if code == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_route_and_wrong_method(client):
    missing = client.get("/api/nothing-here", headers=JSON)
    assert missing.status_code == 404
    assert missing.json["detail"] == "The requested resource was not found."
    wrong = client.delete("/health")
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_oversized_body_is_413_json():
    app = make_app(MAX_UPLOAD_BYTES=1000)

    @app.post("/api/_probe/body")
    def body():
        from flask import request

        return {"size": len(request.get_data())}

    response = app.test_client().post(
        "/api/_probe/body",
        data=b"x" * 200_000,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 413
    assert response.json["code"] == 413
    assert response.json["detail"] == "The request body is larger than the 1.0 KB upload limit."


def test_health_endpoints(client):
    assert client.get("/health").json == {"status": "ok"}
    assert client.get("/api/health", headers=JSON).json == {"status": "ok"}
    assert client.get("/api/health/ready").json == {"status": "ok", "database": "up"}


def test_security_headers_and_request_id(client):
    response = client.get("/api/health")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers
    assert len(response.headers["X-Request-ID"]) == 32
    echoed = client.get("/api/health", headers={"X-Request-ID": "abc-1"})
    assert echoed.headers["X-Request-ID"] == "abc-1"
    forged = client.get("/api/health", headers={"X-Request-ID": "<script>" + "x" * 200})
    assert len(forged.headers["X-Request-ID"]) == 32


def test_docs_page_is_served_without_the_api_csp(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.get_data(as_text=True)
    assert "Content-Security-Policy" not in response.headers


def test_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "KarTay Finance API"
    assert "/api/health/ready" in spec["paths"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert set(spec["components"]["schemas"]["Error"]["properties"]) >= {
        "detail",
        "code",
        "status",
        "errors",
    }


def test_cors_preflight_lists_headers_explicitly(probe):
    response = probe.options(
        "/api/health",
        headers={
            "Origin": "https://app.kartay.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, x-user-id, content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.kartay.example"
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "x-user-id", "content-type"} <= allowed
    assert "*" not in response.headers["Access-Control-Allow-Headers"]
    methods = set(response.headers["Access-Control-Allow-Methods"].split(", "))
    assert methods == {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def test_cors_refuses_unknown_origins(probe):
    response = probe.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_allowed_hosts():
    app = make_app(environ={"ALLOWED_HOSTS": "api.kartay.example,.kartay.test"})
    client = app.test_client()
    assert client.get("/health", base_url="http://api.kartay.example").status_code == 200
    assert client.get("/health", base_url="http://x.kartay.test:8000").status_code == 200
    refused = client.get("/health", base_url="http://evil.example")
    assert refused.status_code == 400
    assert refused.json["detail"] == "The Host header does not name this service."


def test_enforce_https_honours_x_forwarded_proto():
    client = make_app(environ={"ENFORCE_HTTPS": "true"}).test_client()
    secure = client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = client.get("/health", headers={"X-Forwarded-Proto": "http"})
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")
    post = client.post("/api/health", headers={"X-Forwarded-Proto": "http"})
    assert post.status_code == 400
    assert "HTTPS is required" in post.json["detail"]


def test_access_log_is_json_without_credentials(probe, capsys):
    probe.get("/api/health", headers={"Authorization": "Bearer very-secret-token"})
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "finance.access"][-1]
    assert access["method"] == "GET"
    assert access["path"] == "/api/health"
    assert access["status"] == 200
    assert isinstance(access["latency_ms"], float)
    assert access["request_id"]
    assert "very-secret-token" not in json.dumps(lines)


def test_request_json_numbers_parse_as_decimal(probe_app):
    @probe_app.post("/api/_probe/echo")
    def echo():
        from flask import request

        body = request.get_json()
        return {"type": type(body["amount"]).__name__, "amount": body["amount"]}

    response = probe_app.test_client().post("/api/_probe/echo", json={"amount": 0.1})
    assert response.get_data(as_text=True) == '{"type":"Decimal","amount":0.1}'
    assert response.json == {"type": "Decimal", "amount": Decimal("0.1")}
