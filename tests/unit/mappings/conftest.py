"""A fake Gemini client for the resolver: counts calls, answers with prepared outcomes."""

from __future__ import annotations

import json

import pytest


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
    def __init__(self, *outcomes):
        self.models = FakeModels(outcomes)

    @property
    def calls(self):
        return self.models.calls


def answer(payload):
    from google.genai import types

    return types.GenerateContentResponse.model_validate(
        {
            "candidates": [
                {
                    "content": {"parts": [{"text": json.dumps(payload)}], "role": "model"},
                    "finishReason": "STOP",
                }
            ],
            "modelVersion": "gemini-2.5-flash",
        }
    )


@pytest.fixture
def gemini():
    """``gemini(*outcomes)``: a fake client answering (or raising) each outcome in turn."""
    return FakeClient


@pytest.fixture
def json_answer():
    return answer
