"""A fake Gemini client for the resolver: counts calls, answers with prepared outcomes."""

from __future__ import annotations

import pytest

from tests.support.gemini import FakeClient, answer


@pytest.fixture
def gemini():
    """``gemini(*outcomes)``: a fake client answering (or raising) each outcome in turn."""
    return FakeClient


@pytest.fixture
def json_answer():
    return answer
