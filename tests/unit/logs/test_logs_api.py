"""POST /api/logs/file: no auth, bounded, scrubbed, one JSON line per entry on stdout."""

import json

import pytest

from finance.logs.service import truncate_bytes
from tests.conftest import make_app

URL = "/api/logs/file"

ENTRY = {
    "timestamp": "2025-03-31T12:00:00.000Z",
    "level": "error",
    "source": "TransactionUpload",
    "category": "upload",
    "message": "Upload failed: 413",
    "user_id": "65f1c0ffee0123456789abcd",
    "email": "Ada.Lovelace@Example.COM",
    "context": {"status": 413, "file": "statement.csv"},
    "environment": "production",
}


def client_lines(capsys):
    """The ``finance.client`` JSON lines written to stdout (every line must be JSON)."""
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    return [line for line in lines if line["logger"] == "finance.client"]


def without_volatile(line):
    return {k: v for k, v in line.items() if k not in ("time", "request_id")}


def test_ships_entries_without_auth_as_json_lines(client, capsys):
    response = client.post(URL, json={"logs": [ENTRY, {**ENTRY, "level": "INFO", "message": "ok"}]})
    assert response.status_code == 200
    assert response.json == {"status": "success", "message": "Logged 2 entries.", "count": 2}
    first, second = client_lines(capsys)
    assert without_volatile(first) == {
        "level": "ERROR",
        "logger": "finance.client",
        "message": "Upload failed: 413",
        "client_level": "error",
        "client_timestamp": "2025-03-31T12:00:00.000Z",
        "source": "TransactionUpload",
        "category": "upload",
        "client_user_id": "65f1c0ffee0123456789abcd",
        "email_domain": "example.com",
        "environment": "production",
        "context": {"status": 413, "file": "statement.csv"},
    }
    assert first["request_id"] == response.headers["X-Request-ID"]
    assert (second["level"], second["message"]) == ("INFO", "ok")


def test_a_minimal_entry_and_unknown_fields(client, capsys):
    response = client.post(
        URL, json={"logs": [{"message": "hi", "browser": "firefox"}], "app": "web"}
    )
    assert response.status_code == 200
    assert response.json == {"status": "success", "message": "Logged 1 entry.", "count": 1}
    (line,) = client_lines(capsys)
    assert without_volatile(line) == {
        "level": "INFO",
        "logger": "finance.client",
        "message": "hi",
        "client_level": "info",
        "client_timestamp": None,
        "source": None,
        "category": None,
        "client_user_id": None,
        "email_domain": None,
        "environment": None,
        "context": None,
    }


def test_an_empty_batch_is_fine(client, capsys):
    response = client.post(URL, json={"logs": []})
    assert response.json == {"status": "success", "message": "Logged 0 entries.", "count": 0}
    assert client_lines(capsys) == []


@pytest.mark.parametrize(
    ("sent", "level"),
    [
        ("debug", "DEBUG"),
        ("trace", "DEBUG"),
        ("info", "INFO"),
        ("log", "INFO"),
        ("warn", "WARNING"),
        ("Warning", "WARNING"),
        ("ERROR", "ERROR"),
        ("fatal", "CRITICAL"),
        ("critical", "CRITICAL"),
    ],
)
def test_level_mapping(auth_environ, capsys, sent, level):
    app = make_app(environ={**auth_environ, "LOG_LEVEL": "DEBUG"})
    response = app.test_client().post(URL, json={"logs": [{"level": sent, "message": "m"}]})
    assert response.status_code == 200
    (line,) = client_lines(capsys)
    assert (line["level"], line["client_level"]) == (level, sent.lower())


def test_levels_below_the_configured_one_are_accepted_but_not_written(client, capsys):
    response = client.post(URL, json={"logs": [{"level": "debug", "message": "noise"}]})
    assert response.json["count"] == 1
    assert client_lines(capsys) == []


def test_validation_errors_use_the_error_contract(client, capsys):
    response = client.post(URL, json={"logs": [{"level": "loud"}, "text", {"message": 5}]})
    assert response.status_code == 422
    assert response.json["detail"] == "Invalid value for logs."
    assert response.json["errors"] == {
        "logs": {
            "0": {
                "level": [
                    "Must be one of trace, debug, log, info, warn, warning, error, fatal, critical."
                ],
                "message": ["Missing data for required field."],
            },
            "1": {"_schema": ["Invalid input type."]},
            "2": {"message": ["Not a valid string."]},
        }
    }
    not_a_list = client.post(URL, json={"logs": {"message": "x"}})
    assert not_a_list.status_code == 422
    assert not_a_list.json["errors"] == {"logs": ["Not a valid list."]}
    missing = client.post(URL, json={})
    assert missing.status_code == 422
    assert missing.json["errors"] == {"logs": ["Missing data for required field."]}
    assert client_lines(capsys) == []


def test_more_entries_than_the_cap_is_413_and_nothing_is_written(client, capsys):
    response = client.post(URL, json={"logs": [{"message": "m"}] * 101})
    assert response.status_code == 413
    assert response.json["detail"] == (
        "At most 100 log entries can be sent per request; split the batch."
    )
    assert response.json["errors"] == {"logs": ["101 entries; the limit is 100."]}
    assert client_lines(capsys) == []
    assert client.post(URL, json={"logs": [{"message": "m"}] * 100}).json["count"] == 100


def test_the_cap_is_configuration(auth_environ, capsys):
    app = make_app(environ={**auth_environ, "MAX_LOG_BATCH": "2"})
    client = app.test_client()
    assert client.post(URL, json={"logs": [{"message": "m"}] * 3}).status_code == 413
    assert client.post(URL, json={"logs": [{"message": "m"}] * 2}).status_code == 200


def test_long_message_and_context_are_truncated_with_a_marker(client, capsys):
    message = "é" * 5000  # 10,000 bytes of UTF-8
    context = {"rows": ["x" * 100] * 200}
    response = client.post(URL, json={"logs": [{"message": message, "context": context}]})
    assert response.status_code == 200
    (line,) = client_lines(capsys)
    assert len(line["message"].encode()) <= 4096
    assert line["message"].startswith("é" * 100)
    assert line["message"].endswith("…[truncated 5904 bytes]")
    assert line["context"]["_truncated"] is True
    assert line["context"]["_original_bytes"] == len(json.dumps(context, separators=(", ", ": ")))
    assert len(line["context"]["_preview"].encode()) <= 8192
    assert line["context"]["_preview"].startswith('{"rows": ["xxx')


def test_short_fields_are_cut(client, capsys):
    client.post(
        URL, json={"logs": [{"message": "m", "source": "s" * 1000, "environment": "e" * 300}]}
    )
    (line,) = client_lines(capsys)
    assert line["source"] == "s" * 200 + "…"
    assert line["environment"] == "e" * 200 + "…"


def test_credentials_and_emails_never_reach_the_log(client, capsys):
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
    context = {
        "Authorization": "Bearer abc.def.ghi",
        "idToken": jwt,
        "password": "hunter2",
        "api_key": "k",
        "client_secret": "s",
        "cookie": "sid=1",
        "request": {"headers": {"X-Api-Key": "k", "accept": "json"}, "status": 401},
        "note": f"sent Bearer {jwt} for bob@example.org",
        "list": [{"refresh_token": "r", "ok": 1}],
    }
    response = client.post(
        URL,
        json={
            "logs": [
                {
                    "message": f"login failed for carol@example.net with token {jwt}",
                    "email": "carol@example.net",
                    "context": context,
                }
            ]
        },
    )
    assert response.status_code == 200
    out = capsys.readouterr().out
    for secret in ("hunter2", jwt, "abc.def", "sid=1", "carol@", "bob@", "client_secret"):
        assert secret not in out
    (line,) = [json.loads(x) for x in out.splitlines() if '"finance.client"' in x]
    assert line["message"] == "login failed for ***@example.net with token [redacted]"
    assert line["email_domain"] == "example.net"
    assert line["context"] == {
        "request": {"headers": {"accept": "json"}, "status": 401},
        "note": "sent [redacted] for ***@example.org",
        "list": [{"ok": 1}],
    }


def test_deep_contexts_are_cut(client, capsys):
    deep = {"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}
    client.post(URL, json={"logs": [{"message": "m", "context": deep}]})
    (line,) = client_lines(capsys)
    assert line["context"] == {"a": {"b": {"c": {"d": {"e": {"f": "[too deep]"}}}}}}


def test_auth_headers_are_ignored_not_required(client, capsys):
    response = client.post(
        URL, json={"logs": [ENTRY]}, headers={"Authorization": "Bearer not-a-real-token"}
    )
    assert response.status_code == 200


def test_preflight_works_without_auth(client):
    response = client.options(
        URL,
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


def test_openapi_marks_the_endpoint_as_needing_no_auth(client):
    operation = client.get("/api/openapi.json").json["paths"][URL]["post"]
    assert operation["security"] == []
    assert set(operation["responses"]) >= {"200", "413", "422"}


def test_truncate_bytes_keeps_whole_characters():
    assert truncate_bytes("abc", 3) == "abc"
    cut = truncate_bytes("€" * 100, 60)
    assert len(cut.encode()) <= 60
    assert cut.endswith("…[truncated 240 bytes]")
    assert set(cut.split("…")[0]) == {"€"}
