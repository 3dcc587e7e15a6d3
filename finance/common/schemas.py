"""Schema fields shared across domains."""

from __future__ import annotations

import marshmallow as ma


class TrimmedString(ma.fields.String):
    """A string with surrounding whitespace removed; blank becomes empty (for Length to catch)."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip()
