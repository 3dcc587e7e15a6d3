"""URL converters shared by every blueprint."""

from __future__ import annotations

from werkzeug.routing import BaseConverter

OBJECT_ID_PATTERN = r"[0-9a-fA-F]{24}"


class ObjectIdConverter(BaseConverter):
    """``<objectid:name>``: 24 hex digits only, so ``/things/export`` never reads as an id."""

    regex = OBJECT_ID_PATTERN


def objectid_schema(_converter: ObjectIdConverter) -> dict[str, str]:
    return {"type": "string", "pattern": f"^{OBJECT_ID_PATTERN}$"}
