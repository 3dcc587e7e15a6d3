"""A fake Gemini client for the suites: answers (or raises) prepared outcomes, keeps each call."""

from __future__ import annotations

import json


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


def answer(payload):
    """A real ``GenerateContentResponse`` whose text is ``payload`` (JSON-encoded if not text)."""
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
