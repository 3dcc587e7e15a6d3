"""The real google-genai client against a local stand-in for the Gemini REST endpoint.

The Gemini API is unreachable here, so a tiny HTTP server on 127.0.0.1 plays it:
this proves the SDK accepts our config and puts it on the wire as Gemini expects
(``generationConfig.responseJsonSchema``, ``temperature: 0``...), and that real SDK
failures (HTTP 429, a read timeout) end as the right :class:`AiMappingError`.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from google import genai
from google.genai import types

from finance.imports.ai import AiMappingError, GeminiMapper, mapping_schema
from finance.imports.mapping import FIELDS

HEADER = ["Exec Time", "Net Proceeds", "Ref#"]
ROWS = [["2024-03-04 15:31:02", "-1726.50", "U1234567-0001"]]
ANSWER = {
    "columns": [
        {"column": "Exec Time", "field": "date", "confidence": 0.95},
        {"column": "Net Proceeds", "field": "transaction_amount", "confidence": 0.9},
        {"column": "Ref#", "field": "ignore", "confidence": 0.8},
    ]
}


class StandIn:
    """Answers each POST with the next planned (status, body, delay_s)."""

    def __init__(self, plan):
        self.plan = list(plan)
        self.requests = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                stand_in.requests.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": json.loads(self.rfile.read(length)),
                    }
                )
                status, body, delay = stand_in.plan.pop(0)
                time.sleep(delay)
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def rest_answer(payload):
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": json.dumps(payload)}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 640,
            "candidatesTokenCount": 95,
            "totalTokenCount": 735,
        },
        "modelVersion": "gemini-2.5-flash",
    }


def client_for(stand_in):
    return genai.Client(
        api_key="test-key-not-real",
        http_options=types.HttpOptions(base_url=stand_in.url, api_version="v1beta"),
    )


def test_the_request_on_the_wire_and_the_answer_back():
    with StandIn([(200, rest_answer(ANSWER), 0)]) as stand_in:
        result = GeminiMapper(client_for(stand_in)).suggest(HEADER, ROWS)
    assert result.mapping == {"Exec Time": "date", "Net Proceeds": "transaction_amount"}
    assert result.ignored == ("Ref#",)
    (request,) = stand_in.requests
    assert request["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert request["headers"]["x-goog-api-key"] == "test-key-not-real"
    body = request["body"]
    assert body["generationConfig"] == {
        "temperature": 0,
        "candidateCount": 1,
        "responseMimeType": "application/json",
        "responseJsonSchema": mapping_schema(HEADER, FIELDS),
        # The SDK passes the nested config through in proto field names (accepted by proto JSON).
        "thinkingConfig": {"thinking_budget": 0},
    }
    assert body["systemInstruction"]["parts"][0]["text"].startswith(
        "You map the columns of a bank or brokerage statement export"
    )
    (turn,) = body["contents"]
    assert turn["role"] == "user"
    text = turn["parts"][0]["text"]
    assert json.dumps(HEADER) in text
    assert json.dumps(ROWS[0]) in text
    assert set(body) == {"contents", "systemInstruction", "generationConfig"}


def test_quota_errors_from_the_real_sdk():
    quota = {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    slept = []
    with StandIn([(429, quota, 0)] * 2) as stand_in:
        mapper = GeminiMapper(client_for(stand_in), retries=1, sleep=slept.append)
        with pytest.raises(AiMappingError) as caught:
            mapper.suggest(HEADER, ROWS)
    assert caught.value.reason == "Gemini quota exceeded"
    assert (len(stand_in.requests), slept) == (2, [0.5])


def test_a_read_timeout_from_the_real_sdk():
    with StandIn([(200, rest_answer(ANSWER), 2.5)]) as stand_in:
        mapper = GeminiMapper(client_for(stand_in), timeout_s=1.0, retries=0)
        started = time.monotonic()
        with pytest.raises(AiMappingError) as caught:
            mapper.suggest(HEADER, ROWS)
        elapsed = time.monotonic() - started
    assert caught.value.reason == "Gemini timed out"
    assert elapsed < 2.4
