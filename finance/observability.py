"""Structured JSON logs on stdout (CloudWatch-ready) with the request id on every line."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import simplejson
from flask import g, has_app_context

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
# Never let a credential reach the logs, whatever a caller passes in ``extra``.
_REDACTED = {
    "authorization", "token", "id_token", "api_key", "google_api_key", "password", "secret",
}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_app_context() else None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key in _STANDARD or key.startswith("_"):
                continue
            entry[key] = "[redacted]" if key.lower() in _REDACTED else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return simplejson.dumps(entry, default=str, use_decimal=True, ensure_ascii=False)


class StdoutHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout`` is at the time (Lambda's runtime, a test's capture)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)

    @property
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure_logging(level: str) -> None:
    """Give the ``finance`` logger one JSON handler on stdout; safe to call repeatedly."""
    logger = logging.getLogger("finance")
    logger.setLevel(level)
    logger.propagate = False
    if not any(getattr(h, "_finance_json", False) for h in logger.handlers):
        handler = StdoutHandler()
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        handler._finance_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
