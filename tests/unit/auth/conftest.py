"""Fixtures for the token-verification tests (keys come from tests.support.tokens)."""

from __future__ import annotations

import pytest

from finance.auth.tokens import TokenVerifier
from tests.support.tokens import FakeClock, RecordingFetcher, TokenFactory


@pytest.fixture
def factory() -> TokenFactory:
    return TokenFactory()


@pytest.fixture
def firebase_factory() -> TokenFactory:
    return TokenFactory.firebase()


@pytest.fixture
def jwks_path(tmp_path, factory):
    return factory.write_jwks(tmp_path)


@pytest.fixture
def verifier(factory, jwks_path) -> TokenVerifier:
    """A jwt-mode verifier reading the RSA + EC keys from a JWKS file (RS256 and ES256)."""
    return TokenVerifier(factory.settings(jwks_path))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fetcher(factory) -> RecordingFetcher:
    """Serves the factory's JWKS with ``Cache-Control: public, max-age=600``."""
    return RecordingFetcher(factory.jwks(), headers={"Cache-Control": "public, max-age=600"})
