"""Work a Lambda cold start would pay for nothing, deferred to the moment it is needed.

Imported first by ``finance/__init__.py``, before anything imports marshmallow.
"""

from __future__ import annotations

import re
import sys
from typing import Any

_compile = re.compile


class LazyPattern:
    """A regular expression compiled on first use; answers like the ``re.Pattern`` it wraps."""

    __slots__ = ("_args", "_pattern")

    def __init__(self, pattern: str, flags: int) -> None:
        self._args = (pattern, flags)
        self._pattern: re.Pattern | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # ABCMeta probing __isabstractmethod__ must not compile it
            raise AttributeError(name)
        if self._pattern is None:
            self._pattern = _compile(*self._args)
        return getattr(self._pattern, name)


def import_marshmallow() -> None:
    """Import marshmallow with ``marshmallow.validate``'s class-level regexes compiled lazily.

    Its ``Email`` validator compiles two patterns with a ``\\u00a1-\\uffff`` class
    under ``IGNORECASE`` while the module is imported: about 50 ms of CPU, a tenth of
    a cold start, although only the registration schema's e-mail field ever uses
    them. ``re.compile`` answers a :class:`LazyPattern` to that module only, and only
    while it is being imported.
    """
    if "marshmallow.validate" in sys.modules:
        return

    def compile_lazily_for_validate(pattern, flags=0):
        if sys._getframe(1).f_globals.get("__name__") == "marshmallow.validate":
            return LazyPattern(pattern, flags)
        return _compile(pattern, flags)

    re.compile = compile_lazily_for_validate
    try:
        import marshmallow.validate  # noqa: F401 - imported for its side effect
    finally:
        re.compile = _compile
