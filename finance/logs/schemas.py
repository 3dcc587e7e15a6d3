"""The client's log-shipping batch: lenient about extra fields, strict about shapes."""

from __future__ import annotations

import marshmallow as ma

LEVELS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "log": "INFO",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "fatal": "CRITICAL",
    "critical": "CRITICAL",
}


class Level(ma.fields.String):
    """A client level name, any case, mapped to a Python logging level name."""

    default_error_messages = {"level": f"Must be one of {', '.join(LEVELS)}."}

    def _deserialize(self, value, attr, data, **kwargs):
        name = super()._deserialize(value, attr, data, **kwargs).strip().lower()
        if name not in LEVELS:
            raise self.make_error("level")
        return name


def _text(description: str, example: str | None = None) -> ma.fields.String:
    metadata = {"description": description}
    if example is not None:
        metadata["example"] = example
    return ma.fields.String(load_default=None, allow_none=True, metadata=metadata)


class LogEntrySchema(ma.Schema):
    """One client log entry. Unknown fields are ignored; long fields are truncated, not refused."""

    class Meta:
        unknown = ma.EXCLUDE

    timestamp = _text("When the client logged it (kept as sent).", "2025-03-31T12:00:00.000Z")
    level = Level(
        load_default="info",
        metadata={"enum": list(LEVELS), "description": "Case-insensitive.", "example": "error"},
    )
    source = _text("The part of the client that logged it.", "TransactionUpload")
    category = _text("A free grouping label.", "upload")
    message = ma.fields.String(
        required=True,
        metadata={"description": "Truncated beyond 4 KB.", "example": "Upload failed: 413"},
    )
    user_id = _text("The client's idea of the user (unverified).", "65f1c0ffee0123456789abcd")
    email = _text("Reduced to its domain before logging.", "ada@example.com")
    context = ma.fields.Raw(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "Any JSON. Keys that look like credentials (token, password, secret, "
                "authorization, cookie, api key) are dropped; truncated beyond 8 KB."
            ),
            "example": {"status": 413, "file": "statement.csv"},
        },
    )
    environment = _text("The client's build environment.", "production")


class LogBatchSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    logs = ma.fields.List(
        ma.fields.Nested(LogEntrySchema),
        required=True,
        metadata={"description": "At most MAX_LOG_BATCH entries (default 100) per request."},
    )


class LogResultSchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"example": "success"})
    message = ma.fields.String(required=True, metadata={"example": "Logged 2 entries."})
    count = ma.fields.Integer(required=True, metadata={"example": 2})
