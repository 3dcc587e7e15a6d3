"""A fake Gemini client: recorded REST responses in, every request kept for inspection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.gemini import FakeClient, answer

RECORDED = Path(__file__).parent / "recorded"


def recorded(name: str):
    """A real ``GenerateContentResponse`` parsed from a recorded REST answer."""
    from google.genai import types

    return types.GenerateContentResponse.model_validate(json.loads((RECORDED / name).read_text()))


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
