"""What a cold start imports and builds, held to what serving a request needs.

``bench/coldstart.py`` measures the time; these tests keep the reasons for it from
regressing: the statement pipeline, the Gemini SDK, PyJWT and the spreadsheet readers
stay off the import path, marshmallow's e-mail regexes and werkzeug's URL builders are
built on first use, and the collector is back on once the app is built.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import marshmallow.validate
import pytest
from flask import url_for

from finance.coldstart import LazyPattern
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[3]

# Loaded by the code that needs them (an upload, a token check, a Gemini call), never at start.
LAZY_MODULES = (
    "finance.imports.ai",
    "finance.imports.mapping",
    "finance.imports.values",
    "finance.imports.pipeline",
    "finance.imports.readers",
    "finance.imports.normalise",
    "finance.imports.sniff",
    "finance.imports.table",
    "finance.assets.classify",
    "finance.mappings.resolver",
    "finance.imports.service",
    "finance.imports.store",
    "finance.imports.types",
    "google.genai",
    "jwt",
    "cryptography",
    "python_calamine",
    "openpyxl",
    "charset_normalizer",
)

PROBE = """
import gc, json, sys
import wsgi_handler
import marshmallow.validate as validate
print(json.dumps({
    "loaded": sorted(m for m in sys.argv[1:] if m in sys.modules),
    "email_regexes": [type(validate.Email.USER_REGEX).__name__,
                      type(validate.Email.DOMAIN_REGEX).__name__],
    "gc_enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count() > 0,
    "rule_classes": sorted({type(r).__name__ for r in wsgi_handler.app.url_map.iter_rules()}),
}))
"""


@pytest.fixture(scope="module")
def cold_start() -> dict:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FINANCE_", "MONGODB_", "AUTH_", "GOOGLE_", "CORS_"))
    }
    environ.update(
        FINANCE_ENV="production",
        MONGODB_URI="mongodb://127.0.0.1:1/",
        FIREBASE_PROJECT_ID="demo-project",
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, a fixed program
        [sys.executable, "-c", PROBE, *LAZY_MODULES],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environ,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_pipeline_sdk_and_readers_are_not_imported_at_cold_start(cold_start):
    assert cold_start["loaded"] == []


def test_the_app_is_built_with_the_collector_paused_and_its_objects_frozen(cold_start):
    assert cold_start["gc_enabled"] is True
    assert cold_start["frozen"] is True
    assert cold_start["rule_classes"] == ["LazyBuilderRule"]


def test_marshmallow_email_regexes_compile_on_first_use(cold_start):
    assert cold_start["email_regexes"] == ["LazyPattern", "LazyPattern"]


def test_lazy_email_regexes_validate_like_compiled_ones():
    email = marshmallow.validate.Email()
    assert email("alice@example.com") == "alice@example.com"
    for bad in ("alice@", "@example.com", "alice@@example.com", "al ice@example.com"):
        with pytest.raises(marshmallow.ValidationError, match="Not a valid email address"):
            email(bad)
    pattern = LazyPattern(r"^[a-z]+$", 0)
    assert pattern.match("abc") and not pattern.match("ab1")
    assert pattern.pattern == "^[a-z]+$"
    with pytest.raises(AttributeError):
        pattern.__isabstractmethod__  # noqa: B018 - probing must not compile the pattern
    assert pattern._pattern is not None  # compiled by the first match, then reused


def test_urls_are_built_on_first_use_exactly_as_werkzeug_builds_them():
    app = make_app(indexes=False)
    wallet_id = "65f1c0ffee0123456789abcd"
    with app.test_request_context():
        assert url_for("wallets.get_wallet", wallet_id=wallet_id) == f"/api/wallets/{wallet_id}"
        assert url_for("wallets.get_wallet", wallet_id=wallet_id, page=2) == (
            f"/api/wallets/{wallet_id}?page=2"
        )
        assert url_for("health.health", _external=True) == "http://localhost/health"
        # Built once, then the generated builder itself is kept on the rule.
        rule = next(app.url_map.iter_rules("wallets.get_wallet"))
        assert "build_on_first_use" not in rule._build_unknown.__func__.__qualname__
        assert "build_on_first_use" in rule._build.__func__.__qualname__  # never needed yet
