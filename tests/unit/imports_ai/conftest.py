"""A fake Gemini client: recorded REST responses in, every request kept for inspection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str):
    """A real ``GenerateContentResponse`` parsed from a recorded REST answer."""
    from google.genai import types

    return types.GenerateContentResponse.model_validate(json.loads((RECORDED / name).read_text()))


def answer(payload):
    """A response whose text is ``payload`` (JSON-encoded unless it is already a string)."""
    from google.genai import types

    text = payload if isinstance(payload, str) else json.dumps(payload)
    return types.GenerateContentResponse.model_validate(
        {
            "candidates": [
                {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP"}
            ],
            "modelVersion": "gemini-2.5-flash",
        }
    )


class FakeModels:
    def __init__(self, outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def generate_content(self, *, model, contents, config):
        self.calls.append({"model": model, "contents": contents, "config": config})
        if not self.outcomes:
            raise AssertionError("the fake Gemini got an unexpected call")
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class FakeClient:
    """Anything with ``.models.generate_content`` will do for ``GeminiMapper``."""

    def __init__(self, *outcomes):
        self.models = FakeModels(outcomes)

    @property
    def calls(self):
        return self.models.calls


class FakeSleep:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


@pytest.fixture
def sleep():
    return FakeSleep()


@pytest.fixture
def gemini():
    """``gemini(*outcomes)``: a fake client answering (or raising) each outcome in turn."""
    return FakeClient


@pytest.fixture
def recorded_response():
    return recorded


@pytest.fixture
def json_answer():
    return answer
